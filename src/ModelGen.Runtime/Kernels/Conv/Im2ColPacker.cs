using System.Runtime.CompilerServices;
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
    private readonly float* _planes;    // one padded copy of the group's channels per part (after Slack floats)
    private readonly long _planeFloats;
    private readonly long _partFloats;  // one part's plane buffer including the slack on both sides
    private readonly int _runStride;    // the last axis' stride when panels are packed from runs (1 or 2); 0: gathers only
    private readonly byte* _runCount;   // [panels]: runs of the panel, 0 = gather it
    private readonly int* _runBase;     // [panels * MaxRuns]: where lane 0 of each run's load starts, relative to a tap's row
    private readonly int* _runMask;     // [panels * MaxRuns * NR]: -1 in the lanes each run supplies

    /// <summary>Most runs (pieces of consecutive output pixels along the last axis) a panel is packed from; more and it is gathered.</summary>
    private const int MaxRuns = 4;

    /// <summary>Floats of readable slack before and after each part's planes: a run's load may start up to 2·15 floats before its first tap and end 2·16 after.</summary>
    private const int Slack = 64;

    /// <summary>Whether the padded input of one group fits 32-bit gather offsets.</summary>
    public static bool Fits(WindowGeometry g, int channels) => PaddedFloats(g, channels) < int.MaxValue / 4;

    private static long PaddedFloats(WindowGeometry g, int channels)
    {
        long size = channels;
        for (int d = 0; d < WindowGeometry.Rank; d++) size *= g.PaddedExtent(d);
        return size;
    }

    public Im2ColPacker(BindContext context, WindowGeometry g, int channels, int parts)
    {
        _g = g;
        _channels = channels;
        _k = channels * g.KernelSize;
        _n = g.OutSize;
        _pd = g.PaddedExtent(0);
        _ph = g.PaddedExtent(1);
        _pw = g.PaddedExtent(2);
        _padded = false;
        for (int d = 0; d < WindowGeometry.Rank; d++) _padded |= g.PadBegin[d] != 0 || g.PaddedExtent(d) != g.In[d];

        _rowOffset = (int*)context.Scratch((long)_k * 4);
        g.TapOffsets(_rowOffset, channels, _pd, _ph, _pw);

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

        int panels = Sgemm.ColumnPanels(_n);
        int lastStride = g.Stride[WindowGeometry.Rank - 1];
        if (Avx512F.IsSupported && lastStride is 1 or 2)
        {
            _runStride = lastStride;
            _runCount = (byte*)context.Scratch(panels);
            _runBase = (int*)context.Scratch((long)panels * MaxRuns * 4);
            _runMask = (int*)context.Scratch((long)panels * MaxRuns * Sgemm.NR * 4);
            for (int panel = 0; panel < panels; panel++) FindRuns(panel);
            // Runs read a little before and after their taps: always read from the bordered copy, which has slack around it.
            _padded = true;
        }

        if (_padded)
        {
            _planeFloats = PaddedFloats(g, channels);
            _partFloats = _planeFloats + 2 * Slack;
            _planes = (float*)context.Scratch(_partFloats * parts * 4);
            // The border and the slack stay zero: Prepare only ever writes the interior.
            new Span<float>(_planes, checked((int)(_partFloats * parts))).Clear();
        }
    }

    /// <summary>
    /// Splits a panel's 16 output pixels into runs whose taps are <see cref="_runStride"/> apart in memory (the
    /// pixels of one output row): a run is then one load (stride 1) or two loads and an even-lane permute (stride 2)
    /// per tap instead of a 16-lane gather. Columns past N take whatever the last run reads; they are never stored.
    /// </summary>
    private void FindRuns(int panel)
    {
        const int nr = Sgemm.NR;
        int* pix = _pixelOffset + panel * nr;
        int valid = Math.Min(nr, _n - panel * nr);
        int runs = 0;
        int* mask = _runMask + (long)panel * MaxRuns * nr;
        new Span<int>(mask, MaxRuns * nr).Clear();
        for (int j0 = 0; j0 < valid;)
        {
            int j1 = j0 + 1;
            while (j1 < valid && pix[j1] - pix[j1 - 1] == _runStride) j1++;
            if (runs == MaxRuns)
            {
                _runCount[panel] = 0;
                return;
            }
            _runBase[panel * MaxRuns + runs] = pix[j0] - _runStride * j0;
            // The last run also fills the lanes past N.
            int end = j1 == valid ? nr : j1;
            for (int j = j0; j < end; j++) mask[runs * nr + j] = -1;
            runs++;
            j0 = j1;
        }
        _runCount[panel] = (byte)runs;
    }

    /// <summary>Unrolls one group of one image (<paramref name="x"/>: [channels, spatial]) into <paramref name="packedB"/>, using part <paramref name="part"/>'s buffer.</summary>
    public void Pack(float* x, float* packedB, int part) => PackPanels(Prepare(x, part), packedB, 0, Sgemm.ColumnPanels(_n));

    /// <summary>Returns the (padded, in part <paramref name="part"/>'s buffer when the conv pads) input that <see cref="PackPanels"/> reads.</summary>
    public float* Prepare(float* x, int part)
    {
        if (!_padded) return x;
        float* planes = _planes + part * _partFloats + Slack;
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
            if (_runStride != 0 && _runCount[panel] != 0)
            {
                PackRuns(src, dst, panel);
                continue;
            }
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

    /// <summary>Packs one panel from its runs (see <see cref="FindRuns"/>): per tap, one load or permuted pair per run, merged by lane masks.</summary>
    private void PackRuns(float* src, float* dst, int panel)
    {
        const int nr = Sgemm.NR;
        int runs = _runCount[panel];
        int* bases = _runBase + panel * MaxRuns;
        int* masks = _runMask + (long)panel * MaxRuns * nr;
        int b0 = bases[0], b1 = bases[1], b2 = bases[2], b3 = bases[3];
        var m1 = Vector512.Load(masks + nr).AsSingle();
        var m2 = Vector512.Load(masks + 2 * nr).AsSingle();
        var m3 = Vector512.Load(masks + 3 * nr).AsSingle();
        bool two = _runStride == 2;
        // Lane j of a stride-2 run is element 2j of the 32 floats from its base.
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        for (int p = 0; p < _k; p++, dst += nr)
        {
            float* row = src + _rowOffset[p];
            var v = Fetch(row + b0, two, even);
            if (runs > 1) v = Vector512.ConditionalSelect(m1, Fetch(row + b1, two, even), v);
            if (runs > 2) v = Vector512.ConditionalSelect(m2, Fetch(row + b2, two, even), v);
            if (runs > 3) v = Vector512.ConditionalSelect(m3, Fetch(row + b3, two, even), v);
            v.Store(dst);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fetch(float* at, bool strideTwo, Vector512<int> even) =>
        strideTwo ? Avx512F.PermuteVar16x32x2(Vector512.Load(at), even, Vector512.Load(at + 16)) : Vector512.Load(at);

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
