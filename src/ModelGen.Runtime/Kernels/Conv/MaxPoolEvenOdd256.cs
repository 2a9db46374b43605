using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// 2-D max pooling with windows 3 columns wide at column stride 2 (the 3×3/2 pools of SqueezeNet and ResNet-50) on AVX2
/// (<see cref="FloatIsa.Avx2"/>), any window height, row stride, row pads, a column pad of 0 or 1, and ceil_mode. Output
/// rows go in bands of <see cref="BandRows"/>. For each row of a band a vertical pass takes the max down the window's
/// rows, 16 padded columns at a time, and splits it into its even and odd columns (E and O, one permute pair per 16
/// columns, stored in a small per-part buffer); then a horizontal pass over the band gives out[j] = max(E[j], O[j],
/// E[j + 1]) from three loads of that buffer, 8 outputs per vector.
/// </summary>
/// <remarks>
/// <para>Why: <see cref="MaxPoolRows256"/> takes any window width, so it shifts in registers by a width known at run
/// time (two permutes, a blend and their index vectors per shift) and splits every block afresh at each row's start;
/// SqueezeNet's 13-wide output rows are two vectors, so that start was a third of each row. Here the inner loops are
/// straight loads, maxes and one permute pair, and the only masked accesses are the loads of a row's first and last
/// block when they reach past the input row, and the store of a row narrower than one vector (a wider row's last,
/// partial vector is recomputed ending at its last output and stored whole).</para>
/// <para>The band keeps the horizontal loads away from the stores they read: a load that straddles two vector stores
/// still in the store buffer cannot be forwarded and waits for both to commit (the remark on
/// <see cref="MaxPoolRows"/>). By the time the horizontal pass reads a row, the rest of the band was written after it.</para>
/// <para>Same results as the one-pass loop: max is exact in any order and −∞ is its identity; <see cref="Ieee256.Max"/>
/// propagates NaN and orders −0 below +0 like <see cref="MathF.Max(float, float)"/>.</para>
/// </remarks>
internal readonly unsafe struct MaxPoolEvenOdd256
{
    /// <summary>Output rows whose vertical pass runs before their horizontal one.</summary>
    private const int BandRows = 8;

    private readonly int _ih, _iw, _oh, _ow, _kh, _sh, _ph, _pw;
    private readonly int _blocks;  // 16-column blocks of the padded row that the outputs read
    private readonly int _stride;  // floats of one E or O row in the band buffer
    private readonly bool _orderedFits; // every window's columns hold one input column at least (see OrderedMax)
    private readonly bool _rightInside; // every column the outputs read on the right is inside the row (see Vertical)

    /// <summary>Whether <paramref name="g"/> fits this path and kernels are bound for AVX2.</summary>
    public static bool Fits(WindowGeometry g) =>
        FloatIsaSelector.Current == FloatIsa.Avx2 && Pool2D.Fits(g) && g.Kernel[2] == 3 && g.Stride[2] == 2 && g.PadBegin[2] <= 1;

    public MaxPoolEvenOdd256(WindowGeometry g)
    {
        _ih = g.In[1]; _iw = g.In[2]; _oh = g.Out[1]; _ow = g.Out[2];
        _kh = g.Kernel[1]; _sh = g.Stride[1]; _ph = g.PadBegin[1]; _pw = g.PadBegin[2];
        // The outputs read padded columns 0 … 2·ow: E[0 … ow] and O[0 … ow - 1].
        _blocks = (2 * _ow + 1 + 15) / 16;
        // The horizontal pass reads E[j + 1 … j + 9) for j up to ow - 1: one vector past the blocks.
        _stride = _blocks * 8 + 8;
        // The first window starts at input column −pw ≥ −1, so it reaches column 1; the last starts at 2·(ow − 1) − pw,
        // which ceil_mode may put past the row.
        _orderedFits = 2 * (_ow - 1) - _pw <= _iw - 1;
        // The last output reads padded column 2·ow, input column 2·ow − pw.
        _rightInside = 2 * _ow - _pw <= _iw - 1;
    }

    /// <summary>Floats of the band buffer one part needs (<see cref="Plane"/>'s <c>band</c>).</summary>
    public int BandFloats => BandRows * 2 * _stride;

    /// <summary>Pools one [H, W] plane of <paramref name="x"/> into <paramref name="y"/>, with <paramref name="band"/> (<see cref="BandFloats"/>) as scratch.</summary>
    /// <remarks>
    /// Each band first runs with <see cref="OrderedMax"/>, one instruction a max, which is exact when no window holds a value
    /// with its sign bit set; the band's outputs then all have it clear, and one test of their OR says so. A band whose
    /// test fails is run again with <see cref="IeeeMax"/>, and so is the rest of the plane, so a plane of negatives costs
    /// one wasted band, not one per band. A pool after a Relu (SqueezeNet's, ResNet-50's) never falls back. On one core of
    /// the AVX2 EPYC (SqueezeNet's profile, fastest calls of two alternating runs) its three pools went 216 / 211 → 200 /
    /// 197, 120 / 120 → 104 / 103 and 80 / 79 → 76 / 76 µs: less than the instruction count fell, as the pools also wait
    /// for their input (the first reads the stem's 3.1 MB output).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Plane(float* x, float* y, float* band, float* readEnd)
    {
        bool exact = !_orderedFits;
        for (int first = 0; first < _oh; first += BandRows)
        {
            int rows = Math.Min(BandRows, _oh - first);
            if (!exact)
            {
                var signs = Band<OrderedMax>(x, y, band, first, rows, readEnd);
                if (Avx.MoveMask(signs) == 0) continue;
                exact = true;
            }
            Band<IeeeMax>(x, y, band, first, rows, readEnd);
        }
    }

    /// <summary>Output rows [<paramref name="first"/>, +<paramref name="rows"/>) with <typeparamref name="TMax"/>; returns the OR of the outputs written.</summary>
    /// <remarks>
    /// The two passes are inlined here: called per row, their entries and prologues were a tenth of a small map's time. One
    /// core of the AVX2 EPYC, pools alone with warm caches (<c>--layer-spread --no-flush</c>, fastest call, two alternating runs):
    /// 16 planes of 27×27 3.9 / 6.1 → 3.4 / 3.5 µs, 8 of 55×55 6.4 / 7.0 → 6.0 / 6.2 µs, 4 of 111×111 10.2 / 10.3 → 9.7 / 10.0 µs.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Vector256<float> Band<TMax>(float* x, float* y, float* band, int first, int rows, float* readEnd) where TMax : struct, IPoolMax256
    {
        for (int r = 0; r < rows; r++)
        {
            float* e = band + (long)r * 2 * _stride;
            int h0 = (first + r) * _sh - _ph;
            int hBegin = Math.Max(h0, 0), hEnd = Math.Min(h0 + _kh, _ih);
            Vertical<TMax>(x + (long)hBegin * _iw, hEnd - hBegin, e, e + _stride, readEnd);
        }
        var signs = Vector256<float>.Zero;
        for (int r = 0; r < rows; r++)
        {
            float* e = band + (long)r * 2 * _stride;
            signs |= Horizontal<TMax>(e, e + _stride, y + (long)(first + r) * _ow);
        }
        return signs;
    }

    /// <summary>The max down <paramref name="rows"/> input rows from <paramref name="top"/>, split into its even and odd padded columns.</summary>
    /// <remarks>
    /// A block that reaches past the row's end is read whole, on into the next row, when no output uses its columns past
    /// the end (<see cref="_rightInside"/>) and the read stays before <paramref name="readEnd"/>: those lanes hold another
    /// row's values, which no output reads. Only the left pad, ceil_mode's overshoot and the tensor's last row take the
    /// masked loads. SqueezeNet's 13-wide pool has 2 blocks a row, so its last block was half of each row's loads.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Vertical<TMax>(float* top, int rows, float* e, float* o, float* readEnd) where TMax : struct, IPoolMax256
    {
        // Columns up to this one may be read unmasked: the row's end, or, when that is safe, the last block's end.
        int unmaskedEnd = _rightInside && rows > 0 && top + (long)(rows - 1) * _iw + 16 * _blocks - _pw <= readEnd ? 16 * _blocks - _pw : _iw;
        for (int q = 0; q < _blocks; q++)
        {
            int c = 16 * q - _pw;
            Vector256<float> lo, hi;
            if (rows <= 0)
            {
                // A window wholly in the row pads (only with pads taller than the window reaches): −∞, whose sign bit
                // also sends an ordered band to the exact max.
                lo = hi = Vector256.Create(float.NegativeInfinity);
            }
            else if (c >= 0 && c + 16 <= unmaskedEnd)
            {
                lo = Down<TMax>(top, rows, c);
                hi = Down<TMax>(top, rows, c + 8);
            }
            else
            {
                lo = DownMasked<TMax>(top, rows, c);
                hi = DownMasked<TMax>(top, rows, c + 8);
            }
            // Each half sorted into its 4 evens then its 4 odds; the lower 128 bits of both halves are then the evens.
            var order = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
            var l = Avx2.PermuteVar8x32(lo, order);
            var h = Avx2.PermuteVar8x32(hi, order);
            Avx.Permute2x128(l, h, 0x20).Store(e + 8 * q);
            Avx.Permute2x128(l, h, 0x31).Store(o + 8 * q);
        }
    }

    /// <summary>Max down <paramref name="rows"/> rows of input columns [c, c + 8), all inside the row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<float> Down<TMax>(float* top, int rows, int c) where TMax : struct, IPoolMax256
    {
        float* p = top + c;
        var acc = Vector256.Load(p);
        if (rows == 3) return TMax.Max(TMax.Max(acc, Vector256.Load(p + _iw)), Vector256.Load(p + 2 * _iw));
        for (int r = 1; r < rows; r++) acc = TMax.Max(acc, Vector256.Load(p + (long)r * _iw));
        return acc;
    }

    /// <summary>Max down <paramref name="rows"/> rows of input columns [c, c + 8); −∞ for columns outside the row.</summary>
    // Out of line (a row's edge blocks only), and fully optimized at once: a tier-0 copy called per row stays slow.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private Vector256<float> DownMasked<TMax>(float* top, int rows, int c) where TMax : struct, IPoolMax256
    {
        var outside = TMax.Outside;
        if (c >= _iw || c + 8 <= 0) return outside;
        // Lanes of columns inside the row; masked-off lanes are neither read nor faulted on (vmaskmovps), and read as 0.
        var column = Vector256<int>.Indices + Vector256.Create(c);
        var mask = (Vector256.GreaterThanOrEqual(column, Vector256<int>.Zero) & Vector256.LessThan(column, Vector256.Create(_iw))).AsSingle();
        var acc = Avx.MaskLoad(top + c, mask);
        for (int r = 1; r < rows; r++) acc = TMax.Max(acc, Avx.MaskLoad(top + (long)r * _iw + c, mask));
        return Avx.BlendVariable(outside, acc, mask);
    }

    /// <summary>out[j] = max(E[j], O[j], E[j + 1]) for the <c>ow</c> outputs of one row; returns the OR of the outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<float> Horizontal<TMax>(float* e, float* o, float* yRow) where TMax : struct, IPoolMax256
    {
        int ow = _ow;
        if (ow < 8)
        {
            var mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(ow)).AsSingle();
            var v = Output<TMax>(e, o, 0);
            Avx.MaskStore(yRow, mask, v);
            return v & mask;
        }
        var signs = Vector256<float>.Zero;
        int j = 0;
        for (; j <= ow - 8; j += 8)
        {
            var v = Output<TMax>(e, o, j);
            v.Store(yRow + j);
            signs |= v;
        }
        // The last, partial vector ends at the row's last output; the outputs it repeats get the same values again.
        if (j < ow)
        {
            var v = Output<TMax>(e, o, ow - 8);
            v.Store(yRow + ow - 8);
            signs |= v;
        }
        return signs;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Output<TMax>(float* e, float* o, int j) where TMax : struct, IPoolMax256 =>
        TMax.Max(TMax.Max(Vector256.Load(e + j), Vector256.Load(o + j)), Vector256.Load(e + j + 1));

    /// <summary>The max a pass of the pool takes, and what columns outside the input row count as.</summary>
    private interface IPoolMax256
    {
        static abstract Vector256<float> Max(Vector256<float> a, Vector256<float> b);

        static abstract Vector256<float> Outside { get; }
    }

    /// <summary><see cref="MathF.Max(float, float)"/>'s max (<see cref="Ieee256.Max"/>); columns outside the row are −∞.</summary>
    private readonly struct IeeeMax : IPoolMax256
    {
        public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Ieee256.Max(a, b);

        public static Vector256<float> Outside => Vector256.Create(float.NegativeInfinity);
    }

    /// <summary>
    /// The max of the floats' bits as unsigned integers (<c>vpmaxud</c>, one instruction): for values whose sign bit is
    /// clear (+0 up to +∞, then the NaNs) that order is the floats' order with NaN above all, as MathF.Max has it; any
    /// value with the sign bit set (a negative, −0, a negative NaN) wins instead and marks the output, which
    /// <see cref="Plane"/> tests. Columns outside the row are +0, which never beats a window's values: in this order every
    /// window holds one input column at least (<see cref="_orderedFits"/>), and that column is +0 or above.
    /// </summary>
    private readonly struct OrderedMax : IPoolMax256
    {
        public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) => Avx2.Max(a.AsUInt32(), b.AsUInt32()).AsSingle();

        public static Vector256<float> Outside => Vector256<float>.Zero;
    }
}
