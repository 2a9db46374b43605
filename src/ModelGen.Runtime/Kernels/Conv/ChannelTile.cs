using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// Where one <see cref="ChannelTile"/> reads and writes, set by <see cref="ChannelTileConvKernel"/> per tile. Pixel p of
/// the tile reads tap t of input channel c at <c>Source + Base[p] + Taps[t]</c> and writes its channels to
/// <c>Output + p * Stride</c>.
/// </summary>
internal unsafe struct ChannelTileArgs
{
    public float* Weights;  // [K][B·16]: the tile's output channels, tap by tap (channels past M are zero)
    public float* Bias;     // [B·16]: where the sums start (zeros for a later slice of the taps)
    public int* Taps;       // [K]: offset of tap t = (c, kd, kh, kw) from a pixel's base
    public int K;
    public float* Source;   // the (padded) input of the image
    public int* Base;       // [P]: each pixel's window origin in Source
    public float* Output;   // Yᵀ at the tile's first pixel and first channel
    public long Stride;     // floats between Yᵀ's pixel rows
    public bool Accumulate; // add the sums to what Output holds (a later slice of the taps)
    public bool Relu;
    public byte* Prefetch;  // null, or where K lines of the next sweep's weights start: tap t prefetches line t into L2
}

/// <summary>
/// The register tile of <see cref="ChannelTileConvKernel"/>: P output pixels × B vectors of 16 output channels, P·B
/// accumulators in zmm registers. Each tap is B vector loads of packed weights and P scalar broadcasts of the input
/// (one per pixel, from anywhere: the pixels need not be neighbours, so a tile runs on across output rows and any
/// stride costs nothing), feeding P·B FMAs. With the channels along the vector every lane is a real output whatever the
/// map's width: a 7×7 map is 49 pixels in 9 tiles of up to 6, where a vector of 16 pixels holds at most 7 real ones.
/// P and B are type parameters so each shape is compiled with its accumulators in registers.
/// </summary>
internal static unsafe class ChannelTile
{
    /// <summary>Output channels per vector.</summary>
    public const int Lanes = 16;

    /// <summary>Most pixels one tile holds.</summary>
    public const int MaxPixels = 6;

    /// <summary>Most channel vectors one tile holds: 6 × 4 = 24 accumulators, 4 weight vectors and a broadcast fit the 32 registers.</summary>
    public const int MaxBlocks = 4;

    /// <summary>The tile function for <paramref name="pixels"/> × <paramref name="blocks"/>.</summary>
    public static delegate*<in ChannelTileArgs, void> For(int pixels, int blocks) => blocks switch
    {
        1 => ForPixels<Count1>(pixels),
        2 => ForPixels<Count2>(pixels),
        3 => ForPixels<Count3>(pixels),
        4 => ForPixels<Count4>(pixels),
        _ => throw new ArgumentOutOfRangeException(nameof(blocks)),
    };

    private static delegate*<in ChannelTileArgs, void> ForPixels<TB>(int pixels) where TB : struct, ICount => pixels switch
    {
        1 => &Run<Count1, TB>,
        2 => &Run<Count2, TB>,
        3 => &Run<Count3, TB>,
        4 => &Run<Count4, TB>,
        5 => &Run<Count5, TB>,
        6 => &Run<Count6, TB>,
        _ => throw new ArgumentOutOfRangeException(nameof(pixels)),
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TP, TB>(in ChannelTileArgs a) where TP : struct, ICount where TB : struct, ICount
    {
        var b0 = Vector512.Load(a.Bias);
        var b1 = TB.N > 1 ? Vector512.Load(a.Bias + Lanes) : default;
        var b2 = TB.N > 2 ? Vector512.Load(a.Bias + 2 * Lanes) : default;
        var b3 = TB.N > 3 ? Vector512.Load(a.Bias + 3 * Lanes) : default;
        Vector512<float> a00 = b0, a01 = b1, a02 = b2, a03 = b3;
        Vector512<float> a10 = b0, a11 = b1, a12 = b2, a13 = b3;
        Vector512<float> a20 = b0, a21 = b1, a22 = b2, a23 = b3;
        Vector512<float> a30 = b0, a31 = b1, a32 = b2, a33 = b3;
        Vector512<float> a40 = b0, a41 = b1, a42 = b2, a43 = b3;
        Vector512<float> a50 = b0, a51 = b1, a52 = b2, a53 = b3;

        float* s0 = a.Source + a.Base[0];
        float* s1 = TP.N > 1 ? a.Source + a.Base[1] : s0;
        float* s2 = TP.N > 2 ? a.Source + a.Base[2] : s0;
        float* s3 = TP.N > 3 ? a.Source + a.Base[3] : s0;
        float* s4 = TP.N > 4 ? a.Source + a.Base[4] : s0;
        float* s5 = TP.N > 5 ? a.Source + a.Base[5] : s0;
        float* w = a.Weights;
        int* taps = a.Taps;
        byte* pf = a.Prefetch;
        for (int t = 0, k = a.K; t < k; t++, w += TB.N * Lanes)
        {
            int o = taps[t];
            // The same tap two lines further on, which a tile a few pixels later reads: with hundreds of input
            // channels each tap is its own stream, more than the hardware prefetchers follow, and in a network the
            // input was just written, half of it by the other core. 1×1 1024→256 on 14×14 in ResNet-50 (5 convs,
            // two cores): 2176–2226 → 1706–1755 µs in all; the other shapes measured the same either way.
            Sse.Prefetch1(s0 + o + 2 * Lanes);
            // A line of the weights the next sweep will read (see ChannelTileConvKernel.Compute); a prefetch never faults.
            if (pf != null) Sse.Prefetch1(pf + (long)t * 64);
            var w0 = Vector512.Load(w);
            var w1 = TB.N > 1 ? Vector512.Load(w + Lanes) : default;
            var w2 = TB.N > 2 ? Vector512.Load(w + 2 * Lanes) : default;
            var w3 = TB.N > 3 ? Vector512.Load(w + 3 * Lanes) : default;
            Vector512<float> x;
            x = Vector512.Create(s0[o]); a00 = Fma(x, w0, a00); if (TB.N > 1) a01 = Fma(x, w1, a01); if (TB.N > 2) a02 = Fma(x, w2, a02); if (TB.N > 3) a03 = Fma(x, w3, a03);
            if (TP.N > 1) { x = Vector512.Create(s1[o]); a10 = Fma(x, w0, a10); if (TB.N > 1) a11 = Fma(x, w1, a11); if (TB.N > 2) a12 = Fma(x, w2, a12); if (TB.N > 3) a13 = Fma(x, w3, a13); }
            if (TP.N > 2) { x = Vector512.Create(s2[o]); a20 = Fma(x, w0, a20); if (TB.N > 1) a21 = Fma(x, w1, a21); if (TB.N > 2) a22 = Fma(x, w2, a22); if (TB.N > 3) a23 = Fma(x, w3, a23); }
            if (TP.N > 3) { x = Vector512.Create(s3[o]); a30 = Fma(x, w0, a30); if (TB.N > 1) a31 = Fma(x, w1, a31); if (TB.N > 2) a32 = Fma(x, w2, a32); if (TB.N > 3) a33 = Fma(x, w3, a33); }
            if (TP.N > 4) { x = Vector512.Create(s4[o]); a40 = Fma(x, w0, a40); if (TB.N > 1) a41 = Fma(x, w1, a41); if (TB.N > 2) a42 = Fma(x, w2, a42); if (TB.N > 3) a43 = Fma(x, w3, a43); }
            if (TP.N > 5) { x = Vector512.Create(s5[o]); a50 = Fma(x, w0, a50); if (TB.N > 1) a51 = Fma(x, w1, a51); if (TB.N > 2) a52 = Fma(x, w2, a52); if (TB.N > 3) a53 = Fma(x, w3, a53); }
        }

        // Inlined to the last store: a call while the accumulators are live would spill them (no vector register survives a call).
        float* y = a.Output;
        long n = a.Stride;
        bool relu = a.Relu, add = a.Accumulate;
        StorePixel<TB>(y, add, relu, a00, a01, a02, a03);
        if (TP.N > 1) StorePixel<TB>(y + n, add, relu, a10, a11, a12, a13);
        if (TP.N > 2) StorePixel<TB>(y + 2 * n, add, relu, a20, a21, a22, a23);
        if (TP.N > 3) StorePixel<TB>(y + 3 * n, add, relu, a30, a31, a32, a33);
        if (TP.N > 4) StorePixel<TB>(y + 4 * n, add, relu, a40, a41, a42, a43);
        if (TP.N > 5) StorePixel<TB>(y + 5 * n, add, relu, a50, a51, a52, a53);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma(Vector512<float> x, Vector512<float> w, Vector512<float> acc) => Avx512F.FusedMultiplyAdd(x, w, acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePixel<TB>(float* y, bool add, bool relu, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3)
        where TB : struct, ICount
    {
        if (add)
        {
            v0 += Vector512.Load(y);
            if (TB.N > 1) v1 += Vector512.Load(y + Lanes);
            if (TB.N > 2) v2 += Vector512.Load(y + 2 * Lanes);
            if (TB.N > 3) v3 += Vector512.Load(y + 3 * Lanes);
        }
        if (relu)
        {
            v0 = Vector512.Max(v0, Vector512<float>.Zero);
            v1 = Vector512.Max(v1, Vector512<float>.Zero);
            v2 = Vector512.Max(v2, Vector512<float>.Zero);
            v3 = Vector512.Max(v3, Vector512<float>.Zero);
        }
        v0.Store(y);
        if (TB.N > 1) v1.Store(y + Lanes);
        if (TB.N > 2) v2.Store(y + 2 * Lanes);
        if (TB.N > 3) v3.Store(y + 3 * Lanes);
    }
}
