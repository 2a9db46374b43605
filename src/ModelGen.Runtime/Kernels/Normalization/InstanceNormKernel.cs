using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels.Elementwise;

namespace ModelGen.Runtime.Kernels.Normalization;

/// <summary>InstanceNormalization: per (image, channel), y = scale[c] · (x - mean) / sqrt(var + epsilon) + B[c].</summary>
internal sealed unsafe class InstanceNormKernel : Kernel
{
    private readonly float* _x, _y, _scale, _bias;
    private readonly float _epsilon;
    private readonly int _channels;
    private readonly long _batch, _spatial;

    public InstanceNormKernel(BindContext context)
    {
        var shape = context.Input(0).Shape;
        if (shape.Length < 3) throw context.Fail($"input {BindContext.ShapeText(shape)} must be [N,C,spatial...]");
        _batch = shape[0];
        _channels = shape[1];
        _spatial = context.Input(0).ElementCount / Math.Max(1L * _batch * _channels, 1);
        if (context.Input(1).ElementCount != _channels || context.Input(2).ElementCount != _channels)
        {
            throw context.Fail($"scale and B must have C = {_channels} elements");
        }
        _epsilon = context.Step.GetFloat("epsilon", 1e-5f);
        _x = context.FloatInput(0);
        _y = context.FloatOutput(0);
        _scale = context.FloatInput(1);
        _bias = context.FloatInput(2);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        for (long n = 0; n < _batch; n++)
        {
            for (int c = 0; c < _channels; c++)
            {
                long offset = (n * _channels + c) * _spatial;
                float* x = _x + offset;
                float mean = Reductions.Sum(x, _spatial) / _spatial;
                // Two-pass variance (sum of squared deviations): stable where E[x²]-E[x]² is not.
                double sq = 0;
                for (long s = 0; s < _spatial; s++)
                {
                    float d = x[s] - mean;
                    sq += d * d;
                }
                float a = _scale[c] / MathF.Sqrt((float)(sq / _spatial) + _epsilon);
                UnaryLoop.Run(new AffineOp(a, _bias[c] - mean * a), x, _y + offset, _spatial);
            }
        }
    }
}
