using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ModelGen.Runtime.Kernels.Elementwise;

namespace ModelGen.Runtime.Kernels.Gemm;

/// <summary>
/// The AVX-512 register tile: one packed A block (<see cref="MR"/> = 6 rows) × up to four packed B
/// panels (64 columns) per call, over the same packed layouts as the 6 × 16 kernel.
/// </summary>
/// <remarks>
/// Why this shape, by measurement on this repository's Zen 5 machine (one thread, operands in
/// cache, CPU time): 6 × 16 with K unrolled by two and 12 × 32 both reach ~160 GFLOP/s, while
/// 6 × 64 reaches 218–222, the core's measured FMA peak. The broadcasts of A are the limit: at
/// 6 × 16 and 12 × 32 every FMA pair costs one broadcast (12 per 24 FMAs), at 6 × 64 one broadcast
/// feeds four FMAs (6 per 24). 24 accumulators + 4 B vectors + 1 broadcast fit AVX-512's 32
/// registers without spills (checked in the JIT's listing). Edges with two or three panels left take
/// the same code specialized through <see cref="IPanelCount"/>, which the JIT folds to constants.
/// </remarks>
internal static unsafe partial class Sgemm
{
    /// <summary>Column panels per wide tile.</summary>
    private const int WidePanels = 4;

    /// <summary>Columns of the wide tile; also the stack tile's row stride.</summary>
    private const int WideCols = WidePanels * NR;

    /// <summary>Columns of the widest register tile (AVX-512): the unit of <see cref="UnpackedColumns"/>.</summary>
    public const int WideColumns = WideCols;

    /// <summary>Column panels in <see cref="WideColumns"/>.</summary>
    public const int WidePanelCount = WidePanels;

    /// <summary>A compile-time panel count (1–4).</summary>
    private interface IPanelCount
    {
        static abstract int Count { get; }
    }

    private readonly struct TwoPanels : IPanelCount
    {
        public static int Count => 2;
    }

    private readonly struct ThreePanels : IPanelCount
    {
        public static int Count => 3;
    }

    private readonly struct FourPanels : IPanelCount
    {
        public static int Count => 4;
    }

    /// <summary>
    /// Computes rows [<paramref name="ib"/>, +6) × columns [<paramref name="jb"/>, +64) of C, clipped to
    /// <paramref name="rowLimit"/> and <paramref name="colLimit"/>, from K slice <paramref name="pc"/>..+<paramref name="kc"/>
    /// (<paramref name="k"/> is the packed operands' full depth).
    /// </summary>
    /// <remarks>
    /// <paramref name="ldb"/> is 0 when <paramref name="packedB"/> is packed; otherwise B is read in place, row-major with
    /// that row stride, and the tile must be a whole 64 columns wide.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideTile(float* packedA, float* packedB, float* c, long ldc, int rowLimit, int colLimit, int k, int pc, int kc,
        int ib, int jb, in Epilogue e, SliceMode mode, long ldb = 0)
    {
        int rows = Math.Min(MR, rowLimit - ib), cols = Math.Min(WideCols, colLimit - jb);
        // Packed blocks are k-major, so slice pc of a block starts pc steps in.
        float* a = packedA + (long)ib * k + (long)pc * MR;
        float* b = ldb == 0 ? packedB + (long)jb * k + (long)pc * NR : packedB + pc * ldb + jb;
        // Packed panels are NR·k floats apart and advance NR per k step; in place they are NR apart and advance a row.
        long panelStride = ldb == 0 ? (long)NR * k : NR, bStep = ldb == 0 ? NR : ldb;
        int panels = (cols + NR - 1) / NR;
        if (panels == 1 && ldb == 0)
        {
            // One panel has only 6 independent sums: the 6 × 16 kernel's two K phases hide the FMA latency better.
            MicroKernel(a, b, kc, c + ib * ldc + jb, ldc, rows, cols, ib, jb, e, mode);
            return;
        }
        float* ct = c + ib * ldc + jb;
        if (rows == MR && cols == WideCols && !e.Accumulate && e.Alpha == 1f)
        {
            // A full tile goes straight to C: raw sums (added to the earlier slices' partial sums), then the epilogue in place.
            bool finish = mode is SliceMode.Whole or SliceMode.Last;
            // Bias, residual and Relu are applied to the sums in registers; other activations take one pass over the block in L1.
            bool inRegisters = finish && e.Activation is ActivationKind.None or ActivationKind.Relu;
            var store = inRegisters
                ? new TileStore(e.RowBias == null ? null : e.RowBias + ib, e.ColumnBias == null ? null : e.ColumnBias + jb,
                    e.HasResidual, e.ResidualOffset, e.Activation == ActivationKind.Relu)
                : default;
            // An in-place residual is C itself: raw sums stored over it would lose it, so they add to it, and the pass leaves it out.
            bool residualInC = finish && !inRegisters && e.ResidualInPlace;
            Compute<FourPanels>(a, b, panelStride, bStep, kc, ct, ldc, add: mode is SliceMode.Middle or SliceMode.Last || residualInC, store);
            if (finish && !inRegisters) FinishFullBlock(ct, ldc, ib, jb, residualInC ? e.ForSlices() : e);
            return;
        }
        float* tile = stackalloc float[MR * WideCols];
        switch (panels)
        {
            case 2: Compute<TwoPanels>(a, b, panelStride, bStep, kc, tile, WideCols, add: false, default); break;
            case 3: Compute<ThreePanels>(a, b, panelStride, bStep, kc, tile, WideCols, add: false, default); break;
            default: Compute<FourPanels>(a, b, panelStride, bStep, kc, tile, WideCols, add: false, default); break;
        }
        for (int r = 0; r < rows; r++)
        {
            float* cr = ct + r * ldc;
            for (int q = 0; q < panels; q++)
            {
                FinishRow(tile + r * WideCols + q * NR, cr + q * NR, Math.Min(NR, cols - q * NR), ib + r, jb + q * NR, e, mode);
            }
        }
    }

    /// <summary>
    /// The register tile: the 6 rows of <paramref name="a"/> times <typeparamref name="TPanels"/> panels from <paramref name="b"/>,
    /// stored to (or, with <paramref name="add"/>, added to) 6 rows of <paramref name="dst"/> <paramref name="ldd"/> apart,
    /// finished on the way out as <paramref name="store"/> says.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Compute<TPanels>(float* a, float* b, long panelStride, long bStep, int k, float* dst, long ldd, bool add, TileStore store)
        where TPanels : struct, IPanelCount
    {
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector512<float> c50 = default, c51 = default, c52 = default, c53 = default;
        float* b1 = b + panelStride, b2 = b + 2 * panelStride, b3 = b + 3 * panelStride;
        for (int p = 0; p < k; p++)
        {
            var x0 = Vector512.Load(b);
            var x1 = Vector512.Load(b1);
            var x2 = TPanels.Count > 2 ? Vector512.Load(b2) : default;
            var x3 = TPanels.Count > 3 ? Vector512.Load(b3) : default;
            { var s = Vector512.Create(a[0]); c00 = Avx512F.FusedMultiplyAdd(s, x0, c00); c01 = Avx512F.FusedMultiplyAdd(s, x1, c01); if (TPanels.Count > 2) c02 = Avx512F.FusedMultiplyAdd(s, x2, c02); if (TPanels.Count > 3) c03 = Avx512F.FusedMultiplyAdd(s, x3, c03); }
            { var s = Vector512.Create(a[1]); c10 = Avx512F.FusedMultiplyAdd(s, x0, c10); c11 = Avx512F.FusedMultiplyAdd(s, x1, c11); if (TPanels.Count > 2) c12 = Avx512F.FusedMultiplyAdd(s, x2, c12); if (TPanels.Count > 3) c13 = Avx512F.FusedMultiplyAdd(s, x3, c13); }
            { var s = Vector512.Create(a[2]); c20 = Avx512F.FusedMultiplyAdd(s, x0, c20); c21 = Avx512F.FusedMultiplyAdd(s, x1, c21); if (TPanels.Count > 2) c22 = Avx512F.FusedMultiplyAdd(s, x2, c22); if (TPanels.Count > 3) c23 = Avx512F.FusedMultiplyAdd(s, x3, c23); }
            { var s = Vector512.Create(a[3]); c30 = Avx512F.FusedMultiplyAdd(s, x0, c30); c31 = Avx512F.FusedMultiplyAdd(s, x1, c31); if (TPanels.Count > 2) c32 = Avx512F.FusedMultiplyAdd(s, x2, c32); if (TPanels.Count > 3) c33 = Avx512F.FusedMultiplyAdd(s, x3, c33); }
            { var s = Vector512.Create(a[4]); c40 = Avx512F.FusedMultiplyAdd(s, x0, c40); c41 = Avx512F.FusedMultiplyAdd(s, x1, c41); if (TPanels.Count > 2) c42 = Avx512F.FusedMultiplyAdd(s, x2, c42); if (TPanels.Count > 3) c43 = Avx512F.FusedMultiplyAdd(s, x3, c43); }
            { var s = Vector512.Create(a[5]); c50 = Avx512F.FusedMultiplyAdd(s, x0, c50); c51 = Avx512F.FusedMultiplyAdd(s, x1, c51); if (TPanels.Count > 2) c52 = Avx512F.FusedMultiplyAdd(s, x2, c52); if (TPanels.Count > 3) c53 = Avx512F.FusedMultiplyAdd(s, x3, c53); }
            a += MR;
            b += bStep;
            b1 += bStep;
            if (TPanels.Count > 2) b2 += bStep;
            if (TPanels.Count > 3) b3 += bStep;
        }
        store.Put(c00, dst + 0 * ldd, add, 0, 0); store.Put(c01, dst + 0 * ldd + NR, add, 0, 1); if (TPanels.Count > 2) store.Put(c02, dst + 0 * ldd + 2 * NR, add, 0, 2); if (TPanels.Count > 3) store.Put(c03, dst + 0 * ldd + 3 * NR, add, 0, 3);
        store.Put(c10, dst + 1 * ldd, add, 1, 0); store.Put(c11, dst + 1 * ldd + NR, add, 1, 1); if (TPanels.Count > 2) store.Put(c12, dst + 1 * ldd + 2 * NR, add, 1, 2); if (TPanels.Count > 3) store.Put(c13, dst + 1 * ldd + 3 * NR, add, 1, 3);
        store.Put(c20, dst + 2 * ldd, add, 2, 0); store.Put(c21, dst + 2 * ldd + NR, add, 2, 1); if (TPanels.Count > 2) store.Put(c22, dst + 2 * ldd + 2 * NR, add, 2, 2); if (TPanels.Count > 3) store.Put(c23, dst + 2 * ldd + 3 * NR, add, 2, 3);
        store.Put(c30, dst + 3 * ldd, add, 3, 0); store.Put(c31, dst + 3 * ldd + NR, add, 3, 1); if (TPanels.Count > 2) store.Put(c32, dst + 3 * ldd + 2 * NR, add, 3, 2); if (TPanels.Count > 3) store.Put(c33, dst + 3 * ldd + 3 * NR, add, 3, 3);
        store.Put(c40, dst + 4 * ldd, add, 4, 0); store.Put(c41, dst + 4 * ldd + NR, add, 4, 1); if (TPanels.Count > 2) store.Put(c42, dst + 4 * ldd + 2 * NR, add, 4, 2); if (TPanels.Count > 3) store.Put(c43, dst + 4 * ldd + 3 * NR, add, 4, 3);
        store.Put(c50, dst + 5 * ldd, add, 5, 0); store.Put(c51, dst + 5 * ldd + NR, add, 5, 1); if (TPanels.Count > 2) store.Put(c52, dst + 5 * ldd + 2 * NR, add, 5, 2); if (TPanels.Count > 3) store.Put(c53, dst + 5 * ldd + 3 * NR, add, 5, 3);
    }

    /// <summary>
    /// Columns [<paramref name="col0"/>, +64·<paramref name="groups"/>) of C = A·B with B read in place (row-major, row
    /// stride <paramref name="ldb"/>; whole 64-column groups only, so no load passes a row's end), cache-blocked over K like
    /// <see cref="BlockedPanels"/> when <see cref="UsesBlocking"/> says so. For a 1×1 conv, whose B is its input: packing it
    /// would copy K·N floats per call. AVX-512 only.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void UnpackedColumns(float* packedA, float* b, long ldb, float* c, long ldc, int m, int k, in Epilogue e, int col0, int groups)
    {
        int rowBlocks = RowBlocks(m), n = col0 + groups * WideCols;
        if (!UsesBlocking(m, k, e))
        {
            for (int g = 0; g < groups; g++)
            for (int rb = 0; rb < rowBlocks; rb++)
            {
                WideTile(packedA, b, c, ldc, m, n, k, 0, k, rb * MR, col0 + g * WideCols, e, SliceMode.Whole, ldb);
            }
            return;
        }
        var sliced = e.ForSlices();
        for (int pc = 0; pc < k; pc += KC)
        {
            int kc = Math.Min(KC, k - pc);
            var mode = SliceOf(pc, kc, k, e);
            for (int rb0 = 0; rb0 < rowBlocks; rb0 += MCBlocks)
            {
                int rb1 = Math.Min(rowBlocks, rb0 + MCBlocks);
                for (int g = 0; g < groups; g++)
                for (int rb = rb0; rb < rb1; rb++)
                {
                    WideTile(packedA, b, c, ldc, m, n, k, pc, kc, rb * MR, col0 + g * WideCols, sliced, mode, ldb);
                }
            }
        }
    }

    /// <summary>
    /// How <see cref="Compute{TPanels}"/> finishes each sum vector of its tile on the way to memory: the default only
    /// stores; otherwise the row bias (one value per tile row), the column bias (one vector per panel), the residual
    /// (when <paramref name="residual"/>: <paramref name="residualOffset"/> floats from the target, 0 when the residual is
    /// the output itself, in place) and Relu are applied while the sums are still in registers, instead of in a second pass
    /// over the stored block.
    /// </summary>
    private readonly struct TileStore(float* rowBias, float* columnBias, bool residual, long residualOffset, bool relu)
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Put(Vector512<float> sum, float* target, bool add, int row, int panel)
        {
            if (add) sum += Vector512.Load(target);
            if (rowBias != null) sum += Vector512.Create(rowBias[row]);
            if (columnBias != null) sum += Vector512.Load(columnBias + panel * NR);
            if (residual) sum += Vector512.Load(target + residualOffset);
            if (relu) sum = new ReluOp().Invoke(sum);
            sum.Store(target);
        }
    }

    /// <summary>
    /// The epilogue over a full 6 × 64 block of C that holds finished raw sums: y = act(sum + rowBias + columnBias).
    /// One pass over the block while it is in L1; only for epilogues without alpha or accumulate.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FinishFullBlock(float* c, long ldc, int row0, int col0, in Epilogue e)
    {
        bool plain = e.RowBias == null && e.ColumnBias == null && !e.HasResidual && e.Activation == ActivationKind.None;
        if (plain) return;
        for (int r = 0; r < MR; r++)
        {
            float* cr = c + r * ldc;
            var rowBias = e.RowBias == null ? Vector256<float>.Zero : Vector256.Create(e.RowBias[row0 + r]);
            for (int j = 0; j < WideCols; j += 8)
            {
                var v = Vector256.Load(cr + j) + rowBias;
                if (e.ColumnBias != null) v += Vector256.Load(e.ColumnBias + col0 + j);
                if (e.HasResidual) v += Vector256.Load(cr + j + e.ResidualOffset);
                e.Activate(v).Store(cr + j);
            }
        }
    }
}
