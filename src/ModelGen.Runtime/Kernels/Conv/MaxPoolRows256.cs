using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// <see cref="MaxPoolRows"/> for AVX2 (<see cref="FloatIsa.Avx2"/>): 2-D max pooling at column stride 1 or 2, any window,
/// pads and ceil_mode, per output row in two passes over a row buffer of the part's own. First the max down the window's
/// rows, 8 columns at a time, into the buffer at padded column q = column + left pad, with −∞ in the pads; at stride 2
/// the buffer is then split into its even and odd columns (one permute pair per 16). Then each block of 8 outputs is the
/// max of kw contiguous loads: out[j] = max over k of buf[j + k], or at stride 2 of evens[j + k / 2] (k even) and
/// odds[j + k / 2] (k odd).
/// </summary>
/// <remarks>
/// AVX2 has no two-register lane shift (AVX-512's <c>valignd</c>), so the window's columns come from unaligned loads of
/// the buffer instead of registers. Same results bit for bit as the one-pass loop: max is exact in any order and −∞
/// is its identity; the vector max propagates NaN and orders −0 below +0 like <see cref="MathF.Max(float, float)"/>.
/// </remarks>
internal readonly unsafe struct MaxPoolRows256
{
    private readonly int _ih, _iw, _oh, _ow, _kh, _kw, _sh, _sw, _ph, _pw;
    private readonly int _row;    // floats of the padded row: every window's columns, rounded up to whole vectors, plus a vector
    private readonly int _phase;  // floats of each of the even and odd rows at stride 2

    /// <summary>Whether <paramref name="g"/> fits this path and kernels are bound for AVX2.</summary>
    public static bool Fits(WindowGeometry g) =>
        FloatIsaSelector.Current == FloatIsa.Avx2 && Pool2D.Fits(g) && (g.Stride[2] == 1 || g.Stride[2] == 2);

    public MaxPoolRows256(WindowGeometry g)
    {
        _ih = g.In[1]; _iw = g.In[2]; _oh = g.Out[1]; _ow = g.Out[2];
        _kh = g.Kernel[1]; _kw = g.Kernel[2]; _sh = g.Stride[1]; _sw = g.Stride[2];
        _ph = g.PadBegin[1]; _pw = g.PadBegin[2];
        int outVectors = (_ow + 7) / 8 * 8;
        // The last output block reads up to (outVectors - 1) · sw + kw padded columns; the input covers pw + iw of them.
        int reach = Math.Max((outVectors - 1) * _sw + _kw, _pw + _iw);
        _row = (reach + 7) / 8 * 8 + 16;
        _phase = _row / 2 + 8;
    }

    /// <summary>Floats of the buffer one part needs.</summary>
    public long BufferFloats => _row + 2L * _phase;

    /// <summary>Pools one [H, W] plane of <paramref name="x"/> into <paramref name="y"/>, using <paramref name="buffer"/> (<see cref="BufferFloats"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Plane(float* x, float* y, float* buffer)
    {
        var negInf = Vector256.Create(float.NegativeInfinity);
        // The pads never change: −∞ once per plane, the interior rewritten per row.
        for (int q = 0; q < _row; q += 8) negInf.Store(buffer + q);
        float* evens = buffer + _row, odds = evens + _phase;
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
            ColumnMax(x + (long)hBegin * _iw, hEnd - hBegin, buffer + _pw);
            if (_sw == 1)
            {
                for (int ow = 0; ow < _ow; ow += 8)
                {
                    var r = Vector256.Load(buffer + ow);
                    for (int k = 1; k < _kw; k++) r = Vector256.Max(r, Vector256.Load(buffer + ow + k));
                    Store(yRow, ow, r);
                }
                continue;
            }
            Split(buffer, evens, odds);
            for (int ow = 0; ow < _ow; ow += 8)
            {
                var r = Vector256.Load(evens + ow);
                for (int k = 1; k < _kw; k++) r = Vector256.Max(r, Vector256.Load(((k & 1) == 0 ? evens : odds) + ow + (k >> 1)));
                Store(yRow, ow, r);
            }
        }
    }

    /// <summary>Max down <paramref name="rows"/> rows from <paramref name="top"/> of each input column, into <paramref name="to"/>[0, iw).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void ColumnMax(float* top, int rows, float* to)
    {
        int c = 0;
        for (; c + 8 <= _iw; c += 8)
        {
            var acc = Vector256.Load(top + c);
            for (int r = 1; r < rows; r++) acc = Vector256.Max(acc, Vector256.Load(top + (long)r * _iw + c));
            acc.Store(to + c);
        }
        if (c == _iw) return;
        // The last partial vector, masked: its other lanes are neither read (no fault past the row) nor written (the
        // buffer's −∞ after the row stays). SqueezeNet's 111-wide rows end in 7 such columns.
        var mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(_iw - c)).AsSingle();
        var last = Avx.MaskLoad(top + c, mask);
        for (int r = 1; r < rows; r++) last = Vector256.Max(last, Avx.MaskLoad(top + (long)r * _iw + c, mask));
        Avx.MaskStore(to + c, mask, last);
    }

    /// <summary>evens[t] = row[2t], odds[t] = row[2t + 1] over the whole padded row, 16 columns per permute pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Split(float* row, float* evens, float* odds)
    {
        var order = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
        for (int q = 0; q + 16 <= _row; q += 16)
        {
            // Each half sorted into its 4 evens then its 4 odds; the lower 128 bits of both are the evens.
            var lo = Avx2.PermuteVar8x32(Vector256.Load(row + q), order);
            var hi = Avx2.PermuteVar8x32(Vector256.Load(row + q + 8), order);
            Avx.Permute2x128(lo, hi, 0x20).Store(evens + q / 2);
            Avx.Permute2x128(lo, hi, 0x31).Store(odds + q / 2);
        }
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
