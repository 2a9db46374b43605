using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels;
using ModelGen.Runtime.Memory;

namespace ModelGen.Runtime;

/// <summary>
/// Runs an <see cref="ExecutionPlan"/>. Construction binds a kernel to every step (checking
/// attributes and shapes, pre-computing everything it can) and allocates the arena; after that
/// <see cref="Run"/>, <see cref="SetInput{T}"/> and <see cref="GetOutput{T}"/> allocate nothing.
/// The optimizer's interpreter, the tests and the generated predictors all use this class.
/// An executor is for one thread at a time; many executors may share one <see cref="ModelWeights"/>.
/// </summary>
public sealed unsafe class PlanExecutor : IModelExecutor
{
    private readonly ExecutionPlan _plan;
    private readonly ModelWeights _weights;
    private readonly NativeBuffer _arena;
    private readonly List<NativeBuffer> _scratch = new();
    private readonly StepWorkspace _workspace = new();
    private readonly Kernel[] _kernels;
    private readonly ParallelCopy _copy = new();
    private bool _disposed;

    /// <summary>Binds kernels for every step and allocates the arena.</summary>
    /// <exception cref="ModelGenException">A step's op or attributes are not supported.</exception>
    public PlanExecutor(ExecutionPlan plan, ModelWeights weights)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(weights);
        ExecutorErrors.RequireWeights(plan, weights);
        _plan = plan;
        _weights = weights;
        try
        {
            _arena = new NativeBuffer(plan.ArenaBytes);
        }
        catch (OutOfMemoryException e)
        {
            throw new ModelGenException($"Cannot allocate the plan's {plan.ArenaBytes}-byte arena: out of memory.", e);
        }
        _kernels = new Kernel[plan.Steps.Length];
        try
        {
            for (int i = 0; i < plan.Steps.Length; i++)
            {
                var context = new BindContext(plan, i, _arena.Pointer, weights, _scratch, _workspace);
                _kernels[i] = KernelFactory.Create(context);
            }
            _workspace.Commit();
        }
        catch
        {
            FreeMemory();
            throw;
        }
    }

    /// <summary>The plan being run.</summary>
    public ExecutionPlan Plan => _plan;

    /// <summary>Copies graph input <paramref name="index"/> into the arena.</summary>
    /// <exception cref="ArgumentException">The span's length is not the input's element count, or <typeparamref name="T"/> is not its element type.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SetInput<T>(int index, ReadOnlySpan<T> data) where T : unmanaged
    {
        ThrowIfDisposed();
        if ((uint)index >= (uint)_plan.Inputs.Length) ExecutorErrors.Index(index, _plan.Inputs.Length, "input");
        var slot = _plan.Slots[_plan.Inputs[index]];
        Check<T>(slot, data.Length, "input");
        if (slot.Storage != SlotStorage.Arena) ExecutorErrors.ConstantInput(slot);
        fixed (T* source = data)
        {
            _copy.Copy(source, _arena.Pointer + slot.Offset, slot.ByteLength);
        }
    }

    /// <summary>Copies graph input <paramref name="index"/> into the arena from raw bytes of its element type.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is not the input's byte length.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SetInput(int index, ReadOnlySpan<byte> data)
    {
        ThrowIfDisposed();
        if ((uint)index >= (uint)_plan.Inputs.Length) ExecutorErrors.Index(index, _plan.Inputs.Length, "input");
        var slot = _plan.Slots[_plan.Inputs[index]];
        if (data.Length != slot.ByteLength) ExecutorErrors.ByteLength(slot, data.Length, "input");
        if (slot.Storage != SlotStorage.Arena) ExecutorErrors.ConstantInput(slot);
        fixed (byte* source = data)
        {
            _copy.Copy(source, _arena.Pointer + slot.Offset, data.Length);
        }
    }

    /// <summary>Copies graph output <paramref name="index"/> out as raw bytes of its element type.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not the output's byte length.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void GetOutput(int index, Span<byte> destination)
    {
        ThrowIfDisposed();
        if ((uint)index >= (uint)_plan.Outputs.Length) ExecutorErrors.Index(index, _plan.Outputs.Length, "output");
        var slot = _plan.Slots[_plan.Outputs[index]];
        if (destination.Length != slot.ByteLength) ExecutorErrors.ByteLength(slot, destination.Length, "output");
        byte* source = (slot.Storage == SlotStorage.Weights ? _weights.Pointer : _arena.Pointer) + slot.Offset;
        fixed (byte* target = destination)
        {
            _copy.Copy(source, target, destination.Length);
        }
    }

    /// <summary>Runs every step once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run()
    {
        ThrowIfDisposed();
        var kernels = _kernels;
        for (int i = 0; i < kernels.Length; i++) kernels[i].Execute();
    }

    /// <summary>
    /// Runs every step once, like <see cref="Run"/>, and adds each step's elapsed
    /// <see cref="System.Diagnostics.Stopwatch"/> ticks to <paramref name="stepTicks"/> (one entry
    /// per step, in plan order): the per-kernel profile the benchmark's <c>--profile</c> mode prints.
    /// Allocates nothing; <see cref="Run"/> itself carries no timing code.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="stepTicks"/> does not have one entry per step.</exception>
    public void RunProfiled(Span<long> stepTicks) => RunProfiled(stepTicks, System.Diagnostics.Stopwatch.GetTimestamp);

    /// <summary>
    /// <see cref="RunProfiled(Span{long})"/> with another clock, e.g. the calling thread's CPU time, which
    /// other processes on the machine do not inflate (for a single-threaded run).
    /// </summary>
    /// <param name="stepTicks">One entry per step; each step's clock difference is added to its entry.</param>
    /// <param name="clock">Returns the current time in the caller's unit.</param>
    public void RunProfiled(Span<long> stepTicks, Func<long> clock)
    {
        ThrowIfDisposed();
        ArgumentNullException.ThrowIfNull(clock);
        var kernels = _kernels;
        if (stepTicks.Length != kernels.Length) throw new ArgumentException($"expected {kernels.Length} entries, one per step", nameof(stepTicks));
        long last = clock();
        for (int i = 0; i < kernels.Length; i++)
        {
            kernels[i].Execute();
            long now = clock();
            stepTicks[i] += now - last;
            last = now;
        }
    }

    /// <summary>Copies graph output <paramref name="index"/> out of the arena (or weights, for a constant output).</summary>
    /// <exception cref="ArgumentException">The span's length is not the output's element count, or <typeparamref name="T"/> is not its element type.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void GetOutput<T>(int index, Span<T> destination) where T : unmanaged
    {
        ThrowIfDisposed();
        if ((uint)index >= (uint)_plan.Outputs.Length) ExecutorErrors.Index(index, _plan.Outputs.Length, "output");
        var slot = _plan.Slots[_plan.Outputs[index]];
        Check<T>(slot, destination.Length, "output");
        byte* source = (slot.Storage == SlotStorage.Weights ? _weights.Pointer : _arena.Pointer) + slot.Offset;
        fixed (T* target = destination)
        {
            _copy.Copy(source, target, slot.ByteLength);
        }
    }

    /// <summary>
    /// The bytes of any slot after <see cref="Run"/> (for the optimizer's interpreter and tests);
    /// valid until the next <see cref="Run"/> or <see cref="Dispose"/>.
    /// </summary>
    public ReadOnlySpan<byte> SlotBytes(int slotId)
    {
        ThrowIfDisposed();
        var slot = _plan.Slots[slotId];
        byte* source = (slot.Storage == SlotStorage.Weights ? _weights.Pointer : _arena.Pointer) + slot.Offset;
        return new ReadOnlySpan<byte>(source, checked((int)slot.ByteLength));
    }

    /// <summary>Frees the arena and scratch memory; idempotent. Does not free the shared weights.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        FreeMemory();
    }

    private void FreeMemory()
    {
        _arena.Dispose();
        _workspace.Dispose();
        foreach (var buffer in _scratch) buffer.Dispose();
        _scratch.Clear();
    }

    private void ThrowIfDisposed()
    {
        if (_disposed) ExecutorErrors.Disposed(nameof(PlanExecutor));
    }


    private static void Check<T>(TensorSlot slot, int length, string role) where T : unmanaged
    {
        if (!ElementTypeOf<T>.Matches(slot.Type)) ThrowType<T>(slot, role);
        if (length != slot.ElementCount) ThrowLength(slot, length, role);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowType<T>(TensorSlot slot, string role) => throw new ArgumentException(
        $"Graph {role} '{slot.Name}' holds {slot.Type.ToOnnxName()} elements; a span of {typeof(T).Name} cannot be used for it.");

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowLength(TensorSlot slot, int length, string role) => throw new ArgumentException(
        $"Graph {role} '{slot.Name}' has shape {BindContext.ShapeText(slot.Shape)} = {slot.ElementCount} elements, but the span has {length}.");



}

/// <summary>Which plan element types a CLR type may stand for (decided once per type).</summary>
internal static class ElementTypeOf<T> where T : unmanaged
{
    private static readonly ElementType[] Types = Compute();

    public static bool Matches(ElementType type) => Array.IndexOf(Types, type) >= 0;

    private static ElementType[] Compute()
    {
        if (typeof(T) == typeof(float)) return [ElementType.Float];
        if (typeof(T) == typeof(double)) return [ElementType.Double];
        if (typeof(T) == typeof(Half)) return [ElementType.Float16];
        if (typeof(T) == typeof(long)) return [ElementType.Int64];
        if (typeof(T) == typeof(ulong)) return [ElementType.UInt64];
        if (typeof(T) == typeof(int)) return [ElementType.Int32];
        if (typeof(T) == typeof(uint)) return [ElementType.UInt32];
        if (typeof(T) == typeof(short)) return [ElementType.Int16];
        // The narrow types move as their raw codes: bfloat16 as ushort, the one-byte ones as sbyte/byte.
        if (typeof(T) == typeof(ushort)) return [ElementType.UInt16, ElementType.BFloat16];
        if (typeof(T) == typeof(sbyte)) return [ElementType.Int8, ElementType.Int4, ElementType.Int2];
        if (typeof(T) == typeof(byte))
        {
            return [ElementType.UInt8, ElementType.Bool, ElementType.Float8E4M3FN, ElementType.Float8E4M3FNUZ, ElementType.Float8E5M2,
                ElementType.Float8E5M2FNUZ, ElementType.Float8E8M0, ElementType.Float4E2M1, ElementType.UInt4, ElementType.UInt2,
                ElementType.Int4, ElementType.Int2];
        }
        if (typeof(T) == typeof(bool)) return [ElementType.Bool];
        return [];
    }
}
