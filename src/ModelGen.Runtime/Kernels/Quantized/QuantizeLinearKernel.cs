using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// ONNX QuantizeLinear (opsets 10–25): y = saturate(round(x / y_scale) + y_zero_point), rounding half
/// to even, per tensor, per axis or per block (<see cref="QuantAxis"/>). The output type is the
/// zero point's, else <c>output_dtype</c>, else uint8 (shape inference decided it; the kernel
/// follows the output slot). Integer outputs saturate to their range; the small float formats
/// (float8, float4) convert x / y_scale with the format's rounding, saturating when
/// <c>saturate</c> = 1 (the default).
/// </summary>
internal sealed unsafe class QuantizeLinearKernel : Kernel
{
    private readonly byte* _x, _scale, _zeroPoint, _y;
    private readonly delegate*<byte*, long, double> _readX, _readScale, _readZeroPoint;
    private readonly delegate*<byte*, long, double, void> _write;
    private readonly bool _integer;
    private readonly double _min, _max;
    private readonly QuantAxis _axis;

    public QuantizeLinearKernel(BindContext context)
    {
        var y = context.Output(0);
        _axis = QuantAxis.Create(context, scaleInput: 1, zeroPointInput: 2);
        _x = context.InputPtr(0);
        _scale = context.InputPtr(1);
        _y = context.OutputPtr(0);
        _readX = ElementAccess.Reader(context.Input(0).Type, context);
        _readScale = ElementAccess.Reader(context.Input(1).Type, context);
        if (context.HasInput(2))
        {
            context.RequireType(2, y.Type, input: true);
            _zeroPoint = context.InputPtr(2);
            _readZeroPoint = ElementAccess.Reader(y.Type, context);
        }
        _integer = ElementAccess.TryIntegerRange(y.Type, out long min, out long max);
        _min = min;
        _max = max;
        bool saturate = context.Step.GetInt("saturate", 1) != 0;
        _write = _integer ? ElementAccess.Writer(y.Type, context) : SmallFloats.Writer(y.Type, saturate, context);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        var q = _axis;
        long e = 0;
        for (long o = 0; o < q.Outer; o++)
        {
            for (long a = 0; a < q.AxisLength; a++)
            {
                long s0 = o * q.OuterStride + a / q.Block * q.AxisStride;
                for (long i = 0; i < q.Inner; i++, e++)
                {
                    long s = s0 + i * q.InnerStride;
                    // ONNX computes x / scale in the scale's precision (float32 here), then rounds.
                    float scaled = (float)_readX(_x, e) / (float)_readScale(_scale, s);
                    double zeroPoint = _zeroPoint == null ? 0 : _readZeroPoint(_zeroPoint, s);
                    if (_integer)
                    {
                        double v = (double)MathF.Round(scaled, MidpointRounding.ToEven) + zeroPoint;
                        _write(_y, e, Math.Clamp(v, _min, _max));
                    }
                    else
                    {
                        _write(_y, e, scaled + zeroPoint);
                    }
                }
            }
        }
    }
}
