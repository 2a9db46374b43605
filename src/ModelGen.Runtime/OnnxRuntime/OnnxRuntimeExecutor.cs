using System.Runtime.CompilerServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ModelGen.Runtime.Memory;

namespace ModelGen.Runtime.OnnxRuntime;

/// <summary>
/// Runs a model through ONNX Runtime behind the same <see cref="IModelExecutor"/> surface as the
/// compiled plan. The plan has only the graph's input and output slots (no steps); their arena
/// becomes native memory that pre-made <c>OrtValue</c>s wrap and one <c>OrtIoBinding</c> binds
/// once, so <see cref="Run"/> is a single <c>RunWithBinding</c> and allocates nothing managed.
/// </summary>
public sealed unsafe class OnnxRuntimeExecutor : IModelExecutor
{
    private readonly ExecutionPlan _plan;
    private readonly OnnxRuntimeModel _model;
    private readonly NativeBuffer _arena;
    private readonly List<OrtValue> _values = new();
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions = new();
    private bool _disposed;

    /// <summary>Binds every input and output of <paramref name="plan"/> to ONNX Runtime once.</summary>
    /// <exception cref="ModelGenException">A slot's element type has no ONNX Runtime equivalent.</exception>
    public OnnxRuntimeExecutor(ExecutionPlan plan, OnnxRuntimeModel model)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(model);
        _plan = plan;
        _model = model;
        _arena = new NativeBuffer(plan.ArenaBytes);
        _binding = model.Session.CreateIoBinding();
        try
        {
            var memory = OrtMemoryInfo.DefaultInstance;
            foreach (int id in plan.Inputs) _binding.BindInput(plan.Slots[id].Name, Wrap(plan.Slots[id], memory));
            foreach (int id in plan.Outputs) _binding.BindOutput(plan.Slots[id].Name, Wrap(plan.Slots[id], memory));
            _binding.SynchronizeBoundInputs();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public void SetInput(int index, ReadOnlySpan<byte> data)
    {
        var slot = Slot(_plan.Inputs, index, data.Length, "input");
        data.CopyTo(new Span<byte>(_arena.Pointer + slot.Offset, data.Length));
    }

    /// <inheritdoc />
    public void Run()
    {
        if (_disposed) ExecutorErrors.Disposed(nameof(OnnxRuntimeExecutor));
        _model.Session.RunWithBinding(_runOptions, _binding);
    }

    /// <inheritdoc />
    public void GetOutput(int index, Span<byte> destination)
    {
        var slot = Slot(_plan.Outputs, index, destination.Length, "output");
        new ReadOnlySpan<byte>(_arena.Pointer + slot.Offset, destination.Length).CopyTo(destination);
    }

    /// <summary>Releases the binding, the OrtValues and the buffers; the shared session stays.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _binding.Dispose();
        foreach (var v in _values) v.Dispose();
        _values.Clear();
        _runOptions.Dispose();
        _arena.Dispose();
    }

    private OrtValue Wrap(TensorSlot slot, OrtMemoryInfo memory)
    {
        var value = OrtValue.CreateTensorValueWithData(
            memory, OrtType(slot), Array.ConvertAll(slot.Shape, d => (long)d), (IntPtr)(_arena.Pointer + slot.Offset), slot.ByteLength);
        _values.Add(value);
        return value;
    }

    private TensorSlot Slot(int[] ids, int index, int length, string role)
    {
        if (_disposed) ExecutorErrors.Disposed(nameof(OnnxRuntimeExecutor));
        if ((uint)index >= (uint)ids.Length) ExecutorErrors.Index(index, ids.Length, role);
        var slot = _plan.Slots[ids[index]];
        if (length != slot.ByteLength) ExecutorErrors.ByteLength(slot, length, role);
        return slot;
    }

    private static TensorElementType OrtType(TensorSlot slot) => slot.Type switch
    {
        ElementType.Float => TensorElementType.Float,
        ElementType.Double => TensorElementType.Double,
        ElementType.Float16 => TensorElementType.Float16,
        ElementType.BFloat16 => TensorElementType.BFloat16,
        ElementType.Int8 => TensorElementType.Int8,
        ElementType.UInt8 => TensorElementType.UInt8,
        ElementType.Int16 => TensorElementType.Int16,
        ElementType.UInt16 => TensorElementType.UInt16,
        ElementType.Int32 => TensorElementType.Int32,
        ElementType.UInt32 => TensorElementType.UInt32,
        ElementType.Int64 => TensorElementType.Int64,
        ElementType.UInt64 => TensorElementType.UInt64,
        ElementType.Bool => TensorElementType.Bool,
        _ => throw new ModelGenException($"Tensor '{slot.Name}' is {slot.Type.ToOnnxName()}, which the ONNX Runtime fallback cannot pass in or out."),
    };



}
