using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Elementwise;

/// <summary>
/// Pow (opset 12+) where the base, the exponent or the result is not float: Z = X ^ Y with numpy
/// broadcasting and Z of X's type. Integer ^ non-negative integer is exact (repeated squaring,
/// wrapping like numpy); any other pair is computed in double and converted to Z's type
/// (truncating toward zero for integers), as numpy's type promotion does.
/// </summary>
internal sealed unsafe class MixedPowKernel : Kernel
{
    private readonly byte* _a, _b, _y;
    private readonly delegate*<byte*, long, double> _readA, _readB;
    private readonly delegate*<byte*, long, double, void> _write;
    private readonly bool _integers;
    private readonly BroadcastPlan _plan;

    public MixedPowKernel(BindContext context)
    {
        var a = context.Input(0).Type;
        var b = context.Input(1).Type;
        context.RequireType(0, a, input: false);
        _readA = ElementAccess.Reader(a, context);
        _readB = ElementAccess.Reader(b, context);
        _write = ElementAccess.Writer(a, context);
        _integers = ElementAccess.TryIntegerRange(a, out _, out _) || a is ElementType.Int64 or ElementType.UInt64;
        _integers &= ElementAccess.TryIntegerRange(b, out _, out _) || b is ElementType.Int64 or ElementType.UInt64;
        _a = context.InputPtr(0);
        _b = context.InputPtr(1);
        _y = context.OutputPtr(0);
        _plan = BroadcastPlan.Create(context.Input(0).Shape, context.Input(1).Shape, context.Output(0).Shape, context);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        long inner = _plan.Inner;
        long sa = _plan.AContiguous ? 1 : 0, sb = _plan.BContiguous ? 1 : 0;
        for (long r = 0; r < _plan.Rows; r++)
        {
            long a0 = _plan.AOffsets[r], b0 = _plan.BOffsets[r], y0 = r * inner;
            for (long i = 0; i < inner; i++)
            {
                double x = _readA(_a, a0 + i * sa), e = _readB(_b, b0 + i * sb);
                _write(_y, y0 + i, _integers && e >= 0 ? IntegerPower((long)x, (long)e) : Math.Pow(x, e));
            }
        }
    }

    private static double IntegerPower(long x, long e)
    {
        long result = 1;
        while (e > 0)
        {
            if ((e & 1) != 0) result = unchecked(result * x);
            x = unchecked(x * x);
            e >>= 1;
        }
        return result;
    }
}
