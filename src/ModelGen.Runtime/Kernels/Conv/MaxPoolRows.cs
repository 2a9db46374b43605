using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// 2-D max pooling at column stride 1 or 2 with windows up to 17 columns wide, any pads and ceil_mode (SqueezeNet's
/// and ResNet's 3×3/2 pools), all in registers: per output row and block of 16 outputs, the max down the window's
/// rows of the block's input columns (masked loads give −∞ in the pads and past the row), then the max across each
/// window by lane shifts of those column maxima and the next block's, which the next block reuses. At stride 2 one
/// permute pair splits the columns into even and odd ones first: out[j] = max over k of col[2j + k], where k = 2m is
/// the even columns shifted by m lanes and k = 2m + 1 the odd ones.
/// </summary>
/// <remarks>
/// <para>Same results bit for bit: max is exact in any order, −∞ is the identity of the max (the one-pass loop
/// starts from it too, so a window wholly in the pads gives −∞ either way), and the vector max propagates NaN and
/// orders −0 below +0 like <see cref="MathF.Max(float, float)"/>.</para>
/// <para>Measured on SqueezeNet's first pool (64 planes of 111×111, 3×3/2), one thread, caches warm: 137 µs when the
/// column maxima went through a row buffer and were read back at offsets 1 and 2 (such loads straddle two vector
/// stores still in flight, which the store buffer cannot forward), 102–111 µs in registers; SqueezeNet's three pools
/// in the network on two cores (alternating profiles of the two builds) 327–359 → 210–217 µs.</para>
/// </remarks>
internal readonly unsafe struct MaxPoolRows
{
    /// <summary>Widest window: lane shifts reach at most 16 lanes (stride 1) or 8 even and odd lanes (stride 2) into the next block.</summary>
    private const int MaxWindow = 17;

    private readonly int _ih, _iw, _oh, _ow, _kh, _kw, _sh, _sw, _ph, _pw;

    /// <summary>Whether <paramref name="g"/> fits this path (and the machine has AVX-512).</summary>
    public static bool Fits(WindowGeometry g) =>
        FloatIsaSelector.Current == FloatIsa.Avx512 && Pool2D.Fits(g) && (g.Stride[2] == 1 || g.Stride[2] == 2) && g.Kernel[2] <= MaxWindow;

    public MaxPoolRows(WindowGeometry g)
    {
        _ih = g.In[1]; _iw = g.In[2]; _oh = g.Out[1]; _ow = g.Out[2];
        _kh = g.Kernel[1]; _kw = g.Kernel[2]; _sh = g.Stride[1]; _sw = g.Stride[2];
        _ph = g.PadBegin[1]; _pw = g.PadBegin[2];
    }

    /// <summary>Pools one [H, W] plane of <paramref name="x"/> into <paramref name="y"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Plane(float* x, float* y)
    {
        for (int oh = 0; oh < _oh; oh++)
        {
            int h0 = oh * _sh - _ph;
            int hBegin = Math.Max(h0, 0), hEnd = Math.Min(h0 + _kh, _ih);
            float* yRow = y + (long)oh * _ow;
            if (hEnd <= hBegin)
            {
                for (int ow = 0; ow < _ow; ow++) yRow[ow] = float.NegativeInfinity;
                continue;
            }
            float* top = x + (long)hBegin * _iw;
            if (_sw == 2) Stride2Row(top, hEnd - hBegin, yRow);
            else Stride1Row(top, hEnd - hBegin, yRow);
        }
    }

    private void Stride1Row(float* top, int rows, float* yRow)
    {
        int c = -_pw;
        var cur = ColumnMax(top, rows, c);
        for (int ow = 0; ow < _ow; ow += 16, c += 16)
        {
            var next = ColumnMax(top, rows, c + 16);
            var result = cur;
            for (int k = 1; k < _kw; k++) result = Vector512.Max(result, Shift(next, cur, k));
            Store(yRow, ow, result);
            cur = next;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Stride2Row(float* top, int rows, float* yRow)
    {
        var even = RowPairs.EvenLanes;
        var odd = even + Vector512<int>.One;
        int c = -_pw;
        var lo = ColumnMax(top, rows, c);
        var hi = ColumnMax(top, rows, c + 16);
        for (int ow = 0; ow < _ow; ow += 16, c += 32)
        {
            var nextLo = ColumnMax(top, rows, c + 32);
            var nextHi = ColumnMax(top, rows, c + 48);
            var evens = Avx512F.PermuteVar16x32x2(lo, even, hi);
            var result = evens;
            if (_kw > 1)
            {
                var odds = Avx512F.PermuteVar16x32x2(lo, odd, hi);
                result = Vector512.Max(result, odds);
                if (_kw > 2)
                {
                    // The next block's even and odd columns: only its first (kw - 1) / 2 of each are shifted in.
                    var nextEvens = Avx512F.PermuteVar16x32x2(nextLo, even, nextLo);
                    var nextOdds = Avx512F.PermuteVar16x32x2(nextLo, odd, nextLo);
                    for (int k = 2; k < _kw; k++)
                    {
                        result = Vector512.Max(result, (k & 1) == 0 ? Shift(nextEvens, evens, k >> 1) : Shift(nextOdds, odds, k >> 1));
                    }
                }
            }
            Store(yRow, ow, result);
            lo = nextLo;
            hi = nextHi;
        }
    }

    /// <summary>Max down <paramref name="rows"/> rows of input columns [c, c + 16); −∞ for columns outside the row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector512<float> ColumnMax(float* top, int rows, int c)
    {
        if (c >= 0 && c + 16 <= _iw)
        {
            var acc = Vector512.Load(top + c);
            for (int r = 1; r < rows; r++) acc = Vector512.Max(acc, Vector512.Load(top + (long)r * _iw + c));
            return acc;
        }
        var negInf = Vector512.Create(float.NegativeInfinity);
        if (c >= _iw || c + 16 <= 0) return negInf;
        // Lanes of columns inside the row; masked-off lanes are neither read nor faulted on.
        var column = Vector512<int>.Indices + Vector512.Create(c);
        var mask = (Vector512.GreaterThanOrEqual(column, Vector512<int>.Zero) & Vector512.LessThan(column, Vector512.Create(_iw))).AsSingle();
        var masked = Avx512F.MaskLoad(top + c, mask, negInf);
        for (int r = 1; r < rows; r++) masked = Vector512.Max(masked, Avx512F.MaskLoad(top + (long)r * _iw + c, mask, negInf));
        return masked;
    }

    /// <summary>Lanes [m, m + 16) of (<paramref name="low"/>, <paramref name="high"/>): the block shifted m columns right, 0 &lt; m &lt; 17.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Shift(Vector512<float> high, Vector512<float> low, int m)
    {
        // valignd takes its count as an immediate: one constant per case.
        var h = high.AsInt32();
        var l = low.AsInt32();
        return (m switch
        {
            1 => Avx512F.AlignRight32(h, l, 1),
            2 => Avx512F.AlignRight32(h, l, 2),
            3 => Avx512F.AlignRight32(h, l, 3),
            4 => Avx512F.AlignRight32(h, l, 4),
            5 => Avx512F.AlignRight32(h, l, 5),
            6 => Avx512F.AlignRight32(h, l, 6),
            7 => Avx512F.AlignRight32(h, l, 7),
            8 => Avx512F.AlignRight32(h, l, 8),
            9 => Avx512F.AlignRight32(h, l, 9),
            10 => Avx512F.AlignRight32(h, l, 10),
            11 => Avx512F.AlignRight32(h, l, 11),
            12 => Avx512F.AlignRight32(h, l, 12),
            13 => Avx512F.AlignRight32(h, l, 13),
            14 => Avx512F.AlignRight32(h, l, 14),
            15 => Avx512F.AlignRight32(h, l, 15),
            _ => h,
        }).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Store(float* yRow, int ow, Vector512<float> result)
    {
        int outputs = _ow - ow;
        if (outputs >= 16) result.Store(yRow + ow);
        else Avx512F.MaskStore(yRow + ow, RowPairs.Mask(outputs), result);
    }
}
