using System.Runtime.CompilerServices;
using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Kernels.Elementwise;

/// <summary>Applies a unary operator over a whole fp32 tensor (in place when the slots coincide).</summary>
internal sealed unsafe class UnaryKernel<TOp> : Kernel, IParallelWork where TOp : struct, IUnaryOp
{
    /// <summary>Below this many elements one thread is faster than waking the pool.</summary>
    internal const long ParallelThreshold = 1 << 18;

    private readonly TOp _op;
    private readonly float* _x;
    private readonly float* _y;
    private readonly long _n;
    private readonly int _parts;

    public UnaryKernel(BindContext context, TOp op)
    {
        _op = op;
        _x = context.FloatInput(0);
        _y = context.FloatOutput(0);
        _n = context.Input(0).ElementCount;
        if (context.Output(0).ElementCount != _n)
        {
            throw context.Fail($"output has {context.Output(0).ElementCount} elements but the input has {_n}");
        }
        _parts = _n >= ParallelThreshold ? WorkerPool.Shared.Concurrency : 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        if (_parts > 1) WorkerPool.Shared.Run(this, _parts);
        else UnaryLoop.Run(_op, _x, _y, _n);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part, int parts)
    {
        // Split on 64-element boundaries so no two parts share a cache line of output.
        long chunk = (_n / parts + 63) & ~63L;
        long begin = Math.Min(_n, part * chunk);
        long end = part == parts - 1 ? _n : Math.Min(_n, begin + chunk);
        UnaryLoop.Run(_op, _x + begin, _y + begin, end - begin);
    }
}
