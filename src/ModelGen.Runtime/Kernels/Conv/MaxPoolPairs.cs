using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// Max pooling whose windows are two columns wide at column stride 2 (the 2×2/2 pool after most small
/// convs), unpadded and inside the input: per output row, the max down the window's rows for 32 input
/// columns at a time, then one permute pair splits even from odd columns and a max gives 16 outputs.
/// <see cref="Pool2D"/>'s scalar pass across each window is most of its time on such narrow windows.
/// Same results bit for bit: max is exact in any order and the vector max propagates NaN like
/// <see cref="MathF.Max(float, float)"/>.
/// </summary>
internal readonly unsafe struct MaxPoolPairs
{
    private readonly int _ih, _iw, _oh, _ow, _kh, _sh;

    /// <summary>Whether <paramref name="g"/> fits this path (and the machine has AVX-512).</summary>
    public static bool Fits(WindowGeometry g) =>
        FloatIsaSelector.Current == FloatIsa.Avx512 && Pool2D.Fits(g) && g.Kernel[2] == 2 && g.Stride[2] == 2
        && g.PadBegin[1] == 0 && g.PadBegin[2] == 0
        && (g.Out[1] - 1) * g.Stride[1] + g.Kernel[1] <= g.In[1] && 2 * g.Out[2] <= g.In[2];

    public MaxPoolPairs(WindowGeometry g)
    {
        _ih = g.In[1]; _iw = g.In[2]; _oh = g.Out[1]; _ow = g.Out[2];
        _kh = g.Kernel[1]; _sh = g.Stride[1];
    }

    /// <summary>Pools one [H, W] plane of <paramref name="x"/> into <paramref name="y"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Plane(float* x, float* y)
    {
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = even + Vector512<int>.One;
        for (int oh = 0; oh < _oh; oh++)
        {
            float* top = x + (long)oh * _sh * _iw;
            float* yRow = y + (long)oh * _ow;
            for (int ow = 0; ow < _ow; ow += 16)
            {
                // Output columns ow.. read input columns 2*ow..; only the pairs of this row's outputs are loaded.
                int outputs = Math.Min(16, _ow - ow), inputs = 2 * outputs;
                var maskLo = Mask(Math.Min(inputs, 16));
                var maskHi = Mask(inputs - 16);
                float* col = top + 2 * ow;
                var lo = Avx512F.MaskLoad(col, maskLo, Vector512<float>.Zero);
                var hi = Avx512F.MaskLoad(col + 16, maskHi, Vector512<float>.Zero);
                for (int r = 1; r < _kh; r++)
                {
                    lo = Vector512.Max(lo, Avx512F.MaskLoad(col + (long)r * _iw, maskLo, Vector512<float>.Zero));
                    hi = Vector512.Max(hi, Avx512F.MaskLoad(col + (long)r * _iw + 16, maskHi, Vector512<float>.Zero));
                }
                var result = Vector512.Max(Avx512F.PermuteVar16x32x2(lo, even, hi), Avx512F.PermuteVar16x32x2(lo, odd, hi));
                if (outputs == 16) result.Store(yRow + ow);
                else Avx512F.MaskStore(yRow + ow, Mask(outputs), result);
            }
        }
    }

    /// <summary>The first <paramref name="lanes"/> lanes set (none for 0 or less).</summary>
    private static Vector512<float> Mask(int lanes) =>
        Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(lanes)).AsSingle();
}
