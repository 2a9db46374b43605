using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels.Conv;

namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// ONNX QLinearConv (opset 10): y = saturate(round((Σ (x − x_zp)(w − w_zp[oc]) + B[oc]) · x_scale ·
/// w_scale[oc] / y_scale) + y_zp), with Conv's geometry (groups, strides, pads, auto_pad,
/// dilations; 1-D to 3-D through <see cref="WindowGeometry"/>). The sum is exact int32; the
/// multiplier is formed in float32 as ONNX's reference does and applied in double, rounding half
/// to even. A direct loop: QLinearConv reaches the runtime only from explicitly quantized models,
/// whose uint8 weights the int8 GEMM core (uint8 × int8) cannot take as they are.
/// </summary>
internal sealed unsafe class QLinearConvKernel : Kernel
{
    private readonly byte* _x, _w, _xZero, _wZero, _yZero, _y, _xScale, _wScale, _yScale;
    private readonly int* _bias;
    private readonly delegate*<byte*, long, double> _readX, _readW, _readXZero, _readWZero, _readYZero, _readScale;
    private readonly delegate*<byte*, long, double, void> _write;
    private readonly WindowGeometry _g;
    private readonly int _batch, _channels, _outChannels, _groups;
    private readonly long _wZeroCount, _wScaleCount;
    private readonly double _min, _max;

    public QLinearConvKernel(BindContext context)
    {
        int[] xs = context.Input(0).Shape, ws = context.Input(3).Shape, ys = context.Output(0).Shape;
        if (xs.Length < 3 || xs.Length > 5 || ws.Length != xs.Length || ys.Length != xs.Length)
        {
            throw context.Fail($"x {BindContext.ShapeText(xs)}, w {BindContext.ShapeText(ws)} and y {BindContext.ShapeText(ys)} must be [N,C,spatial...] with 1 to 3 spatial dims");
        }
        _groups = (int)context.Step.GetInt("group", 1);
        (_batch, _channels, _outChannels) = (xs[0], xs[1], ws[0]);
        if (_groups < 1 || _channels % _groups != 0 || _outChannels % _groups != 0 || ws[1] != _channels / _groups || ys[1] != _outChannels)
        {
            throw context.Fail($"group={_groups} does not fit x channels {_channels}, w {BindContext.ShapeText(ws)} and y channels {ys[1]}");
        }
        _g = WindowGeometry.Create(context, xs[2..], ys[2..], ws[2..], checkOutput: true);
        var yType = context.Output(0).Type;
        if (yType is not (ElementType.UInt8 or ElementType.Int8) || !ElementAccess.TryIntegerRange(yType, out long min, out long max))
        {
            throw context.Fail($"output type {yType.ToOnnxName()} is not uint8 or int8");
        }
        (_min, _max) = (min, max);
        _write = ElementAccess.Writer(yType, context);
        var xType = context.Input(0).Type;
        var wType = context.Input(3).Type;
        foreach (var (i, t) in new[] { (0, xType), (3, wType) })
        {
            if (t is not (ElementType.UInt8 or ElementType.Int8)) throw context.Fail($"input {i} must be uint8 or int8, not {t.ToOnnxName()}");
        }
        _x = context.InputPtr(0);
        _w = context.InputPtr(3);
        _y = context.OutputPtr(0);
        _readX = ElementAccess.Reader(xType, context);
        _readW = ElementAccess.Reader(wType, context);
        foreach (int s in new[] { 1, 4, 6 }) context.RequireType(s, ElementType.Float, input: true);
        if (context.Input(1).ElementCount != 1 || context.Input(6).ElementCount != 1) throw context.Fail("x_scale and y_scale must be per-tensor (one value)");
        _wScaleCount = PerChannel(context, 4, "w_scale");
        _xScale = context.InputPtr(1);
        _wScale = context.InputPtr(4);
        _yScale = context.InputPtr(6);
        _readScale = ElementAccess.Reader(ElementType.Float, context);
        if (context.HasInput(2))
        {
            _xZero = context.InputPtr(RequireScalar(context, 2, xType));
            _readXZero = ElementAccess.Reader(xType, context);
        }
        if (context.HasInput(5))
        {
            context.RequireType(5, wType, input: true);
            _wZeroCount = PerChannel(context, 5, "w_zero_point");
            _wZero = context.InputPtr(5);
            _readWZero = ElementAccess.Reader(wType, context);
        }
        if (context.HasInput(7))
        {
            _yZero = context.InputPtr(RequireScalar(context, 7, yType));
            _readYZero = ElementAccess.Reader(yType, context);
        }
        if (context.HasInput(8))
        {
            context.RequireType(8, ElementType.Int32, input: true);
            if (context.Input(8).ElementCount != _outChannels) throw context.Fail($"B must have one int32 per output channel ({_outChannels})");
            _bias = (int*)context.InputPtr(8);
        }
    }

    private int PerChannel(BindContext context, int input, string name)
    {
        long n = context.Input(input).ElementCount;
        if (n != 1 && n != _outChannels) throw context.Fail($"{name} must have one value or one per output channel ({_outChannels}), not {n}");
        return (int)n;
    }

    private static int RequireScalar(BindContext context, int input, ElementType type)
    {
        context.RequireType(input, type, input: true);
        if (context.Input(input).ElementCount != 1) throw context.Fail($"input {input} ('{context.Input(input).Name}') must be a per-tensor (one-value) zero point");
        return input;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        var g = _g;
        int perGroupIn = _channels / _groups, perGroupOut = _outChannels / _groups;
        int xZero = _xZero == null ? 0 : (int)_readXZero(_xZero, 0);
        double yZero = _yZero == null ? 0 : _readYZero(_yZero, 0);
        double xScale = _readScale(_xScale, 0), yScale = _readScale(_yScale, 0);
        long kernelVolume = (long)perGroupIn * g.KernelSize;
        for (int n = 0; n < _batch; n++)
        for (int oc = 0; oc < _outChannels; oc++)
        {
            int group = oc / perGroupOut;
            int wZero = _wZero == null ? 0 : (int)_readWZero(_wZero, _wZeroCount == 1 ? 0 : oc);
            double multiplier = QLinearMatMulKernel.Multiplier(xScale, _readScale(_wScale, _wScaleCount == 1 ? 0 : oc), yScale, half: false);
            long wBase = oc * kernelVolume;
            long yBase = ((long)n * _outChannels + oc) * g.OutSize;
            for (int od = 0; od < g.Out[0]; od++)
            for (int oh = 0; oh < g.Out[1]; oh++)
            for (int ow = 0; ow < g.Out[2]; ow++)
            {
                int sum = _bias == null ? 0 : _bias[oc];
                for (int ic = 0; ic < perGroupIn; ic++)
                {
                    long xPlane = ((long)n * _channels + group * perGroupIn + ic) * g.InSize;
                    long wPlane = wBase + (long)ic * g.KernelSize;
                    for (int kd = 0; kd < g.Kernel[0]; kd++)
                    {
                        int id = od * g.Stride[0] - g.PadBegin[0] + kd * g.Dilation[0];
                        if ((uint)id >= (uint)g.In[0]) continue;
                        for (int kh = 0; kh < g.Kernel[1]; kh++)
                        {
                            int ih = oh * g.Stride[1] - g.PadBegin[1] + kh * g.Dilation[1];
                            if ((uint)ih >= (uint)g.In[1]) continue;
                            for (int kw = 0; kw < g.Kernel[2]; kw++)
                            {
                                int iw = ow * g.Stride[2] - g.PadBegin[2] + kw * g.Dilation[2];
                                if ((uint)iw >= (uint)g.In[2]) continue;
                                // Padding holds x_zp, i.e. contributes (x_zp − x_zp) = 0: skipping it is exact.
                                int xv = (int)_readX(_x, xPlane + ((long)id * g.In[1] + ih) * g.In[2] + iw) - xZero;
                                int wv = (int)_readW(_w, wPlane + ((long)kd * g.Kernel[1] + kh) * g.Kernel[2] + kw) - wZero;
                                sum += xv * wv;
                            }
                        }
                    }
                }
                double v = Math.Round(sum * multiplier, MidpointRounding.ToEven) + yZero;
                _write(_y, yBase + (od * g.Out[1] + oh) * g.Out[2] + ow, Math.Clamp(v, _min, _max));
            }
        }
    }
}
