using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// MaxPool on any element type, with the optional Indices output (int64): the index of each
/// maximum in the whole input tensor flattened, row-major (storage_order = 0) or with the spatial
/// dims column-major (storage_order = 1), the first maximum winning ties as in ONNX's reference.
/// Geometry (kernel_shape, strides, pads, auto_pad, dilations, ceil_mode) as <see cref="PoolKernel"/>;
/// float MaxPool without Indices stays on that faster kernel.
/// </summary>
internal sealed unsafe class GeneralMaxPoolKernel : Kernel
{
    private readonly WindowGeometry _g;
    private readonly byte* _x, _y;
    private readonly long* _indices;
    private readonly long _planes;
    private readonly bool _columnMajor;
    private readonly delegate*<byte*, long, double> _read;
    private readonly delegate*<byte*, long, double, void> _write;

    public GeneralMaxPoolKernel(BindContext context)
    {
        int[] xs = context.Input(0).Shape, ys = context.Output(0).Shape;
        if (xs.Length < 3 || xs.Length > 5 || ys.Length != xs.Length || ys[0] != xs[0] || ys[1] != xs[1])
        {
            throw context.Fail($"input {BindContext.ShapeText(xs)} and output {BindContext.ShapeText(ys)} must be [N,C,spatial...] with 1 to 3 spatial dims");
        }
        var type = context.Input(0).Type;
        context.RequireType(0, type, input: false);
        long[] kernel = context.Step.GetInts("kernel_shape") ?? throw context.Fail("attribute kernel_shape is required");
        bool ceil = context.Step.GetInt("ceil_mode", 0) != 0;
        _g = WindowGeometry.Create(context, xs[2..], ys[2..], kernel.Select(k => (int)k).ToArray(), checkOutput: true, ceilMode: ceil);
        _columnMajor = context.Step.GetInt("storage_order", 0) != 0;
        _x = context.InputPtr(0);
        _y = context.OutputPtr(0);
        if (context.HasOutput(1))
        {
            context.RequireType(1, ElementType.Int64, input: false);
            _indices = (long*)context.OutputPtr(1);
        }
        _read = ElementAccess.Reader(type, context);
        _write = ElementAccess.Writer(type, context);
        _planes = (long)xs[0] * xs[1];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        var g = _g;
        long y = 0;
        for (long plane = 0; plane < _planes; plane++)
        {
            long xBase = plane * g.InSize;
            for (int od = 0; od < g.Out[0]; od++)
            for (int oh = 0; oh < g.Out[1]; oh++)
            for (int ow = 0; ow < g.Out[2]; ow++, y++)
            {
                double best = double.NegativeInfinity;
                long bestAt = -1;
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
                            long at = ((long)id * g.In[1] + ih) * g.In[2] + iw;
                            double v = _read(_x, xBase + at);
                            if (bestAt < 0 || v > best)
                            {
                                best = v;
                                bestAt = _columnMajor ? ((long)iw * g.In[1] + ih) * g.In[0] + id : at;
                            }
                        }
                    }
                }
                _write(_y, y, best);
                if (_indices != null) _indices[y] = xBase + Math.Max(bestAt, 0);
            }
        }
    }
}
