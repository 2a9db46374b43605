using System.Numerics;
using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Elementwise;

/// <summary>
/// Neg and Abs of signed integers, double and float16 (shape arithmetic in function bodies such as
/// LayerNormalization's, usually folded at build time): a scalar loop. Integer negation wraps, as in numpy.
/// </summary>
internal sealed unsafe class IntegerUnaryKernel<T> : Kernel where T : unmanaged, INumber<T>
{
    private readonly T* _x, _y;
    private readonly long _count;
    private readonly bool _abs;

    public IntegerUnaryKernel(BindContext c)
    {
        _abs = c.Step.Op == "Abs";
        c.RequireType(0, c.Input(0).Type, input: false);
        if (c.Output(0).ElementCount != c.Input(0).ElementCount) throw c.Fail("output and input sizes differ");
        _count = c.Input(0).ElementCount;
        _x = (T*)c.InputPtr(0);
        _y = (T*)c.OutputPtr(0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        for (long i = 0; i < _count; i++) _y[i] = _abs ? T.Abs(_x[i]) : -_x[i];
    }
}
