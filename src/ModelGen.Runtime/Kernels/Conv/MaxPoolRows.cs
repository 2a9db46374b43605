using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// 2-D max pooling at column stride 1 or 2 with any window width, pads and ceil_mode (SqueezeNet's and
/// ResNet's 3×3/2 pools), all at SIMD width: per output row, the max down the window's rows goes into a
/// row buffer whose pad and overhang columns hold −∞, then 16 outputs take the max of kw vectors read
/// from that buffer: out[j] = max over k of r[s·j + k], at stride 2 two loads and an even-lane permute
/// per k. <see cref="Pool2D"/>'s scalar pass across the windows was most of its time on these pools.
/// </summary>
/// <remarks>
/// Same results bit for bit: max is exact in any order, −∞ is the identity of the max (the one-pass loop
/// starts from it too, so a window wholly in the pads gives −∞ either way), and the vector max propagates
/// NaN and orders −0 below +0 like <see cref="MathF.Max(float, float)"/>.
/// </remarks>
internal readonly unsafe struct MaxPoolRows
{
    /// <summary>Widest input row whose row buffer goes on the stack (64 KB).</summary>
    private const int MaxRow = 16384;

    private readonly int _ih, _iw, _oh, _ow, _kh, _kw, _sh, _sw, _ph, _pw;
    private readonly int _bufferFloats;

    /// <summary>Whether <paramref name="g"/> fits this path (and the machine has AVX-512).</summary>
    public static bool Fits(WindowGeometry g) =>
        Avx512F.IsSupported && Pool2D.Fits(g) && (g.Stride[2] == 1 || g.Stride[2] == 2) && g.In[2] <= MaxRow && g.Kernel[2] <= MaxRow;

    public MaxPoolRows(WindowGeometry g)
    {
        _ih = g.In[1]; _iw = g.In[2]; _oh = g.Out[1]; _ow = g.Out[2];
        _kh = g.Kernel[1]; _kw = g.Kernel[2]; _sh = g.Stride[1]; _sw = g.Stride[2];
        _ph = g.PadBegin[1]; _pw = g.PadBegin[2];
        // The last 16-output block reads up to s·(16·blocks − 1) + kw − 1 buffer columns, and at stride 2 its
        // second load 16 more; the buffer covers that and the whole padded input row.
        int blocks = (_ow + 15) / 16;
        _bufferFloats = Math.Max(_pw + _iw, _sw * 16 * blocks + _kw + 16);
    }

    /// <summary>Pools one [H, W] plane of <paramref name="x"/> into <paramref name="y"/>.</summary>
    public void Plane(float* x, float* y)
    {
        float* row = stackalloc float[_bufferFloats];
        // Left pads and everything past the input stay −∞: the row pass writes columns [pw, pw + iw) only.
        var negInf = Vector512.Create(float.NegativeInfinity);
        for (int i = 0; i < _bufferFloats; i++) row[i] = float.NegativeInfinity;
        float* inner = row + _pw;
        int fullColumns = _iw & ~15;
        var tailMask = Mask(_iw - fullColumns);
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
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

            // Pass 1: the max down the window's rows, whole input row at SIMD width.
            float* top = x + (long)hBegin * _iw;
            int rows = hEnd - hBegin;
            int w = 0;
            for (; w < fullColumns; w += 16)
            {
                var acc = Vector512.Load(top + w);
                for (int r = 1; r < rows; r++) acc = Vector512.Max(acc, Vector512.Load(top + (long)r * _iw + w));
                acc.Store(inner + w);
            }
            if (w < _iw)
            {
                var acc = Avx512F.MaskLoad(top + w, tailMask, negInf);
                for (int r = 1; r < rows; r++) acc = Vector512.Max(acc, Avx512F.MaskLoad(top + (long)r * _iw + w, tailMask, negInf));
                Avx512F.MaskStore(inner + w, tailMask, acc);
            }

            // Pass 2: the max across each window, 16 outputs at a time.
            for (int ow = 0; ow < _ow; ow += 16)
            {
                float* col = row + _sw * ow;
                Vector512<float> result;
                if (_sw == 2)
                {
                    result = Avx512F.PermuteVar16x32x2(Vector512.Load(col), even, Vector512.Load(col + 16));
                    for (int k = 1; k < _kw; k++)
                    {
                        result = Vector512.Max(result, Avx512F.PermuteVar16x32x2(Vector512.Load(col + k), even, Vector512.Load(col + k + 16)));
                    }
                }
                else
                {
                    result = Vector512.Load(col);
                    for (int k = 1; k < _kw; k++) result = Vector512.Max(result, Vector512.Load(col + k));
                }
                int outputs = _ow - ow;
                if (outputs >= 16) result.Store(yRow + ow);
                else Avx512F.MaskStore(yRow + ow, Mask(outputs), result);
            }
        }
    }

    /// <summary>The first <paramref name="lanes"/> lanes set (none for 0 or less).</summary>
    private static Vector512<float> Mask(int lanes) =>
        Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(lanes)).AsSingle();
}
