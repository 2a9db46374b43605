using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ModelGen.Runtime.Kernels.Gemm;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// <see cref="DirectConvTile"/> for AVX2 (<see cref="FloatIsa.Avx2"/>): R output channels × V vectors of 8 output pixels,
/// R·V ≤ 12 accumulators in ymm registers, so that the accumulators, the V input loads and a broadcast fit the 16
/// registers. AVX2 has no compress, so its vectors never run across output rows (<see cref="DirectConvArgs.Keep"/> is
/// null); a row's last, partial vector is stored with <c>vmaskmovps</c>.
/// </summary>
internal static unsafe class DirectConvTile256
{
    /// <summary>Output pixels per vector.</summary>
    public const int Width = 8;

    /// <summary>Most rows (output channels) one tile holds: 6 × 2 vectors is 12 accumulators.</summary>
    public const int MaxRows = 4;

    /// <summary>Vectors per tile for <paramref name="rows"/> rows: at most 12 accumulators and 3 vectors.</summary>
    public static int VectorsFor(int rows) => Math.Min(3, 12 / rows);

    /// <summary>The tile function for <paramref name="rows"/> × <paramref name="vectors"/>.</summary>
    public static delegate*<in DirectConvArgs, void> For(int rows, int vectors) => rows switch
    {
        1 => ForVectors<Count1>(vectors),
        2 => ForVectors<Count2>(vectors),
        3 => ForVectors<Count3>(vectors),
        4 => ForVectors<Count4>(vectors),
        5 => ForVectors<Count5>(vectors),
        6 => ForVectors<Count6>(vectors),
        _ => throw new ArgumentOutOfRangeException(nameof(rows)),
    };

    private static delegate*<in DirectConvArgs, void> ForVectors<TR>(int vectors) where TR : struct, ICount => vectors switch
    {
        1 => &Run<TR, Count1>,
        2 => &Run<TR, Count2>,
        3 => &Run<TR, Count3>,
        _ => throw new ArgumentOutOfRangeException(nameof(vectors)),
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TR, TV>(in DirectConvArgs a) where TR : struct, ICount where TV : struct, ICount
    {
        // Count whole tiles of consecutive vectors in one call (DirectConvKernel.Tiles): a call per tile cost its entry
        // and prologue every K taps, 8% of a 1×1 conv's samples with 64 taps. On one core of the AVX2 EPYC (--layers, fastest
        // chunks of two alternating pairs): SqueezeNet's stem (27 taps) with its max pool 1381 / 1158 → 935 / 901 µs,
        // ResNet-50's 1×1 64→256 on 56×56 1376 / 1495 → 1345 / 1408 µs; SqueezeNet's 3×3 16→64 (144 taps) within the noise.
        int count = Math.Max(a.Count, 1);
        int* bases = a.Base, dests = a.Dest, vectorLanes = a.Lanes;
        for (int t = 0; t < count; t++, bases += TV.N, dests += TV.N, vectorLanes += TV.N)
        {
            float* b = a.Bias;
            Vector256<float> a00 = default, a01 = default, a02 = default;
            Vector256<float> a10 = default, a11 = default, a12 = default;
            Vector256<float> a20 = default, a21 = default, a22 = default;
            Vector256<float> a30 = default, a31 = default, a32 = default;
            Vector256<float> a40 = default, a41 = default, a42 = default;
            Vector256<float> a50 = default, a51 = default, a52 = default;
            a00 = a01 = a02 = Vector256.Create(b[0]);
            if (TR.N > 1) a10 = a11 = a12 = Vector256.Create(b[1]);
            if (TR.N > 2) a20 = a21 = a22 = Vector256.Create(b[2]);
            if (TR.N > 3) a30 = a31 = a32 = Vector256.Create(b[3]);
            if (TR.N > 4) a40 = a41 = a42 = Vector256.Create(b[4]);
            if (TR.N > 5) a50 = a51 = a52 = Vector256.Create(b[5]);
            if (a.Accumulate)
            {
                // A later slice of the taps: go on from the sums the earlier slices stored (rows past a.Rows were never stored).
                int rowsHere = a.Rows, outSize = a.OutSize;
                float* yStored = a.Output;
                LoadRow<TV>(yStored, dests, vectorLanes, ref a00, ref a01, ref a02);
                if (TR.N > 1 && rowsHere > 1) LoadRow<TV>(yStored + outSize, dests, vectorLanes, ref a10, ref a11, ref a12);
                if (TR.N > 2 && rowsHere > 2) LoadRow<TV>(yStored + 2 * outSize, dests, vectorLanes, ref a20, ref a21, ref a22);
                if (TR.N > 3 && rowsHere > 3) LoadRow<TV>(yStored + 3 * outSize, dests, vectorLanes, ref a30, ref a31, ref a32);
                if (TR.N > 4 && rowsHere > 4) LoadRow<TV>(yStored + 4 * outSize, dests, vectorLanes, ref a40, ref a41, ref a42);
                if (TR.N > 5 && rowsHere > 5) LoadRow<TV>(yStored + 5 * outSize, dests, vectorLanes, ref a50, ref a51, ref a52);
            }

            float* s0 = a.Source + bases[0];
            float* s1 = TV.N > 1 ? a.Source + bases[1] : s0;
            float* s2 = TV.N > 2 ? a.Source + bases[2] : s0;
            float* w = a.Weights;
            int* taps = a.Taps, last = a.Taps + a.K - 1;
            byte* pf = a.Prefetch;
            // Taps in fours, the prefetch test out of the loop, and pointers that step instead of indices that scale. The
            // one-tap loop with the test inside ran ten instructions of overhead (two of them taken jumps) per 12 FMAs, which a
            // 1×1 conv's 64-tap tiles felt (on one core of the AVX2 EPYC, --layers, fastest chunks of two alternating pairs,
            // ResNet-50's 1×1 64→256 on 56×56 1366 / 1439 → 1319 / 1381 µs); indexed by an int, the two-tap loop still ran
            // 21 instructions of sign extensions, shifts, adds and prefetches beside its 38 loads, broadcasts and FMAs. Now four
            // taps a trip, the weights addressed by constant offsets from one pointer: 16 such instructions per four taps.
            // Instructions matter twice on this host: in its slow seconds another guest shares the core, and the
            // instructions issued, not the FMAs, set the pace (docs/performance.md, nineteenth session). Four taps against
            // two (one executor in alternating blocks behind an experiment-only switch, the blocks' medians new over old): SqueezeNet
            // 0.997 on two cores and 0.986 on one, ResNet-50 0.992.
            int* last4 = a.Taps + a.K - 3;
            if (pf == null)
            {
                for (; taps < last4; taps += 4, w += 4 * TR.N)
                {
                    Tap<TR, TV>(s0, s1, s2, taps[0], w, 0, ref a00, ref a01, ref a02, ref a10, ref a11, ref a12, ref a20, ref a21, ref a22,
                        ref a30, ref a31, ref a32, ref a40, ref a41, ref a42, ref a50, ref a51, ref a52);
                    Tap<TR, TV>(s0, s1, s2, taps[1], w, 1 * TR.N, ref a00, ref a01, ref a02, ref a10, ref a11, ref a12, ref a20, ref a21, ref a22,
                        ref a30, ref a31, ref a32, ref a40, ref a41, ref a42, ref a50, ref a51, ref a52);
                    Tap<TR, TV>(s0, s1, s2, taps[2], w, 2 * TR.N, ref a00, ref a01, ref a02, ref a10, ref a11, ref a12, ref a20, ref a21, ref a22,
                        ref a30, ref a31, ref a32, ref a40, ref a41, ref a42, ref a50, ref a51, ref a52);
                    Tap<TR, TV>(s0, s1, s2, taps[3], w, 3 * TR.N, ref a00, ref a01, ref a02, ref a10, ref a11, ref a12, ref a20, ref a21, ref a22,
                        ref a30, ref a31, ref a32, ref a40, ref a41, ref a42, ref a50, ref a51, ref a52);
                }
            }
            else
            {
                for (; taps < last4; taps += 4, w += 4 * TR.N, pf += 256)
                {
                    // A prefetch never faults; with weights that come from memory (Winograd's U) it keeps the next tiles' streaming.
                    Sse.Prefetch1(pf);
                    Sse.Prefetch1(pf + 64);
                    Sse.Prefetch1(pf + 128);
                    Sse.Prefetch1(pf + 192);
                    Tap<TR, TV>(s0, s1, s2, taps[0], w, 0, ref a00, ref a01, ref a02, ref a10, ref a11, ref a12, ref a20, ref a21, ref a22,
                        ref a30, ref a31, ref a32, ref a40, ref a41, ref a42, ref a50, ref a51, ref a52);
                    Tap<TR, TV>(s0, s1, s2, taps[1], w, 1 * TR.N, ref a00, ref a01, ref a02, ref a10, ref a11, ref a12, ref a20, ref a21, ref a22,
                        ref a30, ref a31, ref a32, ref a40, ref a41, ref a42, ref a50, ref a51, ref a52);
                    Tap<TR, TV>(s0, s1, s2, taps[2], w, 2 * TR.N, ref a00, ref a01, ref a02, ref a10, ref a11, ref a12, ref a20, ref a21, ref a22,
                        ref a30, ref a31, ref a32, ref a40, ref a41, ref a42, ref a50, ref a51, ref a52);
                    Tap<TR, TV>(s0, s1, s2, taps[3], w, 3 * TR.N, ref a00, ref a01, ref a02, ref a10, ref a11, ref a12, ref a20, ref a21, ref a22,
                        ref a30, ref a31, ref a32, ref a40, ref a41, ref a42, ref a50, ref a51, ref a52);
                }
            }
            for (; taps <= last; taps++, w += TR.N)
            {
                if (pf != null) { Sse.Prefetch1(pf); pf += 64; }
                Tap<TR, TV>(s0, s1, s2, taps[0], w, 0, ref a00, ref a01, ref a02, ref a10, ref a11, ref a12, ref a20, ref a21, ref a22,
                        ref a30, ref a31, ref a32, ref a40, ref a41, ref a42, ref a50, ref a51, ref a52);
            }

            // Inlined to the last store, as in DirectConvTile: a call while the accumulators are live would spill them.
            int rows = a.Rows, n = a.OutSize;
            float* y = a.Output;
            bool relu = a.Epilogue.Activation == ActivationKind.Relu;
            bool residual = a.Epilogue.HasResidual;
            long residualOffset = a.Epilogue.ResidualOffset;
            StoreRow<TV>(y, dests, vectorLanes, relu, residual, residualOffset, a00, a01, a02);
            if (TR.N > 1 && rows > 1) StoreRow<TV>(y + n, dests, vectorLanes, relu, residual, residualOffset, a10, a11, a12);
            if (TR.N > 2 && rows > 2) StoreRow<TV>(y + 2 * n, dests, vectorLanes, relu, residual, residualOffset, a20, a21, a22);
            if (TR.N > 3 && rows > 3) StoreRow<TV>(y + 3 * n, dests, vectorLanes, relu, residual, residualOffset, a30, a31, a32);
            if (TR.N > 4 && rows > 4) StoreRow<TV>(y + 4 * n, dests, vectorLanes, relu, residual, residualOffset, a40, a41, a42);
            if (TR.N > 5 && rows > 5) StoreRow<TV>(y + 5 * n, dests, vectorLanes, relu, residual, residualOffset, a50, a51, a52);
            if (!relu && a.Epilogue.Activation != ActivationKind.None) ActivateStored<TV>(a, dests, vectorLanes);
        }
    }

    /// <summary>
    /// One tap: row r's accumulators += its weight · the tile's input vectors at tap offset <paramref name="o"/>; the
    /// weights are <paramref name="wOffset"/> floats past <paramref name="w"/> (a constant, which the JIT folds into the
    /// broadcasts' addresses, where a pointer argument <c>w + 4</c> became a register of its own first).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap<TR, TV>(float* s0, float* s1, float* s2, nint o, float* w, int wOffset,
        ref Vector256<float> a00, ref Vector256<float> a01, ref Vector256<float> a02, ref Vector256<float> a10, ref Vector256<float> a11, ref Vector256<float> a12,
        ref Vector256<float> a20, ref Vector256<float> a21, ref Vector256<float> a22, ref Vector256<float> a30, ref Vector256<float> a31, ref Vector256<float> a32,
        ref Vector256<float> a40, ref Vector256<float> a41, ref Vector256<float> a42, ref Vector256<float> a50, ref Vector256<float> a51, ref Vector256<float> a52)
        where TR : struct, ICount where TV : struct, ICount
    {
        var x0 = Vector256.Load(s0 + o);
        var x1 = TV.N > 1 ? Vector256.Load(s1 + o) : default;
        var x2 = TV.N > 2 ? Vector256.Load(s2 + o) : default;
        Vector256<float> v;
        v = Vector256.Create(w[wOffset]); a00 = Fma.MultiplyAdd(x0, v, a00); if (TV.N > 1) a01 = Fma.MultiplyAdd(x1, v, a01); if (TV.N > 2) a02 = Fma.MultiplyAdd(x2, v, a02);
        if (TR.N > 1) { v = Vector256.Create(w[wOffset + 1]); a10 = Fma.MultiplyAdd(x0, v, a10); if (TV.N > 1) a11 = Fma.MultiplyAdd(x1, v, a11); if (TV.N > 2) a12 = Fma.MultiplyAdd(x2, v, a12); }
        if (TR.N > 2) { v = Vector256.Create(w[wOffset + 2]); a20 = Fma.MultiplyAdd(x0, v, a20); if (TV.N > 1) a21 = Fma.MultiplyAdd(x1, v, a21); if (TV.N > 2) a22 = Fma.MultiplyAdd(x2, v, a22); }
        if (TR.N > 3) { v = Vector256.Create(w[wOffset + 3]); a30 = Fma.MultiplyAdd(x0, v, a30); if (TV.N > 1) a31 = Fma.MultiplyAdd(x1, v, a31); if (TV.N > 2) a32 = Fma.MultiplyAdd(x2, v, a32); }
        if (TR.N > 4) { v = Vector256.Create(w[wOffset + 4]); a40 = Fma.MultiplyAdd(x0, v, a40); if (TV.N > 1) a41 = Fma.MultiplyAdd(x1, v, a41); if (TV.N > 2) a42 = Fma.MultiplyAdd(x2, v, a42); }
        if (TR.N > 5) { v = Vector256.Create(w[wOffset + 5]); a50 = Fma.MultiplyAdd(x0, v, a50); if (TV.N > 1) a51 = Fma.MultiplyAdd(x1, v, a51); if (TV.N > 2) a52 = Fma.MultiplyAdd(x2, v, a52); }
    }

    /// <summary>The activations other than Relu, applied to the tile's stored outputs.</summary>
    private static void ActivateStored<TV>(in DirectConvArgs a, int* dest, int* lanes) where TV : struct, ICount
    {
        for (int r = 0; r < a.Rows; r++)
        for (int v = 0; v < TV.N; v++)
        {
            a.Epilogue.ActivateInPlace(a.Output + (long)r * a.OutSize + dest[v], lanes[v]);
        }
    }

    /// <summary>Loads one row's stored sums of the tile's vectors (a partial vector's other lanes read as 0 and are never stored).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadRow<TV>(float* y, int* dest, int* lanes, ref Vector256<float> v0, ref Vector256<float> v1, ref Vector256<float> v2)
        where TV : struct, ICount
    {
        v0 = Load(y + dest[0], lanes[0]);
        if (TV.N > 1) v1 = Load(y + dest[1], lanes[1]);
        if (TV.N > 2) v2 = Load(y + dest[2], lanes[2]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Load(float* y, int lanes) => lanes == Width
        ? Vector256.Load(y)
        : Avx.MaskLoad(y, Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(lanes)).AsSingle());

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TV>(float* y, int* dest, int* lanes, bool relu, bool residual, long residualOffset,
        Vector256<float> v0, Vector256<float> v1, Vector256<float> v2) where TV : struct, ICount
    {
        Store(y + dest[0], lanes[0], v0, relu, residual, residualOffset);
        if (TV.N > 1) Store(y + dest[1], lanes[1], v1, relu, residual, residualOffset);
        if (TV.N > 2) Store(y + dest[2], lanes[2], v2, relu, residual, residualOffset);
    }

    /// <summary>
    /// Stores the first <paramref name="lanes"/> outputs of <paramref name="v"/>, adding the residual (when
    /// <paramref name="residual"/>: <paramref name="residualOffset"/> floats from the output) and applying Relu on the way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, int lanes, Vector256<float> v, bool relu, bool residual, long residualOffset)
    {
        if (lanes == Width)
        {
            if (residual) v += Vector256.Load(y + residualOffset);
            if (relu) v = Ieee256.Relu(v);
            v.Store(y);
            return;
        }
        var mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(lanes)).AsSingle();
        if (residual) v += Avx.MaskLoad(y + residualOffset, mask);
        if (relu) v = Ieee256.Relu(v);
        Avx.MaskStore(y, mask, v);
    }
}
