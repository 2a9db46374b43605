using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels.Elementwise;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>GlobalAveragePool / GlobalMaxPool: one value per (image, channel) over all spatial positions.</summary>
internal sealed unsafe class GlobalPoolKernel : Kernel
{
    private readonly bool _max;
    private readonly float* _x;
    private readonly float* _y;
    private readonly long _planes;
    private readonly int _size;

    public GlobalPoolKernel(BindContext context, bool max)
    {
        _max = max;
        var xs = context.Input(0).Shape;
        if (xs.Length < 2) throw context.Fail($"input {BindContext.ShapeText(xs)} must be [N,C,...]");
        _planes = (long)xs[0] * xs[1];
        if (context.Output(0).ElementCount != _planes) throw context.Fail($"output must have N*C = {_planes} elements");
        _size = checked((int)(context.Input(0).ElementCount / Math.Max(_planes, 1)));
        _x = context.FloatInput(0);
        _y = context.FloatOutput(0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        for (long p = 0; p < _planes; p++)
        {
            float* plane = _x + p * _size;
            _y[p] = _max ? Reductions.Max(plane, _size) : Reductions.Sum(plane, _size) / _size;
        }
    }
}
