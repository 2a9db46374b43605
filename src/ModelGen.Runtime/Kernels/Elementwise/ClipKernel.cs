using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Elementwise;

/// <summary>
/// Clip whose bounds (opset ≥ 11 inputs 1 and 2) are computed at run time, so they are read from
/// the arena on every run. Constant bounds use <see cref="UnaryKernel{TOp}"/> with <see cref="ClipOp"/>.
/// </summary>
internal sealed unsafe class DynamicClipKernel : Kernel
{
    private readonly float* _x, _y, _min, _max;
    private readonly long _n;

    public DynamicClipKernel(BindContext context)
    {
        _x = context.FloatInput(0);
        _y = context.FloatOutput(0);
        _n = context.Input(0).ElementCount;
        if (context.HasInput(1)) _min = context.FloatInput(1);
        if (context.HasInput(2)) _max = context.FloatInput(2);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        float lo = _min != null ? *_min : float.NegativeInfinity;
        float hi = _max != null ? *_max : float.PositiveInfinity;
        UnaryLoop.Run(new ClipOp(lo, hi), _x, _y, _n);
    }
}
