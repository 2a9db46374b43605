using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// ONNX DequantizeLinear (opsets 10–25): y = (x − x_zero_point) · x_scale, per tensor, per axis or
/// per block (<see cref="QuantAxis"/>), computed in float32 and stored as the output's type (the
/// scale's, or <c>output_dtype</c>). x may be any integer type (int32 only with a zero point of
/// 0, which ONNX requires) or a narrow float format.
/// </summary>
internal sealed unsafe class DequantizeLinearKernel : Kernel
{
    private readonly byte* _x, _scale, _zeroPoint, _y;
    private readonly delegate*<byte*, long, double> _readX, _readScale, _readZeroPoint;
    private readonly delegate*<byte*, long, double, void> _write;
    private readonly QuantAxis _axis;

    public DequantizeLinearKernel(BindContext context)
    {
        var x = context.Input(0);
        var y = context.Output(0);
        _axis = QuantAxis.Create(context, scaleInput: 1, zeroPointInput: 2);
        _x = context.InputPtr(0);
        _scale = context.InputPtr(1);
        _y = context.OutputPtr(0);
        _readX = ElementAccess.Reader(x.Type, context);
        _readScale = ElementAccess.Reader(context.Input(1).Type, context);
        if (context.HasInput(2))
        {
            context.RequireType(2, x.Type, input: true);
            _zeroPoint = context.InputPtr(2);
            _readZeroPoint = _readX;
        }
        if (y.Type is not (ElementType.Float or ElementType.Float16 or ElementType.BFloat16))
        {
            throw context.Fail($"output type {y.Type.ToOnnxName()} is not float, float16 or bfloat16");
        }
        _write = y.Type == ElementType.BFloat16 ? SmallFloats.Writer(y.Type, true, context) : ElementAccess.Writer(y.Type, context);
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
                    float zeroPoint = _zeroPoint == null ? 0f : (float)_readZeroPoint(_zeroPoint, s);
                    float value = ((float)_readX(_x, e) - zeroPoint) * (float)_readScale(_scale, s);
                    _write(_y, e, value);
                }
            }
        }
    }
}
