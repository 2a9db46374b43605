using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels.Gemm;
using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// MaxPool and AveragePool (1-D/2-D/3-D): kernel_shape, strides, pads, auto_pad, ceil_mode,
/// dilations (both; AveragePool has them from opset 19) and count_include_pad. Window bounds
/// are clipped per output position, so padding never reads memory. 2-D windows without dilation take
/// <see cref="Pool2D"/>, or for max pooling <see cref="MaxPoolPairs"/> (unpadded windows two columns wide at stride 2)
/// or <see cref="MaxPoolRows"/> (windows up to 17 columns, pads and ceil_mode at column stride 1 or 2; with AVX2,
/// <see cref="MaxPoolEvenOdd256"/> for windows 3 columns wide at stride 2, else <see cref="MaxPoolRows256"/>); planes
/// are split over the worker pool when there is enough work.
/// </summary>
internal sealed unsafe class PoolKernel : Kernel, IParallelWork
{
    private readonly Pool2D _fast;
    private readonly bool _useFast;
    private readonly MaxPoolPairs _pairs;
    private readonly bool _usePairs;
    private readonly MaxPoolRows _rows;
    private readonly bool _useRows;
    private readonly MaxPoolRows256 _rows256;
    private readonly bool _useRows256;
    private readonly MaxPoolEvenOdd256 _evenOdd;
    private readonly bool _useEvenOdd;
    private readonly float* _bands;   // [parts][_evenOdd.BandFloats]: each part's band buffer
    private readonly int _parts;
    private readonly bool _max;
    private readonly bool _countPad;
    private readonly WindowGeometry _g;
    private readonly float* _x;
    private readonly float* _y;
    private readonly long _planes;

    /// <summary>
    /// Window taps from which the planes are split over the worker pool. A tap costs about as much as a
    /// GEMM's vector FMA does for 16 multiply-adds, so this is SGEMM's threshold / 16; and the split has a
    /// second gain: the parts read the planes a batched conv before them wrote on the same cores (the
    /// small CNN's pools at batch 32 read 1 MB and 400 KB).
    /// </summary>
    private const long ParallelTaps = SgemmJob.ParallelThreshold / 16;

    public PoolKernel(BindContext context, bool max)
    {
        _max = max;
        var xSlot = context.Input(0);
        var ySlot = context.Output(0);
        if (context.HasOutput(1)) throw context.Fail("the Indices output of MaxPool is not supported");
        int[] xs = xSlot.Shape, ys = ySlot.Shape;
        if (xs.Length < 3 || xs.Length > 5 || ys.Length != xs.Length || ys[0] != xs[0] || ys[1] != xs[1])
        {
            throw context.Fail($"input {BindContext.ShapeText(xs)} and output {BindContext.ShapeText(ys)} must be [N,C,spatial...] with 1 to 3 spatial dims");
        }
        long[] kernel = context.Step.GetInts("kernel_shape") ?? throw context.Fail("attribute kernel_shape is required");
        if (context.Step.GetInt("storage_order", 0) != 0) throw context.Fail("storage_order=1 is not supported");
        bool ceil = context.Step.GetInt("ceil_mode", 0) != 0;
        _g = WindowGeometry.Create(context, xs[2..], ys[2..], kernel.Select(k => (int)k).ToArray(), checkOutput: true, ceilMode: ceil);
        _countPad = context.Step.GetInt("count_include_pad", 0) != 0;
        _x = context.FloatInput(0);
        _y = context.FloatOutput(0);
        _planes = (long)xs[0] * xs[1];
        _useFast = Pool2D.Fits(_g);
        _fast = new Pool2D(_g, max, _countPad);
        _usePairs = max && MaxPoolPairs.Fits(_g);
        _pairs = new MaxPoolPairs(_g);
        _useRows = max && !_usePairs && MaxPoolRows.Fits(_g);
        _rows = new MaxPoolRows(_g);
        long taps = _planes * _g.OutSize * _g.KernelSize;
        _parts = taps >= ParallelTaps ? (int)Math.Min(WorkerPool.Shared.Concurrency, _planes) : 1;
        _evenOdd = new MaxPoolEvenOdd256(_g);
        _useEvenOdd = max && !_usePairs && !_useRows && MaxPoolEvenOdd256.Fits(_g);
        if (_useEvenOdd) _bands = (float*)context.Scratch((long)_parts * _evenOdd.BandFloats * 4);
        _rows256 = new MaxPoolRows256(_g);
        _useRows256 = max && !_usePairs && !_useRows && !_useEvenOdd && MaxPoolRows256.Fits(_g);
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
        var g = _g;
        int inSize = g.InSize, outSize = g.OutSize;
        long begin = WorkerPool.Split(_planes, part, parts), end = WorkerPool.Split(_planes, part + 1, parts);
        for (long plane = begin; plane < end; plane++)
        {
            if (_usePairs)
            {
                _pairs.Plane(_x + plane * inSize, _y + plane * outSize);
                continue;
            }
            if (_useRows)
            {
                _rows.Plane(_x + plane * inSize, _y + plane * outSize);
                continue;
            }
            if (_useEvenOdd)
            {
                _evenOdd.Plane(_x + plane * inSize, _y + plane * outSize, _bands + (long)part * _evenOdd.BandFloats, _x + _planes * inSize);
                continue;
            }
            if (_useRows256)
            {
                _rows256.Plane(_x + plane * inSize, _y + plane * outSize);
                continue;
            }
            if (_useFast)
            {
                _fast.Plane(_x + plane * inSize, _y + plane * outSize);
                continue;
            }
            float* x = _x + plane * inSize;
            float* y = _y + plane * outSize;
            for (int od = 0; od < g.Out[0]; od++)
            for (int oh = 0; oh < g.Out[1]; oh++)
            for (int ow = 0; ow < g.Out[2]; ow++)
            {
                int d0 = od * g.Stride[0] - g.PadBegin[0];
                int h0 = oh * g.Stride[1] - g.PadBegin[1];
                int w0 = ow * g.Stride[2] - g.PadBegin[2];
                float acc = _max ? float.NegativeInfinity : 0f;
                int count = 0, padded = 0;
                for (int kd = 0; kd < g.Kernel[0]; kd++)
                {
                    int id = d0 + kd * g.Dilation[0];
                    bool dIn = (uint)id < (uint)g.In[0];
                    bool dPad = id < g.In[0] + g.PadEnd[0];
                    for (int kh = 0; kh < g.Kernel[1]; kh++)
                    {
                        int ih = h0 + kh * g.Dilation[1];
                        bool hIn = dIn && (uint)ih < (uint)g.In[1];
                        bool hPad = dPad && ih < g.In[1] + g.PadEnd[1];
                        float* row = x + ((long)id * g.In[1] + ih) * g.In[2];
                        for (int kw = 0; kw < g.Kernel[2]; kw++)
                        {
                            int iw = w0 + kw * g.Dilation[2];
                            if (hIn && (uint)iw < (uint)g.In[2])
                            {
                                float v = row[iw];
                                if (_max) { if (v > acc || float.IsNaN(v)) acc = v; }
                                else acc += v;
                                count++;
                            }
                            // Positions inside the padded extent count for count_include_pad; ones past it (ceil_mode) do not.
                            if (hPad && iw < g.In[2] + g.PadEnd[2]) padded++;
                        }
                    }
                }
                float result;
                if (_max) result = acc;
                else result = acc / (_countPad ? Math.Max(padded, 1) : Math.Max(count, 1));
                y[(od * g.Out[1] + oh) * g.Out[2] + ow] = result;
            }
        }
    }
}
