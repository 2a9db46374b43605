using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// <see cref="ChannelTile"/> for AVX2 (<see cref="FloatIsa.Avx2"/>): P output pixels × B vectors of 8 output channels,
/// P·B ≤ 12 accumulators in ymm registers, so the accumulators, B weight vectors and a broadcast fit the 16 registers.
/// Each tap is B vector loads of packed weights and P scalar broadcasts of the input feeding P·B FMAs. A group is
/// <see cref="MaxBlocks"/> × 8 = 16 channels, so a tap's weights are one 64-byte line.
/// </summary>
internal static unsafe class ChannelTile256
{
    /// <summary>Output channels per vector.</summary>
    public const int Lanes = 8;

    /// <summary>Most pixels one tile holds (as <see cref="ChannelTile.MaxPixels"/>).</summary>
    public const int MaxPixels = ChannelTile.MaxPixels;

    /// <summary>Most channel vectors one tile holds: 6 × 2 = 12 accumulators.</summary>
    public const int MaxBlocks = 2;

    /// <summary>The tile function for <paramref name="pixels"/> × <paramref name="blocks"/>.</summary>
    public static delegate*<in ChannelTileArgs, void> For(int pixels, int blocks) => blocks switch
    {
        1 => ForPixels<Count1>(pixels),
        2 => ForPixels<Count2>(pixels),
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
        var b0 = Vector256.Load(a.Bias);
        var b1 = TB.N > 1 ? Vector256.Load(a.Bias + Lanes) : default;
        Vector256<float> a00 = b0, a01 = b1, a10 = b0, a11 = b1, a20 = b0, a21 = b1;
        Vector256<float> a30 = b0, a31 = b1, a40 = b0, a41 = b1, a50 = b0, a51 = b1;

        float* s0 = a.Source + a.Base[0];
        float* s1 = TP.N > 1 ? a.Source + a.Base[1] : s0;
        float* s2 = TP.N > 2 ? a.Source + a.Base[2] : s0;
        float* s3 = TP.N > 3 ? a.Source + a.Base[3] : s0;
        float* s4 = TP.N > 4 ? a.Source + a.Base[4] : s0;
        float* s5 = TP.N > 5 ? a.Source + a.Base[5] : s0;
        float* w = a.Weights;
        int* taps = a.Taps, last = a.Taps + a.K - 1;
        byte* pf = a.Prefetch;
        // Two taps a trip, the prefetch test out of the loop, and pointers that step instead of indices that scale: the
        // one-tap loop ran 16 instructions of addressing, prefetching and control beside its 20 loads, broadcasts and FMAs
        // (now 15 per two taps), and when the host shares the core (its slow seconds) the instructions, not the FMAs, set
        // the pace. See DirectConvTile256, which takes four taps a trip; here four measured no better than two (SqueezeNet
        // 1.006 on two cores, ResNet-50 1.015, blocks' medians four over two).
        if (pf == null)
        {
            for (; taps < last; taps += 2, w += 2 * TB.N * Lanes)
            {
                Tap<TP, TB>(s0, s1, s2, s3, s4, s5, taps[0], w, ref a00, ref a01, ref a10, ref a11, ref a20, ref a21, ref a30, ref a31, ref a40, ref a41, ref a50, ref a51);
                Tap<TP, TB>(s0, s1, s2, s3, s4, s5, taps[1], w + TB.N * Lanes, ref a00, ref a01, ref a10, ref a11, ref a20, ref a21, ref a30, ref a31, ref a40, ref a41, ref a50, ref a51);
            }
        }
        else
        {
            for (; taps < last; taps += 2, w += 2 * TB.N * Lanes, pf += 128)
            {
                Sse.Prefetch1(pf);
                Sse.Prefetch1(pf + 64);
                Tap<TP, TB>(s0, s1, s2, s3, s4, s5, taps[0], w, ref a00, ref a01, ref a10, ref a11, ref a20, ref a21, ref a30, ref a31, ref a40, ref a41, ref a50, ref a51);
                Tap<TP, TB>(s0, s1, s2, s3, s4, s5, taps[1], w + TB.N * Lanes, ref a00, ref a01, ref a10, ref a11, ref a20, ref a21, ref a30, ref a31, ref a40, ref a41, ref a50, ref a51);
            }
        }
        if (taps == last)
        {
            if (pf != null) Sse.Prefetch1(pf);
            Tap<TP, TB>(s0, s1, s2, s3, s4, s5, taps[0], w, ref a00, ref a01, ref a10, ref a11, ref a20, ref a21, ref a30, ref a31, ref a40, ref a41, ref a50, ref a51);
        }

        // Inlined to the last store: a call while the accumulators are live would spill them.
        float* y = a.Output;
        long n = a.Stride;
        bool relu = a.Relu, add = a.Accumulate;
        StorePixel<TB>(y, add, relu, a00, a01);
        if (TP.N > 1) StorePixel<TB>(y + n, add, relu, a10, a11);
        if (TP.N > 2) StorePixel<TB>(y + 2 * n, add, relu, a20, a21);
        if (TP.N > 3) StorePixel<TB>(y + 3 * n, add, relu, a30, a31);
        if (TP.N > 4) StorePixel<TB>(y + 4 * n, add, relu, a40, a41);
        if (TP.N > 5) StorePixel<TB>(y + 5 * n, add, relu, a50, a51);
    }

    /// <summary>One tap: each pixel's accumulators += its input at tap offset <paramref name="o"/> · the tap's weight vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap<TP, TB>(float* s0, float* s1, float* s2, float* s3, float* s4, float* s5, nint o, float* w,
        ref Vector256<float> a00, ref Vector256<float> a01, ref Vector256<float> a10, ref Vector256<float> a11, ref Vector256<float> a20, ref Vector256<float> a21,
        ref Vector256<float> a30, ref Vector256<float> a31, ref Vector256<float> a40, ref Vector256<float> a41, ref Vector256<float> a50, ref Vector256<float> a51)
        where TP : struct, ICount where TB : struct, ICount
    {
        // As in ChannelTile: the same tap two lines on, which a tile a few pixels later reads.
        Sse.Prefetch1(s0 + o + 32);
        var w0 = Vector256.Load(w);
        var w1 = TB.N > 1 ? Vector256.Load(w + Lanes) : default;
        Vector256<float> x;
        x = Vector256.Create(s0[o]); a00 = Fma.MultiplyAdd(x, w0, a00); if (TB.N > 1) a01 = Fma.MultiplyAdd(x, w1, a01);
        if (TP.N > 1) { x = Vector256.Create(s1[o]); a10 = Fma.MultiplyAdd(x, w0, a10); if (TB.N > 1) a11 = Fma.MultiplyAdd(x, w1, a11); }
        if (TP.N > 2) { x = Vector256.Create(s2[o]); a20 = Fma.MultiplyAdd(x, w0, a20); if (TB.N > 1) a21 = Fma.MultiplyAdd(x, w1, a21); }
        if (TP.N > 3) { x = Vector256.Create(s3[o]); a30 = Fma.MultiplyAdd(x, w0, a30); if (TB.N > 1) a31 = Fma.MultiplyAdd(x, w1, a31); }
        if (TP.N > 4) { x = Vector256.Create(s4[o]); a40 = Fma.MultiplyAdd(x, w0, a40); if (TB.N > 1) a41 = Fma.MultiplyAdd(x, w1, a41); }
        if (TP.N > 5) { x = Vector256.Create(s5[o]); a50 = Fma.MultiplyAdd(x, w0, a50); if (TB.N > 1) a51 = Fma.MultiplyAdd(x, w1, a51); }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePixel<TB>(float* y, bool add, bool relu, Vector256<float> v0, Vector256<float> v1) where TB : struct, ICount
    {
        if (add)
        {
            v0 += Vector256.Load(y);
            if (TB.N > 1) v1 += Vector256.Load(y + Lanes);
        }
        if (relu)
        {
            v0 = Ieee256.Relu(v0);
            v1 = Ieee256.Relu(v1);
        }
        v0.Store(y);
        if (TB.N > 1) v1.Store(y + Lanes);
    }
}
