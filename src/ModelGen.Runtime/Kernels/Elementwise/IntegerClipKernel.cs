using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Elementwise;

/// <summary>
/// Clip (opset 12+) on a non-float tensor: y = min(max(x, min), max), the optional bounds being
/// one-value inputs of x's type, read on every run since they may be computed. Values pass
/// through double, exact for every type but 64-bit integers above 2^53.
/// </summary>
internal sealed unsafe class IntegerClipKernel : Kernel
{
    private readonly byte* _x, _y, _min, _max;
    private readonly long _count;
    private readonly delegate*<byte*, long, double> _read;
    private readonly delegate*<byte*, long, double, void> _write;

    public IntegerClipKernel(BindContext context)
    {
        var type = context.Input(0).Type;
        context.RequireType(0, type, input: false);
        for (int i = 1; i <= 2; i++)
        {
            if (!context.HasInput(i)) continue;
            context.RequireType(i, type, input: true);
            if (context.Input(i).ElementCount != 1) throw context.Fail($"Clip bound input {i} must be a scalar");
        }
        _x = context.InputPtr(0);
        _y = context.OutputPtr(0);
        if (context.HasInput(1)) _min = context.InputPtr(1);
        if (context.HasInput(2)) _max = context.InputPtr(2);
        _count = context.Input(0).ElementCount;
        _read = ElementAccess.Reader(type, context);
        _write = ElementAccess.Writer(type, context);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        double lo = _min != null ? _read(_min, 0) : double.NegativeInfinity;
        double hi = _max != null ? _read(_max, 0) : double.PositiveInfinity;
        for (long i = 0; i < _count; i++) _write(_y, i, Math.Min(Math.Max(_read(_x, i), lo), hi));
    }
}
