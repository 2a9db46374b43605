using System.Runtime.CompilerServices;
using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Kernels.Elementwise;

/// <summary>
/// A broadcasting fp32 binary operator (Add, Sub, Mul, Div, Max, Min, Pow) and, chained over its
/// inputs, the variadic Sum / Max / Min / Mean: output = op(...op(op(x0, x1), x2)..., xn).
/// </summary>
internal sealed unsafe class BinaryKernel<TOp> : Kernel, IParallelWork where TOp : struct, IBinaryOp
{
    private readonly TOp _op;
    private readonly float*[] _inputs;
    private readonly BroadcastPlan[] _plans;
    private readonly float* _y;
    private readonly long _n;
    private readonly float _finalScale;
    private readonly int _parts;
    private int _stage;

    /// <param name="context">The step being bound.</param>
    /// <param name="op">The operator.</param>
    /// <param name="finalScale">Multiplies the result at the end (1/n for Mean); 1 = none.</param>
    public BinaryKernel(BindContext context, TOp op, float finalScale = 1f)
    {
        _op = op;
        var y = context.Output(0);
        _y = context.FloatOutput(0);
        _n = y.ElementCount;
        _finalScale = finalScale;
        int count = context.InputCount;
        if (count == 0) throw context.Fail("needs at least one input");
        _inputs = new float*[count];
        for (int i = 0; i < count; i++)
        {
            _inputs[i] = context.FloatInput(i);
            // The output is written by stage 0 before later stages read their inputs: they must not share memory.
            if (i >= 2 && context.Input(i).Storage == SlotStorage.Arena && Overlaps(context.Input(i), y))
            {
                throw context.Fail($"input {i} ('{context.Input(i).Name}') shares arena memory with the output; the memory planner must keep them apart");
            }
        }
        if (count == 1)
        {
            _plans = [BroadcastPlan.Create(context.Input(0).Shape, context.Input(0).Shape, y.Shape, context)];
        }
        else
        {
            _plans = new BroadcastPlan[count - 1];
            _plans[0] = BroadcastPlan.Create(context.Input(0).Shape, context.Input(1).Shape, y.Shape, context);
            for (int i = 2; i < count; i++) _plans[i - 1] = BroadcastPlan.Create(y.Shape, context.Input(i).Shape, y.Shape, context);
        }
        _parts = _n >= UnaryKernel<ReluOp>.ParallelThreshold ? WorkerPool.Shared.Concurrency : 1;
    }

    private static bool Overlaps(TensorSlot a, TensorSlot b) =>
        a.Offset < b.Offset + b.ByteLength && b.Offset < a.Offset + a.ByteLength;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        if (_inputs.Length == 1)
        {
            if (_inputs[0] != _y) Buffer.MemoryCopy(_inputs[0], _y, _n * 4, _n * 4);
        }
        else
        {
            for (_stage = 0; _stage < _plans.Length; _stage++)
            {
                if (_parts > 1) WorkerPool.Shared.Run(this, _parts);
                else RunStage(_stage, 0, 1);
            }
        }
        if (_finalScale != 1f) UnaryLoop.Run(new ScaleOp(_finalScale), _y, _y, _n);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part, int parts) => RunStage(_stage, part, parts);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunStage(int stage, int part, int parts)
    {
        var plan = _plans[stage];
        float* a = stage == 0 ? _inputs[0] : _y;
        float* b = _inputs[stage + 1];
        long inner = plan.Inner;
        if (plan.Rows == 1)
        {
            // One long row: split it by elements.
            // Part edges on 64-element boundaries, so no cache line of the output is written by two cores.
            long Edge(int p) => p >= parts ? inner : Math.Min(inner, (WorkerPool.Split(inner, p, parts) + 63) & ~63L);
            long begin = Edge(part), end = Edge(part + 1);
            Row(plan, a + plan.AOffsets[0] + (plan.AContiguous ? begin : 0), b + plan.BOffsets[0] + (plan.BContiguous ? begin : 0), _y + begin, end - begin);
            return;
        }
        long rowBegin = WorkerPool.Split(plan.Rows, part, parts);
        long rowEnd = WorkerPool.Split(plan.Rows, part + 1, parts);
        long[] ao = plan.AOffsets, bo = plan.BOffsets;
        for (long r = rowBegin; r < rowEnd; r++) Row(plan, a + ao[r], b + bo[r], _y + r * inner, inner);
    }

    private void Row(BroadcastPlan plan, float* a, float* b, float* y, long n)
    {
        if (plan.AContiguous)
        {
            if (plan.BContiguous) BinaryLoop.VectorVector(_op, a, b, y, n);
            else BinaryLoop.VectorScalar(_op, a, *b, y, n);
        }
        else if (plan.BContiguous)
        {
            BinaryLoop.ScalarVector(_op, *a, b, y, n);
        }
        else
        {
            float v = _op.Invoke(*a, *b);
            new Span<float>(y, checked((int)n)).Fill(v);
        }
    }
}

/// <summary>x * s, for Mean's final division.</summary>
internal readonly struct ScaleOp(float s) : IUnaryOp
{
    public float Invoke(float x) => x * s;
    public System.Runtime.Intrinsics.Vector128<float> Invoke(System.Runtime.Intrinsics.Vector128<float> x) => x * s;
    public System.Runtime.Intrinsics.Vector256<float> Invoke(System.Runtime.Intrinsics.Vector256<float> x) => x * s;
    public System.Runtime.Intrinsics.Vector512<float> Invoke(System.Runtime.Intrinsics.Vector512<float> x) => x * s;
}
