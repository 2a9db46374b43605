using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Normalization;

/// <summary>
/// LRN across channels: y = x / (bias + alpha / size · Σ x²)^beta, the sum over channels
/// c - floor((size-1)/2) … c + ceil((size-1)/2), clipped to the valid channels.
/// </summary>
internal sealed unsafe class LrnKernel : Kernel
{
    private readonly float* _x, _y;
    private readonly float _alpha, _beta, _bias;
    private readonly int _size, _channels, _before, _after;
    private readonly long _batch, _spatial;

    public LrnKernel(BindContext context)
    {
        var shape = context.Input(0).Shape;
        if (shape.Length < 2) throw context.Fail($"input {BindContext.ShapeText(shape)} must be [N,C,...]");
        _size = (int)context.Step.GetInt("size", 0);
        if (_size < 1) throw context.Fail("attribute size is required and must be >= 1");
        _alpha = context.Step.GetFloat("alpha", 1e-4f);
        _beta = context.Step.GetFloat("beta", 0.75f);
        _bias = context.Step.GetFloat("bias", 1f);
        _before = (_size - 1) / 2;
        _after = _size - 1 - _before;
        _batch = shape[0];
        _channels = shape[1];
        _spatial = context.Input(0).ElementCount / Math.Max(1L * _batch * _channels, 1);
        _x = context.FloatInput(0);
        _y = context.FloatOutput(0);
        if (_x == _y) throw context.Fail("LRN cannot run in place (input and output share memory)");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        float scale = _alpha / _size;
        for (long n = 0; n < _batch; n++)
        {
            float* x = _x + n * _channels * _spatial;
            float* y = _y + n * _channels * _spatial;
            for (int c = 0; c < _channels; c++)
            {
                int lo = Math.Max(0, c - _before), hi = Math.Min(_channels - 1, c + _after);
                float* yc = y + c * _spatial;
                for (long s = 0; s < _spatial; s++) yc[s] = 0f;
                for (int j = lo; j <= hi; j++)
                {
                    float* xj = x + j * _spatial;
                    for (long s = 0; s < _spatial; s++) yc[s] += xj[s] * xj[s];
                }
                float* xc = x + c * _spatial;
                for (long s = 0; s < _spatial; s++) yc[s] = xc[s] / MathF.Pow(_bias + scale * yc[s], _beta);
            }
        }
    }
}
