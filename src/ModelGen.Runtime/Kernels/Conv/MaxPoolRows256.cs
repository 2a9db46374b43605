using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// <see cref="MaxPoolRows"/> for AVX2 (<see cref="FloatIsa.Avx2"/>): 2-D max pooling at column stride 1 or 2 with windows
/// up to 9 (stride 1) or 17 (stride 2) columns wide, any pads and ceil_mode, all in registers. Per output row and block of
/// 8 outputs: the max down the window's rows of the block's input columns (masked loads, −∞ in the pads and past the row),
/// then the max across each window of lane shifts of those column maxima and the next block's, which the next block
/// reuses. At stride 2 a permute pair first splits 16 columns into 8 even and 8 odd ones: out[j] = max over k of
/// col[2j + k], where k = 2m is the even columns shifted by m lanes and k = 2m + 1 the odd ones.
/// </summary>
/// <remarks>
/// AVX2 has no two-register lane shift (AVX-512's <c>valignd</c>): a shift by m is two lane permutes and a blend. The first
/// version kept the column maxima in a row buffer and read them back at offsets 1 and 2; such loads straddle two vector
/// stores still in flight, which the store buffer cannot forward (the remark on <see cref="MaxPoolRows"/>), and
/// SqueezeNet's 3×3/2 pools took about twice ONNX Runtime's time. The same results as the one-pass loop: max is exact in
/// any order and −∞ is its identity; <see cref="Ieee256.Max"/> propagates NaN (as a NaN of its own payload) and orders −0
/// below +0 like <see cref="MathF.Max(float, float)"/>.
/// </remarks>
internal readonly unsafe struct MaxPoolRows256
{
    /// <summary>Widest window at stride 1: a shift reaches at most 8 lanes into the next block (16 even and odd ones at stride 2).</summary>
    private const int MaxWindow = 9;

    private readonly int _ih, _iw, _oh, _ow, _kh, _kw, _sh, _sw, _ph, _pw;

    /// <summary>Whether <paramref name="g"/> fits this path and kernels are bound for AVX2.</summary>
    public static bool Fits(WindowGeometry g) =>
        FloatIsaSelector.Current == FloatIsa.Avx2 && Pool2D.Fits(g) && (g.Stride[2] == 1 || g.Stride[2] == 2)
        && g.Kernel[2] <= (g.Stride[2] == 1 ? MaxWindow : 2 * MaxWindow - 1);

    public MaxPoolRows256(WindowGeometry g)
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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Stride1Row(float* top, int rows, float* yRow)
    {
        int c = -_pw;
        var cur = ColumnMax(top, rows, c);
        for (int ow = 0; ow < _ow; ow += 8, c += 8)
        {
            var next = ColumnMax(top, rows, c + 8);
            var result = cur;
            for (int k = 1; k < _kw; k++) result = Ieee256.Max(result, Shift(cur, next, k));
            Store(yRow, ow, result);
            cur = next;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Stride2Row(float* top, int rows, float* yRow)
    {
        int c = -_pw;
        Split(ColumnMax(top, rows, c), ColumnMax(top, rows, c + 8), out var evens, out var odds);
        for (int ow = 0; ow < _ow; ow += 8, c += 16)
        {
            Split(ColumnMax(top, rows, c + 16), ColumnMax(top, rows, c + 24), out var nextEvens, out var nextOdds);
            var result = evens;
            if (_kw > 1) result = Ieee256.Max(result, odds);
            for (int k = 2; k < _kw; k++)
            {
                result = Ieee256.Max(result, (k & 1) == 0 ? Shift(evens, nextEvens, k >> 1) : Shift(odds, nextOdds, k >> 1));
            }
            Store(yRow, ow, result);
            evens = nextEvens;
            odds = nextOdds;
        }
    }

    /// <summary>Max down <paramref name="rows"/> rows of input columns [c, c + 8); −∞ for columns outside the row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private Vector256<float> ColumnMax(float* top, int rows, int c)
    {
        if (c >= 0 && c + 8 <= _iw)
        {
            var acc = Vector256.Load(top + c);
            for (int r = 1; r < rows; r++) acc = Ieee256.Max(acc, Vector256.Load(top + (long)r * _iw + c));
            return acc;
        }
        var negInf = Vector256.Create(float.NegativeInfinity);
        if (c >= _iw || c + 8 <= 0) return negInf;
        // Lanes of columns inside the row; masked-off lanes are neither read nor faulted on (vmaskmovps), and read as 0.
        var column = Vector256<int>.Indices + Vector256.Create(c);
        var mask = (Vector256.GreaterThanOrEqual(column, Vector256<int>.Zero) & Vector256.LessThan(column, Vector256.Create(_iw))).AsSingle();
        var acc2 = Avx.MaskLoad(top + c, mask);
        for (int r = 1; r < rows; r++) acc2 = Ieee256.Max(acc2, Avx.MaskLoad(top + (long)r * _iw + c, mask));
        return Avx.BlendVariable(negInf, acc2, mask);
    }

    /// <summary>Columns 0, 2, …, 14 and 1, 3, …, 15 of the 16 in (<paramref name="lo"/>, <paramref name="hi"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Split(Vector256<float> lo, Vector256<float> hi, out Vector256<float> evens, out Vector256<float> odds)
    {
        // Each half sorted into its 4 evens then its 4 odds; the lower 128 bits of both halves are then the evens.
        var order = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        var l = Avx2.PermuteVar8x32(lo, order);
        var h = Avx2.PermuteVar8x32(hi, order);
        evens = Avx.Permute2x128(l, h, 0x20);
        odds = Avx.Permute2x128(l, h, 0x31);
    }

    /// <summary>Lanes [m, m + 8) of (<paramref name="low"/>, <paramref name="high"/>): the block shifted m columns on, 0 &lt; m ≤ 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Shift(Vector256<float> low, Vector256<float> high, int m)
    {
        if (m >= 8) return high;
        // Both rotated left by m lanes; the top m lanes come from the high block.
        var index = (Vector256<int>.Indices + Vector256.Create(m)) & Vector256.Create(7);
        var fromHigh = Vector256.GreaterThanOrEqual(Vector256<int>.Indices, Vector256.Create(8 - m)).AsSingle();
        return Avx.BlendVariable(Avx2.PermuteVar8x32(low, index), Avx2.PermuteVar8x32(high, index), fromHigh);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Store(float* yRow, int ow, Vector256<float> result)
    {
        int outputs = _ow - ow;
        if (outputs >= 8)
        {
            result.Store(yRow + ow);
            return;
        }
        var mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(outputs)).AsSingle();
        Avx.MaskStore(yRow + ow, mask, result);
    }
}
