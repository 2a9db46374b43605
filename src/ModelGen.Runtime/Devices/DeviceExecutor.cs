using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ModelGen.Runtime.Kernels;
using ModelGen.Runtime.Memory;

namespace ModelGen.Runtime.Devices;

/// <summary>
/// Runs a whole <see cref="ExecutionPlan"/> on an ILGPU accelerator (docs/gpu.md). Construction
/// binds every step to pre-configured kernel launches, allocates one device buffer (the arena,
/// then the fp32 weights the device steps read) and uploads the weights; after that
/// <see cref="Run"/> only launches, on the executor's own stream. <see cref="SetInput"/>,
/// <see cref="Run"/> and <see cref="GetOutput"/> allocate no managed memory (<see cref="HostCopy"/>,
/// <see cref="CpuTaskLaunch"/>).
/// A step without a device kernel runs on the CPU kernel: its arena inputs are copied to a host
/// mirror of the arena, the CPU kernel runs there, and its outputs are copied back.
/// </summary>
internal sealed unsafe class DeviceExecutor : IModelExecutor
{
    private readonly ExecutionPlan _plan;
    private readonly ModelWeights _weights;
    private readonly DeviceContext _device;
    private readonly AcceleratorStream _stream;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _memory;
    private readonly ArrayView<float> _view;
    private readonly HostCopy _copy = null!;
    private readonly Step[] _steps;
    private readonly NativeBuffer? _hostArena;
    private readonly List<NativeBuffer> _scratch = new();
    private readonly StepWorkspace _workspace = new();
    private bool _disposed;

    /// <summary>A step: device launches, or a CPU kernel with the arena ranges it reads and writes.</summary>
    private sealed class Step
    {
        public BoundLaunch[] Launches = [];
        public Kernels.Kernel? Cpu;
        public (long Offset, long Bytes)[] Reads = [];
        public (long Offset, long Bytes)[] Writes = [];
    }

    /// <exception cref="ModelGenException">A step cannot run on either the device or the CPU.</exception>
    public DeviceExecutor(ExecutionPlan plan, ModelWeights weights, DeviceContext device)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(weights);
        ExecutorErrors.RequireWeights(plan, weights);
        _plan = plan;
        _weights = weights;
        _device = device;
        var binder = new DeviceBinder(plan, weights, device);
        _steps = new Step[plan.Steps.Length];
        var fallbacks = new List<int>();
        var unbound = new List<DeviceLaunch>?[plan.Steps.Length];
        for (int i = 0; i < plan.Steps.Length; i++)
        {
            unbound[i] = binder.Bind(i, out _);
            _steps[i] = new Step();
            if (unbound[i] is null) fallbacks.Add(i);
        }
        FallbackSteps = fallbacks.Count;
        try
        {
            if (fallbacks.Count > 0)
            {
                _hostArena = new NativeBuffer(plan.ArenaBytes);
                foreach (int i in fallbacks) BindCpu(i);
                _workspace.Commit();
            }
            if (binder.TotalFloats >= int.MaxValue)
            {
                throw new ModelGenException($"The plan needs {binder.TotalFloats * 4} bytes of device memory; the device executor addresses at most 8 GB.");
            }
            _memory = device.Accelerator.Allocate1D<float>(Math.Max(binder.TotalFloats, 16));
            _view = _memory.View;
            _stream = device.Accelerator.CreateStream();
            _copy = HostCopy.Create(_memory, _view.Cast<byte>(), _stream);
            for (int i = 0; i < _steps.Length; i++)
            {
                _steps[i].Launches = unbound[i]?.Select(l => l.Bind(_stream, _view)).ToArray() ?? [];
            }
            var staged = new float[binder.TotalFloats - binder.ArenaFloats];
            binder.CopyStaged(staged);
            if (staged.Length > 0) _view.SubView(binder.ArenaFloats, staged.Length).CopyFromCPU(_stream, staged);
            _stream.Synchronize();
        }
        catch
        {
            FreeMemory();
            throw;
        }
    }

    /// <summary>How many steps run on the CPU (no device kernel for them).</summary>
    public int FallbackSteps { get; }

    /// <summary>The device the plan runs on.</summary>
    public string DeviceName => _device.Name;

    private void BindCpu(int index)
    {
        var context = new BindContext(_plan, index, _hostArena!.Pointer, _weights, _scratch, _workspace);
        var step = _steps[index];
        step.Cpu = KernelFactory.Create(context);
        step.Reads = Ranges(_plan.Steps[index].Inputs);
        step.Writes = Ranges(_plan.Steps[index].Outputs);
    }

    private (long, long)[] Ranges(int[] slots) => slots
        .Where(id => id >= 0 && _plan.Slots[id].Storage == SlotStorage.Arena && _plan.Slots[id].ByteLength > 0)
        .Select(id => (_plan.Slots[id].Offset, _plan.Slots[id].ByteLength))
        .Distinct()
        .ToArray();

    /// <inheritdoc />
    public void SetInput(int index, ReadOnlySpan<byte> data)
    {
        ThrowIfDisposed();
        var slot = Slot(_plan.Inputs, index, "input");
        if (data.Length != slot.ByteLength) ExecutorErrors.ByteLength(slot, data.Length, "input");
        if (slot.Storage != SlotStorage.Arena) ExecutorErrors.ConstantInput(slot);
        if (data.Length > 0) _copy.Upload(slot.Offset, data);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run()
    {
        ThrowIfDisposed();
        var steps = _steps;
        for (int i = 0; i < steps.Length; i++)
        {
            var step = steps[i];
            if (step.Cpu is null)
            {
                var launches = step.Launches;
                for (int j = 0; j < launches.Length; j++) launches[j].Launch();
            }
            else
            {
                RunOnCpu(step);
            }
        }
    }

    private void RunOnCpu(Step step)
    {
        byte* host = _hostArena!.Pointer;
        // The copies are synchronous: the host arena holds the inputs before the kernel runs, and
        // the device holds its outputs before the next step (or CPU step) touches either.
        foreach (var (offset, bytes) in step.Reads)
        {
            _copy.Download(offset, new Span<byte>(host + offset, checked((int)bytes)));
        }
        step.Cpu!.Execute();
        foreach (var (offset, bytes) in step.Writes)
        {
            _copy.Upload(offset, new ReadOnlySpan<byte>(host + offset, checked((int)bytes)));
        }
    }

    /// <inheritdoc />
    public void GetOutput(int index, Span<byte> destination)
    {
        ThrowIfDisposed();
        var slot = Slot(_plan.Outputs, index, "output");
        if (destination.Length != slot.ByteLength) ExecutorErrors.ByteLength(slot, destination.Length, "output");
        if (slot.Storage == SlotStorage.Weights)
        {
            new ReadOnlySpan<byte>(_weights.Pointer + slot.Offset, destination.Length).CopyTo(destination);
            return;
        }
        if (destination.Length > 0) _copy.Download(slot.Offset, destination);
    }

    /// <summary>Frees the device buffer, the stream and the host memory; idempotent. The shared device stays.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        FreeMemory();
    }

    private void FreeMemory()
    {
        _stream?.Dispose();
        _memory?.Dispose();
        _hostArena?.Dispose();
        _workspace.Dispose();
        foreach (var buffer in _scratch) buffer.Dispose();
        _scratch.Clear();
    }

    private TensorSlot Slot(int[] ids, int index, string role)
    {
        if ((uint)index >= (uint)ids.Length) ExecutorErrors.Index(index, ids.Length, role);
        return _plan.Slots[ids[index]];
    }

    private void ThrowIfDisposed()
    {
        if (_disposed) ExecutorErrors.Disposed(nameof(DeviceExecutor));
    }




}
