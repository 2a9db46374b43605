using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ModelGen.Runtime.Kernels.Gemm;
using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// Depthwise Conv (group = input channels = output channels; 1-D or 2-D) computed directly: each
/// output plane starts at its bias and accumulates one kernel tap at a time as a vectorized
/// "y_row += w · x_row" over the output positions whose input is inside the image, so padding
/// costs nothing. Through im2col + GEMM each channel would be a 1-row GEMM with packing overhead.
/// Channels are split across the worker pool when the conv is big.
/// </summary>
internal sealed unsafe class DepthwiseConvKernel : Kernel, IParallelWork
{
    private readonly WindowGeometry _g;
    private readonly float* _x, _w, _y, _bias;
    private readonly long _planes;
    private readonly int _channels;
    private readonly Epilogue _epilogue;
    private readonly int _parts;

    /// <summary>True when <see cref="ConvKernel"/> should hand the step to this kernel.</summary>
    public static bool Applies(BindContext context)
    {
        if (!context.HasInput(1)) return false;
        var xs = context.Input(0).Shape;
        var ws = context.Input(1).Shape;
        return xs.Length is 3 or 4 && ws.Length == xs.Length && ws[1] == 1 && ws[0] == xs[1]
            && context.Step.GetInt("group", 1) == xs[1] && xs[1] > 1;
    }

    public DepthwiseConvKernel(BindContext context)
    {
        var xs = context.Input(0).Shape;
        var ws = context.Input(1).Shape;
        var ys = context.Output(0).Shape;
        if (ys.Length != xs.Length || ys[0] != xs[0] || ys[1] != xs[1]) throw context.Fail($"output {BindContext.ShapeText(ys)} must be [{xs[0]},{xs[1]},...]");
        _g = WindowGeometry.Create(context, xs[2..], ys[2..], ws[2..], checkOutput: true);
        _channels = xs[1];
        _planes = (long)xs[0] * xs[1];
        _x = context.FloatInput(0);
        _w = context.FloatInput(1);
        _y = context.FloatOutput(0);
        if (_x == _y) throw context.Fail("Conv cannot run in place");
        _bias = ConvShape.FloatBias(context, _channels);
        _epilogue = Epilogue.FromStep(context);
        long macs = _planes * _g.OutSize * _g.KernelSize;
        _parts = macs >= SgemmJob.ParallelThreshold ? (int)Math.Min(WorkerPool.Shared.Concurrency, _planes) : 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        if (_parts > 1) WorkerPool.Shared.Run(this, _parts);
        else Execute(0, 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part, int parts)
    {
        long begin = WorkerPool.Split(_planes, part, parts), end = WorkerPool.Split(_planes, part + 1, parts);
        for (long p = begin; p < end; p++) Plane(p);
    }

    private void Plane(long plane)
    {
        var g = _g;
        int c = (int)(plane % _channels);
        int ih0 = g.In[1], iw0 = g.In[2], oh0 = g.Out[1], ow0 = g.Out[2];
        int sh = g.Stride[1], sw = g.Stride[2];
        float* x = _x + plane * g.InSize;
        float* y = _y + plane * g.OutSize;
        float* w = _w + (long)c * g.KernelSize;
        new Span<float>(y, g.OutSize).Fill(_bias == null ? 0f : _bias[c]);
        for (int kh = 0; kh < g.Kernel[1]; kh++)
        for (int kw = 0; kw < g.Kernel[2]; kw++)
        {
            float weight = w[kh * g.Kernel[2] + kw];
            int offW = kw * g.Dilation[2] - g.PadBegin[2];
            // Output columns whose input column ow*sw + offW lies in [0, iw0).
            int owLo = offW >= 0 ? 0 : (-offW + sw - 1) / sw;
            int owHi = Math.Min(ow0, (iw0 - 1 - offW) / sw + 1);
            if (iw0 - 1 - offW < 0 || owLo >= owHi) continue;
            for (int oh = 0; oh < oh0; oh++)
            {
                int ih = oh * sh - g.PadBegin[1] + kh * g.Dilation[1];
                if ((uint)ih >= (uint)ih0) continue;
                float* src = x + (long)ih * iw0 + offW;
                float* dst = y + (long)oh * ow0;
                if (sw == 1) Axpy(weight, src + owLo, dst + owLo, owHi - owLo);
                else for (int ow = owLo; ow < owHi; ow++) dst[ow] += weight * src[ow * sw];
            }
        }
        _epilogue.ActivateInPlace(y, g.OutSize);
    }

    /// <summary>y += a·x over n floats.</summary>
    private static void Axpy(float a, float* x, float* y, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a);
            for (; i <= n - 8; i += 8)
            {
                (Vector256.Load(y + i) + va * Vector256.Load(x + i)).Store(y + i);
            }
        }
        for (; i < n; i++) y[i] += a * x[i];
    }
}
