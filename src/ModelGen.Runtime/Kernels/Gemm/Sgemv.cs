using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ModelGen.Runtime.Kernels.Conv;

namespace ModelGen.Runtime.Kernels.Gemm;

/// <summary>
/// The fp32 matrix-vector product y[N] = x[K]·B[K,N] with a fused <see cref="Epilogue"/>: one row of
/// a GEMM (batch-1 Gemm/MatMul), over the packed-B layout of <see cref="Sgemm.PackB"/> (panels of
/// <see cref="Sgemm.NR"/> columns stored k-major, zero-padded). Each B element is used once, so the
/// product is bound by streaming B, not by FMAs; what matters is keeping enough independent loads
/// and FMA chains in flight, hence several panels at once with K unrolled, and finishing each
/// panel straight from its registers (no tile round trip, no packing of x).
/// </summary>
[SkipLocalsInit]
internal static unsafe class Sgemv
{
    private const int NR = Sgemm.NR;

    /// <summary>Panels the AVX-512 kernel computes together (64 columns): 4 streams of B, 8 FMA chains with K unrolled by 2.</summary>
    /// <remarks>All paths sum each column as two chains, even k and odd k, added at the end (as the tile path's single-row kernel did).</remarks>
    public const int GroupPanels = 4;

    /// <summary>
    /// Computes the columns of panels [<paramref name="panelBegin"/>, <paramref name="panelEnd"/>) of row
    /// <paramref name="row"/> of C (<paramref name="row"/> indexes the epilogue's row bias): x element p is
    /// <c>x[p * xStride]</c> (1 for a plain vector, <see cref="Sgemm.MR"/> for the first row of packed A),
    /// <paramref name="y"/> points at column 0 of the row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Panels(float* x, long xStride, float* packedB, float* y, int n, int k, in Epilogue e, int row, int panelBegin, int panelEnd)
    {
        if (Avx512F.IsSupported) Panels512(x, xStride, packedB, y, n, k, e, row, panelBegin, panelEnd);
        else if (Vector256.IsHardwareAccelerated) Panels256(x, xStride, packedB, y, n, k, e, row, panelBegin, panelEnd);
        else PanelsScalar(x, xStride, packedB, y, n, k, e, row, panelBegin, panelEnd);
    }

    /// <summary>The AVX-512 kernel (callers check <see cref="Avx512F.IsSupported"/>): for a small B groups of eight panels, then groups of <see cref="GroupPanels"/> panels, then single panels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Panels512(float* x, long xStride, float* packedB, float* y, int n, int k, in Epilogue e, int row, int panelBegin, int panelEnd)
    {
        long panelSize = (long)NR * k;
        float rowBias = e.RowBias != null ? e.RowBias[row] : 0f;
        Vector512<float>* sums = stackalloc Vector512<float>[2 * GroupPanels];
        int panel = panelBegin;
        if ((long)k * (panelEnd - panelBegin) * NR <= WideMaxFloats)
        {
            for (; panel + 2 * GroupPanels <= panelEnd; panel += 2 * GroupPanels)
            {
                DotPanels512<Count8>(x, xStride, packedB + panel * panelSize, panelSize, k, sums);
                StoreSums(y, sums, 2 * GroupPanels, panel, n, rowBias, e);
            }
        }
        for (; panel + GroupPanels <= panelEnd; panel += GroupPanels)
        {
            DotPanels512<Count4>(x, xStride, packedB + panel * panelSize, panelSize, k, sums);
            StoreSums(y, sums, GroupPanels, panel, n, rowBias, e);
        }
        for (; panel < panelEnd; panel++)
        {
            int col = panel * NR;
            Store512(y + col, Dot512x1(x, xStride, packedB + panel * panelSize, k), n - col, col, rowBias, e);
        }
    }

    /// <summary>Stores the sums of <paramref name="count"/> panels from <paramref name="panel"/> on; only the row's last panel can be partial.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreSums(float* y, Vector512<float>* sums, int count, int panel, int n, float rowBias, in Epilogue e)
    {
        for (int i = 0; i < count; i++)
        {
            int col = (panel + i) * NR;
            Store512(y + col, sums[i], n - col, col, rowBias, e);
        }
    }

    // The dot loops live in their own call-free methods: in a method that also calls (the epilogue's
    // edge path), the JIT treats the accumulators as live across calls (every vector register is
    // caller-saved) and spilled three of them to the stack inside the loop, halving the speed.

    /// <summary>
    /// <typeparamref name="TP"/> (4 or 8) panels at once: that many streams of B, two accumulator sets over alternating k
    /// (8 or 16 independent FMA chains). <typeparamref name="TP"/> is a type parameter so each width is compiled with its
    /// accumulators in registers and the other width's lines dropped.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void DotPanels512<TP>(float* x, long xStride, float* b0, long panelSize, int k, Vector512<float>* sums) where TP : struct, ICount
    {
        float* b1 = b0 + panelSize, b2 = b1 + panelSize, b3 = b2 + panelSize;
        float* b4 = b3 + panelSize, b5 = b4 + panelSize, b6 = b5 + panelSize, b7 = b6 + panelSize;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default, d6 = default, d7 = default;
        long o = 0;
        int p = 0;
        for (; p + 1 < k; p += 2)
        {
            var xa = Vector512.Create(x[0]);
            var xb = Vector512.Create(x[xStride]);
            c0 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b0 + o), c0);
            c1 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b1 + o), c1);
            c2 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b2 + o), c2);
            c3 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b3 + o), c3);
            if (TP.N > 4)
            {
                c4 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b4 + o), c4);
                c5 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b5 + o), c5);
                c6 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b6 + o), c6);
                c7 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b7 + o), c7);
            }
            d0 = Avx512F.FusedMultiplyAdd(xb, Vector512.Load(b0 + o + NR), d0);
            d1 = Avx512F.FusedMultiplyAdd(xb, Vector512.Load(b1 + o + NR), d1);
            d2 = Avx512F.FusedMultiplyAdd(xb, Vector512.Load(b2 + o + NR), d2);
            d3 = Avx512F.FusedMultiplyAdd(xb, Vector512.Load(b3 + o + NR), d3);
            if (TP.N > 4)
            {
                d4 = Avx512F.FusedMultiplyAdd(xb, Vector512.Load(b4 + o + NR), d4);
                d5 = Avx512F.FusedMultiplyAdd(xb, Vector512.Load(b5 + o + NR), d5);
                d6 = Avx512F.FusedMultiplyAdd(xb, Vector512.Load(b6 + o + NR), d6);
                d7 = Avx512F.FusedMultiplyAdd(xb, Vector512.Load(b7 + o + NR), d7);
            }
            x += 2 * xStride;
            o += 2 * NR;
        }
        if (p < k)
        {
            var xa = Vector512.Create(x[0]);
            c0 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b0 + o), c0);
            c1 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b1 + o), c1);
            c2 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b2 + o), c2);
            c3 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b3 + o), c3);
            if (TP.N > 4)
            {
                c4 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b4 + o), c4);
                c5 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b5 + o), c5);
                c6 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b6 + o), c6);
                c7 = Avx512F.FusedMultiplyAdd(xa, Vector512.Load(b7 + o), c7);
            }
        }
        sums[0] = c0 + d0;
        sums[1] = c1 + d1;
        sums[2] = c2 + d2;
        sums[3] = c3 + d3;
        if (TP.N <= 4) return;
        sums[4] = c4 + d4;
        sums[5] = c5 + d5;
        sums[6] = c6 + d6;
        sums[7] = c7 + d7;
    }

    /// <summary>
    /// Most floats of B for which the kernel runs eight panels at once (<see cref="DotPanels512{TP}"/> with eight): 256 KB,
    /// a product that stays on one core and reads B from L2. Sixteen load streams and chains keep more of L2's lines in flight than
    /// eight: mlp-196-128-10 at batch 1 (196 × 128, 100 KB), four alternating pairs, 0.89 / 0.90 / 0.94 / 0.93 → 0.87 /
    /// 0.87 / 0.90 / 0.88 µs per call. For a bigger B, split over the cores and streamed from L3 or memory, it measured
    /// slower (mlp-784 at batch 1, 18.7 / 21.3 / 21.6 → 21.8 / 21.7 / 22.9 µs).
    /// </summary>
    private const long WideMaxFloats = 64 * 1024;

    /// <summary>
    /// A lone panel, with the same two chains (even k, odd k) as <see cref="DotPanels512{TP}"/>: every column of
    /// a row is then summed in the same order wherever its panel falls, so equal columns give bit-equal
    /// results (a softmax over huge, equal logits — constant-weight test models — stays exactly uniform).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> Dot512x1(float* x, long xStride, float* b, int k)
    {
        Vector512<float> c = default, d = default;
        int p = 0;
        for (; p + 1 < k; p += 2)
        {
            c = Avx512F.FusedMultiplyAdd(Vector512.Create(x[0]), Vector512.Load(b), c);
            d = Avx512F.FusedMultiplyAdd(Vector512.Create(x[xStride]), Vector512.Load(b + NR), d);
            x += 2 * xStride;
            b += 2 * NR;
        }
        if (p < k) c = Avx512F.FusedMultiplyAdd(Vector512.Create(x[0]), Vector512.Load(b), c);
        return c + d;
    }

    /// <summary>The 256-bit kernel: pairs of panels (two registers each), K unrolled by 2, then a lone panel.</summary>
    public static void Panels256(float* x, long xStride, float* packedB, float* y, int n, int k, in Epilogue e, int row, int panelBegin, int panelEnd)
    {
        long panelSize = (long)NR * k;
        Vector256<float>* sums = stackalloc Vector256<float>[4];
        int panel = panelBegin;
        for (; panel + 2 <= panelEnd; panel += 2)
        {
            Dot256x2(x, xStride, packedB + panel * panelSize, panelSize, k, sums);
            int col = panel * NR;
            Sgemm.StoreRow(y + col, sums[0], sums[1], Math.Min(NR, n - col), row, col, e);
            Sgemm.StoreRow(y + col + NR, sums[2], sums[3], Math.Min(NR, n - col - NR), row, col + NR, e);
        }
        if (panel < panelEnd)
        {
            Dot256x1(x, xStride, packedB + panel * panelSize, k, sums);
            int col = panel * NR;
            Sgemm.StoreRow(y + col, sums[0], sums[1], Math.Min(NR, n - col), row, col, e);
        }
    }

    /// <summary>Two panels at once (two registers each), K unrolled by 2: 8 chains.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Dot256x2(float* x, long xStride, float* b0, long panelSize, int k, Vector256<float>* sums)
    {
        float* b1 = b0 + panelSize;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<float> d00 = default, d01 = default, d10 = default, d11 = default;
        long o = 0;
        int p = 0;
        for (; p + 1 < k; p += 2)
        {
            var xa = Vector256.Create(x[0]);
            var xb = Vector256.Create(x[xStride]);
            c00 = MulAdd(xa, Vector256.Load(b0 + o), c00);
            c01 = MulAdd(xa, Vector256.Load(b0 + o + 8), c01);
            c10 = MulAdd(xa, Vector256.Load(b1 + o), c10);
            c11 = MulAdd(xa, Vector256.Load(b1 + o + 8), c11);
            d00 = MulAdd(xb, Vector256.Load(b0 + o + NR), d00);
            d01 = MulAdd(xb, Vector256.Load(b0 + o + NR + 8), d01);
            d10 = MulAdd(xb, Vector256.Load(b1 + o + NR), d10);
            d11 = MulAdd(xb, Vector256.Load(b1 + o + NR + 8), d11);
            x += 2 * xStride;
            o += 2 * NR;
        }
        if (p < k)
        {
            var xa = Vector256.Create(x[0]);
            c00 = MulAdd(xa, Vector256.Load(b0 + o), c00);
            c01 = MulAdd(xa, Vector256.Load(b0 + o + 8), c01);
            c10 = MulAdd(xa, Vector256.Load(b1 + o), c10);
            c11 = MulAdd(xa, Vector256.Load(b1 + o + 8), c11);
        }
        sums[0] = c00 + d00;
        sums[1] = c01 + d01;
        sums[2] = c10 + d10;
        sums[3] = c11 + d11;
    }

    /// <summary>A lone panel, K unrolled by 2: 4 chains.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Dot256x1(float* x, long xStride, float* b, int k, Vector256<float>* sums)
    {
        Vector256<float> c0 = default, c1 = default, d0 = default, d1 = default;
        int p = 0;
        for (; p + 1 < k; p += 2)
        {
            var xa = Vector256.Create(x[0]);
            var xb = Vector256.Create(x[xStride]);
            c0 = MulAdd(xa, Vector256.Load(b), c0);
            c1 = MulAdd(xa, Vector256.Load(b + 8), c1);
            d0 = MulAdd(xb, Vector256.Load(b + NR), d0);
            d1 = MulAdd(xb, Vector256.Load(b + NR + 8), d1);
            x += 2 * xStride;
            b += 2 * NR;
        }
        if (p < k)
        {
            var xa = Vector256.Create(x[0]);
            c0 = MulAdd(xa, Vector256.Load(b), c0);
            c1 = MulAdd(xa, Vector256.Load(b + 8), c1);
        }
        sums[0] = c0 + d0;
        sums[1] = c1 + d1;
    }

    /// <summary>Plain scalar code for machines without 256-bit SIMD (where Vector256 would be emulated element by element).</summary>
    public static void PanelsScalar(float* x, long xStride, float* packedB, float* y, int n, int k, in Epilogue e, int row, int panelBegin, int panelEnd)
    {
        long panelSize = (long)NR * k;
        float rowBias = e.RowBias != null ? e.RowBias[row] : 0f;
        for (int panel = panelBegin; panel < panelEnd; panel++)
        {
            float* b = packedB + panel * panelSize;
            int col0 = panel * NR;
            int cols = Math.Min(NR, n - col0);
            for (int j = 0; j < cols; j++)
            {
                float even = 0f, odd = 0f;
                float* xp = x;
                float* bj = b + j;
                int p = 0;
                for (; p + 1 < k; p += 2)
                {
                    even += xp[0] * bj[0];
                    odd += xp[xStride] * bj[NR];
                    xp += 2 * xStride;
                    bj += 2 * NR;
                }
                if (p < k) even += *xp * *bj;
                y[col0 + j] = FinishScalar(even + odd, y + col0 + j, col0 + j, rowBias, e);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    // The epilogue in Sgemm.StoreRow's order: alpha, row bias, old C, column bias, residual, activation.

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Store512(float* y, Vector512<float> v, int cols, int col, float rowBias, in Epilogue e)
    {
        if (e.Alpha != 1f) v *= e.Alpha;
        if (e.RowBias != null) v += Vector512.Create(rowBias);
        if (cols >= NR)
        {
            if (e.Accumulate) v += Vector512.Load(y);
            if (e.ColumnBias != null) v += Vector512.Load(e.ColumnBias + col);
            if (e.HasResidual) v += Vector512.Load(y + e.ResidualOffset);
            e.Activate(v).Store(y);
            return;
        }
        // The partial right-edge panel: finish through a stack tile (no over-read or over-write of C or bias).
        float* tile = stackalloc float[NR];
        v.Store(tile);
        for (int j = 0; j < cols; j++) y[j] = FinishTail(tile[j], y + j, col + j, e);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float FinishScalar(float sum, float* y, int col, float rowBias, in Epilogue e)
    {
        if (e.Alpha != 1f) sum *= e.Alpha;
        if (e.RowBias != null) sum += rowBias;
        return FinishTail(sum, y, col, e);
    }

    /// <summary>The part of the epilogue after alpha and row bias, for one element.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float FinishTail(float v, float* y, int col, in Epilogue e)
    {
        if (e.Accumulate) v += *y;
        if (e.ColumnBias != null) v += e.ColumnBias[col];
        if (e.HasResidual) v += y[e.ResidualOffset];
        return e.Activate(v);
    }
}
