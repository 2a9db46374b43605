using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ModelGen.Runtime.Kernels.Conv;
using ModelGen.Runtime.Kernels.Gemm;

namespace ModelGen.Runtime.Kernels.Sparse;

/// <summary>
/// Conv (group 1, 1-D to 3-D) with a weight in compressed sparse rows, one row per filter and a
/// column per (input channel, kernel tap): each non-zero weight adds its scaled, shifted input
/// plane to its filter's output plane, row by row (a vectorized axpy along the output width at
/// stride 1), so the work is proportional to the non-zeros. The (channel, tap) of every non-zero
/// is decoded once at bind time.
/// </summary>
internal sealed unsafe class CsrConvKernel : Kernel
{
    private readonly float* _x, _y, _values, _bias;
    private readonly int* _rowStart;
    private readonly int[] _channel, _kd, _kh, _kw;
    private readonly WindowGeometry _g;
    private readonly int _batch, _channels, _filters;
    private readonly Epilogue _epilogue;

    public CsrConvKernel(BindContext c)
    {
        (_filters, int features) = SparseKernels.Shape(c);
        var inner = c.Step.GetInts("sparse_inner");
        int[] xs = c.Input(0).Shape, ys = c.Output(0).Shape;
        if (inner is null || inner.Length != xs.Length - 1) throw c.Fail("sparse_inner must be [C, kernel dims...] matching the input's rank");
        if (c.Step.GetInt("group", 1) != 1) throw c.Fail("a sparse Conv must have group 1");
        _batch = xs[0];
        _channels = xs[1];
        if (inner[0] != _channels || inner.Aggregate(1L, (a, b) => a * b) != features) throw c.Fail($"sparse_inner [{string.Join(",", inner)}] does not fit {_channels} channels and {features} features");
        if (ys[0] != _batch || ys[1] != _filters) throw c.Fail($"output {BindContext.ShapeText(ys)} must be [{_batch},{_filters},...]");
        _g = WindowGeometry.Create(c, xs[2..], ys[2..], inner.Skip(1).Select(k => (int)k).ToArray(), checkOutput: true);
        SparseKernels.Require(c, 5, ElementType.Int32, _filters + 1L, "row pointers");
        _rowStart = (int*)c.InputPtr(5);
        int nnz = _rowStart[_filters];
        SparseKernels.Require(c, 1, ElementType.Float, nnz, "values");
        SparseKernels.Require(c, 4, ElementType.UInt16, nnz, "column indices");
        _values = (float*)c.InputPtr(1);
        var columns = (ushort*)c.InputPtr(4);
        _channel = new int[nnz];
        _kd = new int[nnz];
        _kh = new int[nnz];
        _kw = new int[nnz];
        int taps = _g.KernelSize;
        for (int p = 0; p < nnz; p++)
        {
            int col = columns[p];
            if (col >= features) throw c.Fail($"column index {col} is out of range for {features} features");
            int tap = col % taps;
            _channel[p] = col / taps;
            _kd[p] = tap / (_g.Kernel[1] * _g.Kernel[2]);
            _kh[p] = tap / _g.Kernel[2] % _g.Kernel[1];
            _kw[p] = tap % _g.Kernel[2];
        }
        _x = c.FloatInput(0);
        _y = c.FloatOutput(0);
        _bias = SparseKernels.Bias(c, _filters);
        _epilogue = Epilogue.FromStep(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        var g = _g;
        int outSize = g.OutSize, inSize = g.InSize;
        int od = g.Out[0], oh = g.Out[1], ow = g.Out[2];
        int id = g.In[0], ih = g.In[1], iw = g.In[2];
        for (int n = 0; n < _batch; n++)
        {
            float* x = _x + (long)n * _channels * inSize;
            for (int f = 0; f < _filters; f++)
            {
                float* y = _y + ((long)n * _filters + f) * outSize;
                float b = _bias != null ? _bias[f] : 0f;
                new Span<float>(y, outSize).Fill(b);
                for (int p = _rowStart[f]; p < _rowStart[f + 1]; p++)
                {
                    float w = _values[p];
                    float* plane = x + (long)_channel[p] * inSize;
                    int offW = _kw[p] * g.Dilation[2] - g.PadBegin[2];
                    // Output columns whose input column ox·stride + offW lies inside [0, iw).
                    int first = offW >= 0 ? 0 : (-offW + g.Stride[2] - 1) / g.Stride[2];
                    int last = Math.Min(ow - 1, (iw - 1 - offW) < 0 ? -1 : (iw - 1 - offW) / g.Stride[2]);
                    if (first > last) continue;
                    for (int z = 0; z < od; z++)
                    {
                        int iz = z * g.Stride[0] - g.PadBegin[0] + _kd[p] * g.Dilation[0];
                        if ((uint)iz >= (uint)id) continue;
                        for (int r = 0; r < oh; r++)
                        {
                            int iy = r * g.Stride[1] - g.PadBegin[1] + _kh[p] * g.Dilation[1];
                            if ((uint)iy >= (uint)ih) continue;
                            float* src = plane + ((long)iz * ih + iy) * iw + offW;
                            float* dst = y + ((long)z * oh + r) * ow;
                            Axpy(w, src, dst, first, last, g.Stride[2]);
                        }
                    }
                }
                _epilogue.ActivateInPlace(y, outSize);
            }
        }
    }

    private static void Axpy(float w, float* src, float* dst, int first, int last, int stride)
    {
        int ox = first;
        if (stride == 1 && Vector256.IsHardwareAccelerated)
        {
            var vw = Vector256.Create(w);
            for (; ox + 8 <= last + 1; ox += 8)
            {
                (Vector256.Load(dst + ox) + vw * Vector256.Load(src + ox)).Store(dst + ox);
            }
        }
        for (; ox <= last; ox++) dst[ox] += w * src[ox * stride];
    }
}
