using System.Numerics;
using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Elementwise;

/// <summary>
/// Add, Sub, Mul, Div, Max, Min on integer, double or float16 tensors with broadcasting — mostly shape
/// arithmetic the optimizer folds at build time, so a plain scalar loop. Integer overflow wraps, as in numpy. Integer division by zero
/// fails with a message naming the step.
/// </summary>
internal sealed unsafe class IntegerBinaryKernel<T> : Kernel where T : unmanaged, INumber<T>
{
    private readonly T* _a, _b, _y;
    private readonly BroadcastPlan _plan;
    private readonly string _op;
    private readonly BindContext _context;

    public IntegerBinaryKernel(BindContext context)
    {
        _context = context;
        _op = context.Step.Op;
        if (context.InputCount != 2) throw context.Fail($"{_op} on {context.Input(0).Type.ToOnnxName()} supports exactly two inputs");
        var type = context.Input(0).Type;
        for (int i = 1; i < 2; i++) context.RequireType(i, type, input: true);
        context.RequireType(0, type, input: false);
        _a = (T*)context.InputPtr(0);
        _b = (T*)context.InputPtr(1);
        _y = (T*)context.OutputPtr(0);
        _plan = BroadcastPlan.Create(context.Input(0).Shape, context.Input(1).Shape, context.Output(0).Shape, context);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        long inner = _plan.Inner;
        for (long r = 0; r < _plan.Rows; r++)
        {
            T* a = _a + _plan.AOffsets[r];
            T* b = _b + _plan.BOffsets[r];
            T* y = _y + r * inner;
            long sa = _plan.AContiguous ? 1 : 0, sb = _plan.BContiguous ? 1 : 0;
            for (long i = 0; i < inner; i++) y[i] = Apply(a[i * sa], b[i * sb]);
        }
    }

    private T Apply(T a, T b)
    {
        switch (_op)
        {
            case "Add": return a + b;
            case "Sub": return a - b;
            case "Mul": return a * b;
            case "Max": return T.Max(a, b);
            case "Min": return T.Min(a, b);
            default:
                if (T.IsZero(b) && typeof(T) != typeof(double) && typeof(T) != typeof(Half)) throw _context.Fail("integer division by zero");
                return a / b;
        }
    }
}
