using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ModelGen.Runtime.Kernels.Gemm;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>A compile-time count: the JIT specializes generic code per struct type, so <c>T.N</c> is a constant there.</summary>
internal interface ICount
{
    static abstract int N { get; }
}

internal struct Count1 : ICount { public static int N => 1; }
internal struct Count2 : ICount { public static int N => 2; }
internal struct Count3 : ICount { public static int N => 3; }
internal struct Count4 : ICount { public static int N => 4; }
internal struct Count5 : ICount { public static int N => 5; }
internal struct Count6 : ICount { public static int N => 6; }
internal struct Count7 : ICount { public static int N => 7; }
internal struct Count8 : ICount { public static int N => 8; }

/// <summary>
/// Where one tile reads and writes: <see cref="DirectConvTile"/>'s arguments, set by the kernel per tile.
/// Vector v of the tile reads the padded input at <c>Source + Base[v] + tap</c> and writes
/// <c>Lanes[v]</c> outputs at <c>Output + row * OutSize + Dest[v]</c>.
/// </summary>
internal unsafe struct DirectConvArgs
{
    public float* Weights;  // [K][R]: the block's R output channels, tap by tap (padded rows are zero)
    public float* Bias;     // [R]
    public int* Taps;       // [K]: offset of tap p = (c, kd, kh, kw) in the padded input
    public int K;
    public float* Source;   // the padded input of the unit
    public int* Base;       // [V]
    public int* Dest;       // [V]
    public int* Lanes;      // [V]
    public float* Keep;     // [V][16]: all-ones lanes are the outputs, packed to the front before the store; null when every vector's outputs are its first lanes
    public float* Output;   // the block's first output channel plane
    public int OutSize;
    public int Rows;        // rows of the block that exist (the rest are padding and are not stored)
    public Epilogue Epilogue;
    public byte* Prefetch;  // null, or where K lines of weights a later tile reads start: tap p prefetches line p into L2
    public int Count;       // AVX2 only: whole tiles of V vectors one call runs, Base, Dest and Lanes moving V on per tile (0 = 1)
    public bool Accumulate; // AVX2 only: the sums start from the outputs already stored (a later slice of the taps), not from the bias
}

/// <summary>
/// The register tile of <see cref="DirectConvKernel"/>: R output channels × V vectors of 16 output
/// pixels, R·V accumulators in zmm registers. Each tap is V unaligned loads straight from the padded
/// input (a stride-1 window row is contiguous, so no im2col copy is needed) and R broadcast weights
/// feeding R·V FMAs; the bias starts the sums and the activation runs before the (masked) stores.
/// R and V are type parameters so each shape is compiled with its accumulators in registers.
/// </summary>
internal static unsafe class DirectConvTile
{
    /// <summary>Output pixels per vector.</summary>
    public const int Width = 16;

    /// <summary>Most rows (output channels) one tile holds.</summary>
    public const int MaxRows = 8;

    /// <summary>Vectors per tile for <paramref name="rows"/> rows: at most 24 accumulators, leaving registers for the loads.</summary>
    public static int VectorsFor(int rows) => Math.Min(4, 24 / rows);

    /// <summary>The tile function for <paramref name="rows"/> × <paramref name="vectors"/>.</summary>
    public static delegate*<in DirectConvArgs, void> For(int rows, int vectors) => rows switch
    {
        1 => ForVectors<Count1>(vectors),
        2 => ForVectors<Count2>(vectors),
        3 => ForVectors<Count3>(vectors),
        4 => ForVectors<Count4>(vectors),
        5 => ForVectors<Count5>(vectors),
        6 => ForVectors<Count6>(vectors),
        7 => ForVectors<Count7>(vectors),
        8 => ForVectors<Count8>(vectors),
        _ => throw new ArgumentOutOfRangeException(nameof(rows)),
    };

    private static delegate*<in DirectConvArgs, void> ForVectors<TR>(int vectors) where TR : struct, ICount => vectors switch
    {
        1 => &Run<TR, Count1>,
        2 => &Run<TR, Count2>,
        3 => &Run<TR, Count3>,
        4 => &Run<TR, Count4>,
        _ => throw new ArgumentOutOfRangeException(nameof(vectors)),
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TR, TV>(in DirectConvArgs a) where TR : struct, ICount where TV : struct, ICount
    {
        float* b = a.Bias;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        Vector512<float> a40 = default, a41 = default, a42 = default, a43 = default;
        Vector512<float> a50 = default, a51 = default, a52 = default, a53 = default;
        Vector512<float> a60 = default, a61 = default, a62 = default, a63 = default;
        Vector512<float> a70 = default, a71 = default, a72 = default, a73 = default;
        a00 = a01 = a02 = a03 = Vector512.Create(b[0]);
        if (TR.N > 1) a10 = a11 = a12 = a13 = Vector512.Create(b[1]);
        if (TR.N > 2) a20 = a21 = a22 = a23 = Vector512.Create(b[2]);
        if (TR.N > 3) a30 = a31 = a32 = a33 = Vector512.Create(b[3]);
        if (TR.N > 4) a40 = a41 = a42 = a43 = Vector512.Create(b[4]);
        if (TR.N > 5) a50 = a51 = a52 = a53 = Vector512.Create(b[5]);
        if (TR.N > 6) a60 = a61 = a62 = a63 = Vector512.Create(b[6]);
        if (TR.N > 7) a70 = a71 = a72 = a73 = Vector512.Create(b[7]);

        float* s0 = a.Source + a.Base[0];
        float* s1 = TV.N > 1 ? a.Source + a.Base[1] : s0;
        float* s2 = TV.N > 2 ? a.Source + a.Base[2] : s0;
        float* s3 = TV.N > 3 ? a.Source + a.Base[3] : s0;
        float* w = a.Weights;
        int* taps = a.Taps;
        byte* pf = a.Prefetch;
        for (int p = 0, k = a.K; p < k; p++, w += TR.N)
        {
            int o = taps[p];
            // A prefetch never faults; with weights that come from memory (Winograd's U) it keeps the next tiles' streaming.
            if (pf != null) Sse.Prefetch1(pf + (long)p * 64);
            var x0 = Vector512.Load(s0 + o);
            var x1 = TV.N > 1 ? Vector512.Load(s1 + o) : default;
            var x2 = TV.N > 2 ? Vector512.Load(s2 + o) : default;
            var x3 = TV.N > 3 ? Vector512.Load(s3 + o) : default;
            Vector512<float> v;
            v = Vector512.Create(w[0]); a00 = Fma(x0, v, a00); if (TV.N > 1) a01 = Fma(x1, v, a01); if (TV.N > 2) a02 = Fma(x2, v, a02); if (TV.N > 3) a03 = Fma(x3, v, a03);
            if (TR.N > 1) { v = Vector512.Create(w[1]); a10 = Fma(x0, v, a10); if (TV.N > 1) a11 = Fma(x1, v, a11); if (TV.N > 2) a12 = Fma(x2, v, a12); if (TV.N > 3) a13 = Fma(x3, v, a13); }
            if (TR.N > 2) { v = Vector512.Create(w[2]); a20 = Fma(x0, v, a20); if (TV.N > 1) a21 = Fma(x1, v, a21); if (TV.N > 2) a22 = Fma(x2, v, a22); if (TV.N > 3) a23 = Fma(x3, v, a23); }
            if (TR.N > 3) { v = Vector512.Create(w[3]); a30 = Fma(x0, v, a30); if (TV.N > 1) a31 = Fma(x1, v, a31); if (TV.N > 2) a32 = Fma(x2, v, a32); if (TV.N > 3) a33 = Fma(x3, v, a33); }
            if (TR.N > 4) { v = Vector512.Create(w[4]); a40 = Fma(x0, v, a40); if (TV.N > 1) a41 = Fma(x1, v, a41); if (TV.N > 2) a42 = Fma(x2, v, a42); if (TV.N > 3) a43 = Fma(x3, v, a43); }
            if (TR.N > 5) { v = Vector512.Create(w[5]); a50 = Fma(x0, v, a50); if (TV.N > 1) a51 = Fma(x1, v, a51); if (TV.N > 2) a52 = Fma(x2, v, a52); if (TV.N > 3) a53 = Fma(x3, v, a53); }
            if (TR.N > 6) { v = Vector512.Create(w[6]); a60 = Fma(x0, v, a60); if (TV.N > 1) a61 = Fma(x1, v, a61); if (TV.N > 2) a62 = Fma(x2, v, a62); if (TV.N > 3) a63 = Fma(x3, v, a63); }
            if (TR.N > 7) { v = Vector512.Create(w[7]); a70 = Fma(x0, v, a70); if (TV.N > 1) a71 = Fma(x1, v, a71); if (TV.N > 2) a72 = Fma(x2, v, a72); if (TV.N > 3) a73 = Fma(x3, v, a73); }
        }

        // Everything from here to the last store is inlined: a call while the accumulators are live would make
        // the JIT keep them on the stack (no vector register survives a call), spilling them inside the tap loop too.
        int rows = a.Rows, n = a.OutSize;
        float* y = a.Output;
        bool relu = a.Epilogue.Activation == ActivationKind.Relu;
        bool residual = a.Epilogue.HasResidual;
        long residualOffset = a.Epilogue.ResidualOffset;
        float* keep = a.Keep;
        StoreRow<TV>(y, a.Dest, a.Lanes, keep, relu, residual, residualOffset, a00, a01, a02, a03);
        if (TR.N > 1 && rows > 1) StoreRow<TV>(y + n, a.Dest, a.Lanes, keep, relu, residual, residualOffset, a10, a11, a12, a13);
        if (TR.N > 2 && rows > 2) StoreRow<TV>(y + 2 * n, a.Dest, a.Lanes, keep, relu, residual, residualOffset, a20, a21, a22, a23);
        if (TR.N > 3 && rows > 3) StoreRow<TV>(y + 3 * n, a.Dest, a.Lanes, keep, relu, residual, residualOffset, a30, a31, a32, a33);
        if (TR.N > 4 && rows > 4) StoreRow<TV>(y + 4 * n, a.Dest, a.Lanes, keep, relu, residual, residualOffset, a40, a41, a42, a43);
        if (TR.N > 5 && rows > 5) StoreRow<TV>(y + 5 * n, a.Dest, a.Lanes, keep, relu, residual, residualOffset, a50, a51, a52, a53);
        if (TR.N > 6 && rows > 6) StoreRow<TV>(y + 6 * n, a.Dest, a.Lanes, keep, relu, residual, residualOffset, a60, a61, a62, a63);
        if (TR.N > 7 && rows > 7) StoreRow<TV>(y + 7 * n, a.Dest, a.Lanes, keep, relu, residual, residualOffset, a70, a71, a72, a73);
        if (!relu && a.Epilogue.Activation != ActivationKind.None) ActivateStored<TV>(a);
    }

    /// <summary>The activations other than Relu, applied to the tile's stored outputs (they are too big to inline above).</summary>
    private static void ActivateStored<TV>(in DirectConvArgs a) where TV : struct, ICount
    {
        for (int r = 0; r < a.Rows; r++)
        for (int v = 0; v < TV.N; v++)
        {
            a.Epilogue.ActivateInPlace(a.Output + (long)r * a.OutSize + a.Dest[v], a.Lanes[v]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Fma(Vector512<float> x, Vector512<float> w, Vector512<float> acc) => Avx512F.FusedMultiplyAdd(x, w, acc);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow<TV>(float* y, int* dest, int* lanes, float* keep, bool relu, bool residual, long residualOffset,
        Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3) where TV : struct, ICount
    {
        Store(y + dest[0], lanes[0], keep, v0, relu, residual, residualOffset);
        if (TV.N > 1) Store(y + dest[1], lanes[1], keep == null ? null : keep + Width, v1, relu, residual, residualOffset);
        if (TV.N > 2) Store(y + dest[2], lanes[2], keep == null ? null : keep + 2 * Width, v2, relu, residual, residualOffset);
        if (TV.N > 3) Store(y + dest[3], lanes[3], keep == null ? null : keep + 3 * Width, v3, relu, residual, residualOffset);
    }

    /// <summary>
    /// Stores the <paramref name="lanes"/> outputs of <paramref name="v"/>: its first lanes (a row's last vector is
    /// usually partial), or, with <paramref name="keep"/>, the kept lanes packed to the front (a vector that runs
    /// over the end of one output row into the next skips the padded columns between them). On the way the
    /// residual (when <paramref name="residual"/>: <paramref name="residualOffset"/> floats from the output, 0 when it is the
    /// output itself, in place) is added, then Relu applied.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, int lanes, float* keep, Vector512<float> v, bool relu, bool residual, long residualOffset)
    {
        if (lanes == Width)
        {
            if (residual) v += Vector512.Load(y + residualOffset);
            if (relu) v = Vector512.Max(v, Vector512<float>.Zero);
            v.Store(y);
            return;
        }
        if (keep != null) v = Avx512F.Compress(Vector512<float>.Zero, Vector512.Load(keep), v);
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(lanes)).AsSingle();
        if (residual) v += Avx512F.MaskLoad(y + residualOffset, mask, Vector512<float>.Zero);
        if (relu) v = Vector512.Max(v, Vector512<float>.Zero);
        Avx512F.MaskStore(y, mask, v);
    }
}
