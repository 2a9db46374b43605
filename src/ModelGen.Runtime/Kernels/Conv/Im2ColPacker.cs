using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ModelGen.Runtime.Kernels.Gemm;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// im2col straight into <see cref="Sgemm.PackB"/>'s layout, as a gather: the input is first copied into a
/// zero-bordered (padded) plane, so every tap of the unrolled matrix is an in-bounds read at
/// <c>rowOffset[p] + pixelOffset[j]</c> (p = (c,kd,kh,kw), j = output pixel). Both offset tables are built
/// once, so per call there are no bounds checks, no divisions, and each 16-column panel row is two 8-wide
/// gathers. Columns past N in the last panel read a real input value; their results are never stored.
/// </summary>
internal sealed unsafe class Im2ColPacker
{
    private readonly WindowGeometry _g;
    private readonly int _channels, _k, _n;
    private readonly int _pd, _ph, _pw;
    private readonly bool _padded;
    private readonly int* _rowOffset;   // [k]
    private readonly int* _pixelOffset; // [panels * NR]
    private readonly float* _planes;    // one padded copy of the group's channels per part
    private readonly long _planeFloats;

    /// <summary>Whether the padded input of one group fits 32-bit gather offsets.</summary>
    public static bool Fits(WindowGeometry g, int channels) => PaddedFloats(g, channels) < int.MaxValue / 4;

    private static long PaddedFloats(WindowGeometry g, int channels)
    {
        long size = channels;
        for (int d = 0; d < WindowGeometry.Rank; d++) size *= PaddedExtent(g, d);
        return size;
    }

    // Large enough for the padded input and for every window (ceil/auto_pad outputs included).
    private static int PaddedExtent(WindowGeometry g, int d) =>
        Math.Max(g.In[d] + g.PadBegin[d] + g.PadEnd[d], (g.Out[d] - 1) * g.Stride[d] + g.Extent(d));

    public Im2ColPacker(BindContext context, WindowGeometry g, int channels, int parts)
    {
        _g = g;
        _channels = channels;
        _k = channels * g.KernelSize;
        _n = g.OutSize;
        _pd = PaddedExtent(g, 0);
        _ph = PaddedExtent(g, 1);
        _pw = PaddedExtent(g, 2);
        _padded = false;
        for (int d = 0; d < WindowGeometry.Rank; d++) _padded |= g.PadBegin[d] != 0 || PaddedExtent(g, d) != g.In[d];
        int plane = _pd * _ph * _pw;

        _rowOffset = (int*)context.Scratch((long)_k * 4);
        int p = 0;
        for (int c = 0; c < channels; c++)
        for (int kd = 0; kd < g.Kernel[0]; kd++)
        for (int kh = 0; kh < g.Kernel[1]; kh++)
        for (int kw = 0; kw < g.Kernel[2]; kw++)
        {
            _rowOffset[p++] = c * plane + (kd * g.Dilation[0] * _ph + kh * g.Dilation[1]) * _pw + kw * g.Dilation[2];
        }

        int columns = Sgemm.ColumnPanels(_n) * Sgemm.NR;
        _pixelOffset = (int*)context.Scratch((long)columns * 4);
        int j = 0;
        for (int od = 0; od < g.Out[0]; od++)
        for (int oh = 0; oh < g.Out[1]; oh++)
        for (int ow = 0; ow < g.Out[2]; ow++)
        {
            _pixelOffset[j++] = (od * g.Stride[0] * _ph + oh * g.Stride[1]) * _pw + ow * g.Stride[2];
        }
        for (; j < columns; j++) _pixelOffset[j] = 0; // padding columns: any in-bounds read will do

        if (_padded)
        {
            _planeFloats = PaddedFloats(g, channels);
            _planes = (float*)context.Scratch(_planeFloats * parts * 4);
            // The border stays zero: Pack only ever writes the interior.
            new Span<float>(_planes, checked((int)(_planeFloats * parts))).Clear();
        }
    }

    /// <summary>Unrolls one group of one image (<paramref name="x"/>: [channels, spatial]) into <paramref name="packedB"/>, using part <paramref name="part"/>'s buffer.</summary>
    public void Pack(float* x, float* packedB, int part) => PackPanels(Prepare(x, part), packedB, 0, Sgemm.ColumnPanels(_n));

    /// <summary>Returns the (padded, in part <paramref name="part"/>'s buffer when the conv pads) input that <see cref="PackPanels"/> reads.</summary>
    public float* Prepare(float* x, int part)
    {
        if (!_padded) return x;
        float* planes = _planes + part * _planeFloats;
        CopyInterior(x, planes);
        return planes;
    }

    /// <summary>Writes column panels [<paramref name="panelBegin"/>, <paramref name="panelEnd"/>) of packed B from a <see cref="Prepare"/>d input.</summary>
    public void PackPanels(float* src, float* packedB, int panelBegin, int panelEnd)
    {
        long panelStride = (long)Sgemm.NR * _k;
        for (int panel = panelBegin; panel < panelEnd; panel++)
        {
            int* pix = _pixelOffset + panel * Sgemm.NR;
            float* dst = packedB + panel * panelStride;
            if (Avx2.IsSupported)
            {
                var i0 = Vector256.Load(pix);
                var i1 = Vector256.Load(pix + 8);
                for (int p = 0; p < _k; p++, dst += Sgemm.NR)
                {
                    float* row = src + _rowOffset[p];
                    Avx2.GatherVector256(row, i0, 4).Store(dst);
                    Avx2.GatherVector256(row, i1, 4).Store(dst + 8);
                }
            }
            else
            {
                for (int p = 0; p < _k; p++, dst += Sgemm.NR)
                {
                    float* row = src + _rowOffset[p];
                    for (int jj = 0; jj < Sgemm.NR; jj++) dst[jj] = row[pix[jj]];
                }
            }
        }
    }

    /// <summary>
    /// Writes the unrolled matrix transposed, in <see cref="Sgemm.PackA"/>'s layout: output pixels
    /// [<paramref name="row0"/>, +<paramref name="rows"/>) as rows (blocks of <see cref="Sgemm.MR"/>, k-major, the
    /// last block zero-padded), from a <see cref="Prepare"/>d input, into <paramref name="packedA"/> (which points at
    /// row <paramref name="row0"/>'s block; <paramref name="row0"/> is a multiple of <see cref="Sgemm.MR"/>).
    /// </summary>
    public void PackRowBlocks(float* src, float* packedA, int row0, int rows)
    {
        const int mr = Sgemm.MR;
        int* pix = stackalloc int[mr];
        for (int ib = 0; ib < rows; ib += mr)
        {
            int count = Math.Min(mr, rows - ib);
            for (int r = 0; r < count; r++) pix[r] = _pixelOffset[row0 + ib + r];
            float* dst = packedA + (long)ib * _k;
            for (int p = 0; p < _k; p++, dst += mr)
            {
                float* row = src + _rowOffset[p];
                int r = 0;
                for (; r < count; r++) dst[r] = row[pix[r]];
                for (; r < mr; r++) dst[r] = 0f;
            }
        }
    }

    private void CopyInterior(float* x, float* planes)
    {
        var g = _g;
        int id0 = g.In[0], ih0 = g.In[1], iw0 = g.In[2];
        long rowBytes = (long)iw0 * sizeof(float);
        for (int c = 0; c < _channels; c++)
        {
            float* xc = x + (long)c * id0 * ih0 * iw0;
            float* pc = planes + (long)c * _pd * _ph * _pw;
            for (int d = 0; d < id0; d++)
            for (int h = 0; h < ih0; h++)
            {
                float* to = pc + ((long)(d + g.PadBegin[0]) * _ph + h + g.PadBegin[1]) * _pw + g.PadBegin[2];
                Buffer.MemoryCopy(xc + ((long)d * ih0 + h) * iw0, to, rowBytes, rowBytes);
            }
        }
    }
}
