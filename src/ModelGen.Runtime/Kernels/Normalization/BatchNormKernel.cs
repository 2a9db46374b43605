using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels.Elementwise;

namespace ModelGen.Runtime.Kernels.Normalization;

/// <summary>
/// BatchNormalization in inference mode: y = (x - mean) / sqrt(var + epsilon) * scale + B per
/// channel (dim 1), computed as y = x * a[c] + b[c]. a and b are computed once at bind time when
/// all four parameters are weights, otherwise at the start of each run.
/// </summary>
internal sealed unsafe class BatchNormKernel : Kernel
{
    private readonly float* _x, _y, _scale, _bias, _mean, _var, _a, _b;
    private readonly float _epsilon;
    private readonly int _channels;
    private readonly long _batch, _spatial;
    private readonly bool _perCall;

    public BatchNormKernel(BindContext context)
    {
        if (context.Step.GetInt("training_mode", 0) != 0) throw context.Fail("training_mode=1 is not supported (inference only)");
        for (int i = 1; i < context.OutputCount; i++)
        {
            if (context.HasOutput(i)) throw context.Fail("the running mean/var outputs are training-only and not supported");
        }
        var shape = context.Input(0).Shape;
        if (shape.Length < 2) throw context.Fail($"input {BindContext.ShapeText(shape)} must be [N,C,...]");
        _batch = shape[0];
        _channels = shape[1];
        _spatial = context.Input(0).ElementCount / Math.Max(1L * _batch * _channels, 1);
        for (int i = 1; i <= 4; i++)
        {
            if (context.Input(i).ElementCount != _channels) throw context.Fail($"input {i} ('{context.Input(i).Name}') must have C = {_channels} elements");
        }
        _epsilon = context.Step.GetFloat("epsilon", 1e-5f);
        _x = context.FloatInput(0);
        _y = context.FloatOutput(0);
        _scale = context.FloatInput(1);
        _bias = context.FloatInput(2);
        _mean = context.FloatInput(3);
        _var = context.FloatInput(4);
        _a = (float*)context.Scratch(_channels * 4L);
        _b = (float*)context.Scratch(_channels * 4L);
        _perCall = false;
        for (int i = 1; i <= 4; i++) _perCall |= context.Input(i).Storage == SlotStorage.Arena;
        if (!_perCall) Coefficients();
    }

    private void Coefficients()
    {
        for (int c = 0; c < _channels; c++)
        {
            float a = _scale[c] / MathF.Sqrt(_var[c] + _epsilon);
            _a[c] = a;
            _b[c] = _bias[c] - _mean[c] * a;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        if (_perCall) Coefficients();
        for (long n = 0; n < _batch; n++)
        {
            for (int c = 0; c < _channels; c++)
            {
                long offset = (n * _channels + c) * _spatial;
                UnaryLoop.Run(new AffineOp(_a[c], _b[c]), _x + offset, _y + offset, _spatial);
            }
        }
    }
}
