using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ModelGen.Runtime.Kernels.Conv;
using ModelGen.Runtime.Kernels.Elementwise;

namespace ModelGen.Runtime.Kernels.Gemm;

/// <summary>
/// The one fp32 matrix-multiply core (Gemm, MatMul and Conv all use it): C[M,N] = A[M,K]·B[K,N]
/// with a fused <see cref="Epilogue"/>. Operands are first packed — A into blocks of
/// <see cref="MR"/> rows stored k-major, B into panels of <see cref="NR"/> columns stored k-major,
/// both zero-padded — so the micro-kernel streams both contiguously and keeps a full
/// MR×NR tile of C in registers (12 AVX-512 accumulators over two K phases, or 12 256-bit ones), touching C
/// once per tile; long products are cache-blocked over K and M (<see cref="BlockedPanels"/>).
/// </summary>
[SkipLocalsInit]
internal static unsafe partial class Sgemm
{
    public const int MR = 6;
    public const int NR = 16;

    public static int RowBlocks(int m) => (m + MR - 1) / MR;
    public static int ColumnPanels(int n) => (n + NR - 1) / NR;

    /// <summary>Floats needed for packed A.</summary>
    public static long PackedASize(int m, int k) => (long)RowBlocks(m) * MR * Math.Max(k, 1);

    /// <summary>Floats needed for packed B.</summary>
    public static long PackedBSize(int k, int n) => (long)ColumnPanels(n) * NR * Math.Max(k, 1);

    /// <summary>Packs B where element (p, j) is at <c>b[p*rowStride + j*colStride]</c> (any layout, so transB is free).</summary>
    public static void PackB(float* b, long rowStride, long colStride, int k, int n, float* dst)
    {
        for (int jb = 0; jb < n; jb += NR)
        {
            int cols = Math.Min(NR, n - jb);
            float* panel = dst + (long)jb * k;
            if (cols == NR && colStride == 1)
            {
                for (int p = 0; p < k; p++)
                {
                    float* src = b + p * rowStride + jb;
                    Vector256.Load(src).Store(panel + p * NR);
                    Vector256.Load(src + 8).Store(panel + p * NR + 8);
                }
                continue;
            }
            for (int p = 0; p < k; p++)
            {
                float* src = b + p * rowStride + jb * colStride;
                float* d = panel + p * NR;
                int j = 0;
                for (; j < cols; j++) d[j] = src[j * colStride];
                for (; j < NR; j++) d[j] = 0f;
            }
        }
    }

    /// <summary>K is split into slices of this many steps when it is longer (BLIS/MLAS "KC"): a 16×KC B sub-panel then stays in L1.</summary>
    public const int KC = 256;

    /// <summary>Row blocks (of <see cref="MR"/> rows) per A block kept in L2 while the B sub-panels stream past (BLIS "MC").</summary>
    public const int MCBlocks = 16;

    /// <summary>
    /// Whether a product takes the cache-blocked path (<see cref="BlockedPanels"/>): long K, at
    /// least one full row block, and no accumulate into C. A product of fewer than <see cref="MR"/>
    /// rows (a batch-1 Gemm/MatMul is a matrix-vector product) reads each B element once anyway,
    /// so blocking only adds passes over C; the tile path's single-row kernel is faster there.
    /// </summary>
    public static bool UsesBlocking(int m, int k, in Epilogue e) => m >= MR && k > KC && !e.Accumulate;

    /// <summary>Computes tiles [<paramref name="tileBegin"/>, <paramref name="tileEnd"/>) of C; tiles go panel-major so a packed B panel stays in cache.</summary>
    /// <remarks>A tile is <see cref="MR"/>×<see cref="NR"/>; with AVX-512 neighbouring tiles of the range are computed together as one wide register tile.</remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tiles(float* packedA, float* packedB, float* c, long ldc, int m, int n, int k, in Epilogue epilogue, int tileBegin, int tileEnd)
    {
        if (m == 1)
        {
            // A matrix-vector product: one row block, so tile t is column panel t; row 0 of packed A is x with stride MR.
            Sgemv.Panels(packedA, MR, packedB, c, n, k, epilogue, 0, tileBegin, tileEnd);
            return;
        }
        int rowBlocks = RowBlocks(m);
        if (Avx512F.IsSupported && m > 1)
        {
            WideTiles(packedA, packedB, c, ldc, m, n, k, epilogue, tileBegin, tileEnd);
            return;
        }
        for (int t = tileBegin; t < tileEnd; t++)
        {
            int jb = t / rowBlocks * NR;
            int ib = t % rowBlocks * MR;
            MicroKernel(packedA + (long)ib * k, packedB + (long)jb * k, k, c + ib * ldc + jb, ldc,
                Math.Min(MR, m - ib), Math.Min(NR, n - jb), ib, jb, epilogue, SliceMode.Whole);
        }
    }

    /// <summary><see cref="Tiles"/> with wide tiles: up to four panels at a time where the range holds them whole.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideTiles(float* packedA, float* packedB, float* c, long ldc, int m, int n, int k, in Epilogue epilogue, int tileBegin, int tileEnd)
    {
        int rowBlocks = RowBlocks(m), panels = ColumnPanels(n);
        int t = tileBegin;
        while (t < tileEnd)
        {
            int panel = t / rowBlocks, rb = t % rowBlocks;
            // Whole panels from here on in the range: group them; a range that starts or ends inside a panel takes it alone.
            int group = rb == 0 ? Math.Min(Math.Min(WidePanels, panels - panel), (tileEnd - t) / rowBlocks) : 0;
            int rbEnd = group > 0 ? rowBlocks : Math.Min(rowBlocks, rb + (tileEnd - t));
            int colLimit = Math.Min(n, (panel + Math.Max(group, 1)) * NR);
            for (int r = rb; r < rbEnd; r++)
            {
                WideTile(packedA, packedB, c, ldc, m, colLimit, k, 0, k, r * MR, panel * NR, epilogue, SliceMode.Whole);
            }
            t += group > 0 ? group * rowBlocks : rbEnd - rb;
        }
    }

    /// <summary>
    /// Computes column panels [<paramref name="panelBegin"/>, <paramref name="panelEnd"/>) of C with cache blocking:
    /// K in slices of <see cref="KC"/> (partial sums parked in C, the epilogue applied by the last slice), rows in
    /// blocks of <see cref="MCBlocks"/> row blocks, so A and B are read from L1/L2 instead of streaming all of A per panel.
    /// Only for <see cref="UsesBlocking"/> products.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BlockedPanels(float* packedA, float* packedB, float* c, long ldc, int m, int n, int k, in Epilogue epilogue, int panelBegin, int panelEnd)
    {
        int rowBlocks = RowBlocks(m);
        bool wide = Avx512F.IsSupported;
        if (wide && rowBlocks <= MCBlocks)
        {
            GroupMajorPanels(packedA, packedB, c, ldc, m, n, k, epilogue, panelBegin, panelEnd);
            return;
        }
        if (!wide && panelEnd - panelBegin <= FewPanels && (long)(panelEnd - panelBegin) * NR * k * 4 <= FewPanelsBytes)
        {
            RowBlockMajor(packedA, packedB, c, ldc, m, n, k, epilogue, panelBegin, panelEnd);
            return;
        }
        var e = epilogue.ForSlices();
        // Without wide tiles, slices of equal length: K = 784 is 2 × 392, not 3 × 256 and a slice of 16 that pays a
        // round trip of C's partial sums for 16 steps.
        int slice = wide ? KC : EqualSlice(k, Avx2SliceTaps);
        for (int pc = 0; pc < k; pc += slice)
        {
            int kc = Math.Min(slice, k - pc);
            var mode = SliceOf(pc, kc, k, epilogue);
            for (int rb0 = 0; rb0 < rowBlocks; rb0 += MCBlocks)
            {
                int rb1 = Math.Min(rowBlocks, rb0 + MCBlocks);
                if (wide)
                {
                    for (int panel = panelBegin; panel < panelEnd; panel += WidePanels)
                    {
                        int colLimit = Math.Min(n, Math.Min(panel + WidePanels, panelEnd) * NR);
                        for (int rb = rb0; rb < rb1; rb++)
                        {
                            WideTile(packedA, packedB, c, ldc, m, colLimit, k, pc, kc, rb * MR, panel * NR, e, mode);
                        }
                    }
                    continue;
                }
                for (int panel = panelBegin; panel < panelEnd; panel++)
                {
                    int jb = panel * NR;
                    // Packed blocks are k-major, so slice pc of a block starts pc steps in.
                    float* b = packedB + (long)jb * k + (long)pc * NR;
                    for (int rb = rb0; rb < rb1; rb++)
                    {
                        int ib = rb * MR;
                        MicroKernel(packedA + (long)ib * k + (long)pc * MR, b, kc, c + ib * ldc + jb, ldc,
                            Math.Min(MR, m - ib), Math.Min(NR, n - jb), ib, jb, e, mode);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Most K steps per slice of the AVX2 path's <see cref="BlockedPanels"/>: twice <see cref="KC"/>. Its 16×512 B sub-panel
    /// (32 KB) no longer stays whole in a 32 KB L1, but the 6×16 tile's two B loads per step come from L2 fast enough, and
    /// every slice saved is a round trip of C's partial sums. Measured on the 2-core AVX2 EPYC against slices of
    /// <see cref="KC"/>: the 1024³ GEMM on both cores (quick mode, three alternating pairs) 66 / 74 / 69% → 83 / 78 / 75% of
    /// peak, ONNX Runtime's time over ModelGen's 0.88 / 0.94 / 0.95 → 1.02 / 0.96 / 0.96; on one core (--layers, fastest
    /// chunks, four alternating pairs) ResNet-50's 1×1 512→128 on 28×28 0.97 / 0.90 / 0.89 / 0.90 → 0.98 / 0.94 / 0.91 /
    /// 0.97, 2048→512 on 7×7 0.77 / 0.83 / 0.85 / 0.87 → 0.86 / 0.88 / 0.88 / 0.90; its 1024→256 on 14×14 and SqueezeNet's
    /// 512→1000 within the noise.
    /// </summary>
    private const int Avx2SliceTaps = 2 * KC;

    /// <summary>Column panels up to which the AVX2 path multiplies row block by row block over all of K (<see cref="RowBlockMajor"/>).</summary>
    private const int FewPanels = 4;

    /// <summary>
    /// Most bytes of packed B for <see cref="RowBlockMajor"/>: half of a Zen 3 core's L2. On the 2-core AVX2 EPYC, one core
    /// (--layers, three alternating pairs, ONNX Runtime's time over ModelGen's, K-sliced → row-block-major): ResNet-50's
    /// 1×1 512→2048 on 7×7 (128 KB of B) 0.72 / 0.75 / 0.69 → 0.87 / 0.87 / 0.67; its 2048→512 (512 KB, which this leaves
    /// sliced) 0.81 / 0.77 / 0.77 → 0.81 / 0.92 / 0.72.
    /// </summary>
    private const long FewPanelsBytes = 256 * 1024;

    /// <summary>
    /// Panels [<paramref name="panelBegin"/>, <paramref name="panelEnd"/>) of a product with few columns (a 7×7 map is 49), by
    /// row blocks, each over every panel and all of K at once: all of packed B (at most 4 panels, 64 floats a K step) stays
    /// in L2 and each row block of A in L1 while it meets every panel, so no K slice parks partial sums in C.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RowBlockMajor(float* packedA, float* packedB, float* c, long ldc, int m, int n, int k, in Epilogue e, int panelBegin, int panelEnd)
    {
        int rowBlocks = RowBlocks(m);
        for (int rb = 0; rb < rowBlocks; rb++)
        {
            int ib = rb * MR;
            for (int panel = panelBegin; panel < panelEnd; panel++)
            {
                int jb = panel * NR;
                MicroKernel(packedA + (long)ib * k, packedB + (long)jb * k, k, c + ib * ldc + jb, ldc,
                    Math.Min(MR, m - ib), Math.Min(NR, n - jb), ib, jb, e, SliceMode.Whole);
            }
        }
    }

    /// <summary>
    /// Most K steps per slice in <see cref="GroupMajorPanels"/>, the slices of equal length: a 64-column group's B for one
    /// slice (at most 256 KB) stays in L2 while every row block reads it. A <see cref="KC"/>-long slice of a group is 64 KB,
    /// more than the 48 KB L1 of current x86 cores, so it was read from L2 as well, while each extra slice costs a round trip
    /// of C's partial sums (and K = 784 left a last slice of 16). Measured on two cores with the old and new builds
    /// alternating, p50 of 1 s of calls (Gemm with bias and Relu, A packed per call), KC slices → these: 32×784×512 96–97 →
    /// 86–87 µs, 32×512×512 65 → 59–60 µs, 32×1024×1000 218–219 → 201–205 µs, 32×2304×256 180–182 → 168–169 µs,
    /// 64×1152×128 141–142 → 123 µs, 32×4608×512 593–606 → 572–575 µs, 96×4608×512 1411–1483 → 1369–1401 µs.
    /// </summary>
    private const int GroupSliceTaps = 1024;

    /// <summary>
    /// The length of the slices <paramref name="k"/> steps are cut into: as few as keep each at most
    /// <paramref name="most"/> long, all of equal length (the last may be shorter by less than the slice count), so no
    /// slice is a short remainder that pays a slice's fixed costs for a few steps.
    /// </summary>
    public static int EqualSlice(int k, int most)
    {
        int slices = Math.Max(1, (k + most - 1) / most);
        return (k + slices - 1) / slices;
    }

    /// <summary>
    /// <see cref="BlockedPanels"/> for a product whose rows are one A block (at most <see cref="MCBlocks"/> row blocks:
    /// a pixel-major conv on a 7×7 map, a batch-32 layer): each 64-column group runs all its K slices before the
    /// next group starts, so every B panel is read start to end as one stream instead of in KC-long pieces a whole
    /// sweep of groups apart. With all rows in one block, the slice-outer order kept nothing hot that this loses
    /// (A's slice is re-read from L1/L2). Measured on two cores, caches flushed: 7×7 3×3 512→512 1.07–1.37 → 0.99–1.34 ms,
    /// 7×7 1×1 2048→512 0.73–0.75 → 0.61–0.67 ms; in cache 5–15% faster too.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GroupMajorPanels(float* packedA, float* packedB, float* c, long ldc, int m, int n, int k, in Epilogue epilogue, int panelBegin, int panelEnd)
    {
        int rowBlocks = RowBlocks(m);
        var e = epilogue.ForSlices();
        for (int panel = panelBegin; panel < panelEnd; panel += WidePanels)
        {
            int colLimit = Math.Min(n, Math.Min(panel + WidePanels, panelEnd) * NR);
            int perSlice = EqualSlice(k, GroupSliceTaps);
            for (int pc = 0; pc < k; pc += perSlice)
            {
                int kc = Math.Min(perSlice, k - pc);
                var mode = SliceOf(pc, kc, k, epilogue);
                for (int rb = 0; rb < rowBlocks; rb++)
                {
                    WideTile(packedA, packedB, c, ldc, m, colLimit, k, pc, kc, rb * MR, panel * NR, e, mode);
                }
            }
        }
    }

    /// <summary>
    /// The mode of K slice [<paramref name="pc"/>, +<paramref name="kc"/>) of a <paramref name="k"/>-long product, run with
    /// <see cref="Epilogue.ForSlices"/> of <paramref name="e"/>. With the residual in C itself (<see cref="Epilogue.ResidualInPlace"/>)
    /// no slice may overwrite C: the residual is the partial sum the first slice adds to, so that slice runs as a middle
    /// one (or as the last, when it is the only one).
    /// </summary>
    internal static SliceMode SliceOf(int pc, int kc, int k, in Epilogue e)
    {
        bool first = pc == 0 && !e.ResidualInPlace, last = pc + kc == k;
        return first && last ? SliceMode.Whole : first ? SliceMode.First : last ? SliceMode.Last : SliceMode.Middle;
    }

    /// <summary>Which part of a K-split product a micro-kernel call computes.</summary>
    internal enum SliceMode
    {
        /// <summary>All of K: apply the epilogue.</summary>
        Whole,
        /// <summary>First slice: store the raw sum into C.</summary>
        First,
        /// <summary>Middle slice: add the raw sum to C.</summary>
        Middle,
        /// <summary>Last slice: add C's partial sum, then apply the epilogue.</summary>
        Last,
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void MicroKernel(float* a, float* b, int k, float* c, long ldc, int rows, int cols, int row0, int col0, in Epilogue e, SliceMode mode)
    {
        if (rows == 1 && mode == SliceMode.Whole)
        {
            // Batch-1 inference (a GEMV): skip the five padding rows, which would cost 6x the FMAs.
            SingleRowKernel(a, b, k, c, cols, row0, col0, e);
            return;
        }
        PrefetchTileOfC(c, ldc, rows, cols);
        if (!Avx512F.IsSupported && cols == NR)
        {
            // Whole columns go straight from the registers into C, finished as the mode says: no round trip through the
            // stack tile and FinishSlice.
            Compute256(a, b, NR, k, c, ldc, rows, mode, row0, col0, e);
            return;
        }
        float* tile = stackalloc float[MR * NR];
        if (Avx512F.IsSupported) Compute512(a, b, k, tile);
        else if (cols <= EdgeColumns) ComputeEdgeColumns(a, b, k, tile, cols);
        else if (cols <= NR / 2) ComputeNarrow(a, b, k, tile, rows);
        else if (cols <= NR / 2 + EdgeColumns)
        {
            ComputeNarrow(a, b, k, tile, rows);
            ComputeEdgeColumns(a, b + NR / 2, k, tile + NR / 2, cols - NR / 2);
        }
        else Compute256(a, b, NR, k, tile, NR, rows, SliceMode.First, row0, col0, e);
        if (mode == SliceMode.Whole)
        {
            for (int r = 0; r < rows; r++)
            {
                StoreRow(c + r * ldc, Vector256.Load(tile + r * NR), Vector256.Load(tile + r * NR + 8), cols, row0 + r, col0, e);
            }
            return;
        }
        FinishSlice(tile, c, ldc, rows, cols, row0, col0, e, mode);
    }

    /// <summary>
    /// Asks for the lines of a tile's <paramref name="rows"/> × <paramref name="cols"/> block of C: its rows are ldc apart, a
    /// stride no hardware prefetcher follows, and a K slice reads its partial sums back; asked for now, the lines arrive
    /// while the FMAs run instead of after them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchTileOfC(float* c, long ldc, int rows, int cols)
    {
        for (int r = 0; r < rows; r++)
        {
            Sse.Prefetch0(c + r * ldc);
            Sse.Prefetch0(c + r * ldc + cols - 1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FinishSlice(float* tile, float* c, long ldc, int rows, int cols, int row0, int col0, in Epilogue e, SliceMode mode)
    {
        for (int r = 0; r < rows; r++) FinishRow(tile + r * NR, c + r * ldc, cols, row0 + r, col0, e, mode);
    }

    /// <summary>Writes up to <see cref="NR"/> finished sums <paramref name="t"/> of one row to C as <paramref name="mode"/> says.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FinishRow(float* t, float* cr, int cols, int row, int col0, in Epilogue e, SliceMode mode)
    {
        if (mode == SliceMode.Whole)
        {
            StoreRow(cr, Vector256.Load(t), Vector256.Load(t + 8), cols, row, col0, e);
            return;
        }
        if (mode != SliceMode.First)
        {
            // Fold in the partial sum of the earlier slices (a raw sum: the epilogue has not touched it).
            if (cols == NR)
            {
                (Vector256.Load(t) + Vector256.Load(cr)).Store(t);
                (Vector256.Load(t + 8) + Vector256.Load(cr + 8)).Store(t + 8);
            }
            else
            {
                for (int j = 0; j < cols; j++) t[j] += cr[j];
            }
        }
        if (mode == SliceMode.Last)
        {
            StoreRow(cr, Vector256.Load(t), Vector256.Load(t + 8), cols, row, col0, e);
        }
        else if (cols == NR)
        {
            Vector256.Load(t).Store(cr);
            Vector256.Load(t + 8).Store(cr + 8);
        }
        else
        {
            for (int j = 0; j < cols; j++) cr[j] = t[j];
        }
    }

    /// <summary>The MR×NR tile with AVX-512: one 16-wide register per row, K unrolled by two into two accumulator sets (12 registers) to cover the FMA latency.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Compute512(float* a, float* b, int k, float* tile)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector512<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default;
        int p = 0;
        for (; p + 1 < k; p += 2)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + NR);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
            d0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[6]), b1, d0);
            d1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[7]), b1, d1);
            d2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[8]), b1, d2);
            d3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[9]), b1, d3);
            d4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[10]), b1, d4);
            d5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[11]), b1, d5);
            a += 2 * MR;
            b += 2 * NR;
        }
        if (p < k)
        {
            var b0 = Vector512.Load(b);
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), b0, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[1]), b0, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[2]), b0, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[3]), b0, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[4]), b0, c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a[5]), b0, c5);
        }
        (c0 + d0).Store(tile);
        (c1 + d1).Store(tile + NR);
        (c2 + d2).Store(tile + 2 * NR);
        (c3 + d3).Store(tile + 3 * NR);
        (c4 + d4).Store(tile + 4 * NR);
        (c5 + d5).Store(tile + 5 * NR);
    }

    /// <summary>
    /// The MR×NR tile with 256-bit FMA for the first <paramref name="rows"/> rows of the block (the rest of the tile is
    /// left undefined): a batch of 32 is five full blocks and one of 2 rows, which computed as 6 spent 11% of the
    /// product's FMAs on padding. Row r goes to <paramref name="tile"/> + r·<paramref name="ldt"/>, written as
    /// <paramref name="mode"/> says (<see cref="Put"/>): into C itself, or as raw sums into the stack tile (First). B's
    /// K steps are <paramref name="ldb"/> floats apart: <see cref="NR"/> in a packed panel, a row of B read in place
    /// (<see cref="UnpackedPanels256"/>).
    /// </summary>
    private static void Compute256(float* a, float* b, long ldb, int k, float* tile, long ldt, int rows, SliceMode mode, int row0, int col0, in Epilogue e)
    {
        switch (rows)
        {
            case 1: Compute256<Count1>(a, b, ldb, k, tile, ldt, mode, row0, col0, e); break;
            case 2: Compute256<Count2>(a, b, ldb, k, tile, ldt, mode, row0, col0, e); break;
            case 3: Compute256<Count3>(a, b, ldb, k, tile, ldt, mode, row0, col0, e); break;
            case 4: Compute256<Count4>(a, b, ldb, k, tile, ldt, mode, row0, col0, e); break;
            case 5: Compute256<Count5>(a, b, ldb, k, tile, ldt, mode, row0, col0, e); break;
            default: Compute256<Count6>(a, b, ldb, k, tile, ldt, mode, row0, col0, e); break;
        }
    }

    /// <summary>The tile's first <typeparamref name="TR"/>.N rows: two registers per row, up to 12 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Compute256<TR>(float* a, float* b, long ldb, int k, float* tile, long ldt, SliceMode mode, int row0, int col0, in Epilogue e) where TR : struct, ICount
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        // K unrolled by four: the loop's own instructions (pointer steps, compare, branch) once per 48 FMAs. Each step names
        // its rows by offsets from the two pointers (a constant for A, a multiple of ldb for B) rather than by pointers of its
        // own: given `a + MR` and `b + ldb` the JIT made each a register first, 7 more instructions per 48 FMAs. On this host
        // instructions count in the slow seconds, when another guest shares the core (docs/performance.md, nineteenth session);
        // one executor in alternating blocks behind an experiment-only switch, two cores, block medians new over old:
        // SqueezeNet 0.998, ResNet-50 0.989, within the noise.
        long ldb2 = 2 * ldb, ldb3 = 3 * ldb;
        int p = 0;
        for (; p + 3 < k; p += 4)
        {
            Step<TR>(a, 0, b, 0, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step<TR>(a, MR, b, ldb, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step<TR>(a, 2 * MR, b, ldb2, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            Step<TR>(a, 3 * MR, b, ldb3, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
            a += 4 * MR;
            b += 4 * ldb;
        }
        for (; p < k; p++, a += MR, b += ldb) Step<TR>(a, 0, b, 0, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
        if (mode == SliceMode.First || mode == SliceMode.Middle || e.FinishesInline)
        {
            PutInline(tile, mode, row0, e, c00, c01);
            if (TR.N > 1) PutInline(tile + ldt, mode, row0 + 1, e, c10, c11);
            if (TR.N > 2) PutInline(tile + 2 * ldt, mode, row0 + 2, e, c20, c21);
            if (TR.N > 3) PutInline(tile + 3 * ldt, mode, row0 + 3, e, c30, c31);
            if (TR.N > 4) PutInline(tile + 4 * ldt, mode, row0 + 4, e, c40, c41);
            if (TR.N > 5) PutInline(tile + 5 * ldt, mode, row0 + 5, e, c50, c51);
            return;
        }
        PutRows<TR>(tile, ldt, mode, row0, col0, e, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }

    /// <summary>
    /// <see cref="Put"/> for each row of a <see cref="Compute256{TR}"/> tile whose epilogue does not finish inline. Its own
    /// method so that the general epilogue (alpha, accumulate, column bias, and activations that call out: sigmoid and tanh
    /// inline a call to exp) stays out of the tile's frame: inlined there six times it made the tile 7.7 KB of code with a
    /// 1.7 KB frame, and the Relu tiles of a 1×1 conv spent 19% of their samples after the K loop reloading spilled sums.
    /// Now 1.7 KB of code and no spills on the inline path. Measured on the 2-core AVX2 EPYC, one core (--layers, two
    /// alternating pairs, ModelGen's fastest chunk): ResNet-50's 1×1 128→512 on 28×28 1550 / 1501 → 1303 / 1419 µs (ONNX
    /// Runtime's time over ModelGen's 0.82 / 0.85 → 0.99 / 1.01), 256→1024 on 14×14 1404 / 1372 → 1188 / 1171 µs,
    /// 1024→256 on 14×14 (K sliced) 1847 / 1258 → 1363 / 1278 µs.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PutRows<TR>(float* tile, long ldt, SliceMode mode, int row0, int col0, in Epilogue e,
        Vector256<float> c00, Vector256<float> c01, Vector256<float> c10, Vector256<float> c11, Vector256<float> c20, Vector256<float> c21,
        Vector256<float> c30, Vector256<float> c31, Vector256<float> c40, Vector256<float> c41, Vector256<float> c50, Vector256<float> c51)
        where TR : struct, ICount
    {
        Put(tile, mode, row0, col0, e, c00, c01);
        if (TR.N > 1) Put(tile + ldt, mode, row0 + 1, col0, e, c10, c11);
        if (TR.N > 2) Put(tile + 2 * ldt, mode, row0 + 2, col0, e, c20, c21);
        if (TR.N > 3) Put(tile + 3 * ldt, mode, row0 + 3, col0, e, c30, c31);
        if (TR.N > 4) Put(tile + 4 * ldt, mode, row0 + 4, col0, e, c40, c41);
        if (TR.N > 5) Put(tile + 5 * ldt, mode, row0 + 5, col0, e, c50, c51);
    }

    /// <summary>
    /// Writes a row's two accumulators (16 whole columns) at <paramref name="row"/> as <paramref name="mode"/> says: a first
    /// slice's raw sums stored, a middle one's added, the last one's added and finished with the epilogue, a whole one's
    /// finished.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* row, SliceMode mode, int r, int col0, in Epilogue e, Vector256<float> v0, Vector256<float> v1)
    {
        if (mode == SliceMode.Middle || mode == SliceMode.Last)
        {
            v0 += Vector256.Load(row);
            v1 += Vector256.Load(row + 8);
        }
        if (mode == SliceMode.Whole || mode == SliceMode.Last)
        {
            StoreRow(row, v0, v1, NR, r, col0, e);
            return;
        }
        v0.Store(row);
        v1.Store(row + 8);
    }

    /// <summary>
    /// <see cref="Put"/> for an epilogue that <see cref="Epilogue.FinishesInline"/> (or a slice that only stores or adds raw
    /// sums): the same operations in the same order as <see cref="StoreRow"/>'s, so the results are identical bit for bit.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PutInline(float* row, SliceMode mode, int r, in Epilogue e, Vector256<float> v0, Vector256<float> v1)
    {
        if (mode == SliceMode.Middle || mode == SliceMode.Last)
        {
            v0 += Vector256.Load(row);
            v1 += Vector256.Load(row + 8);
        }
        if (mode == SliceMode.Whole || mode == SliceMode.Last)
        {
            if (e.RowBias != null)
            {
                var rb = Vector256.Create(e.RowBias[r]);
                v0 += rb;
                v1 += rb;
            }
            if (e.HasResidual)
            {
                v0 += Vector256.Load(row + e.ResidualOffset);
                v1 += Vector256.Load(row + e.ResidualOffset + 8);
            }
            if (e.Activation == ActivationKind.Relu)
            {
                v0 = new ReluOp().Invoke(v0);
                v1 = new ReluOp().Invoke(v1);
            }
        }
        v0.Store(row);
        v1.Store(row + 8);
    }

    /// <summary>
    /// A tile whose panel holds at most 8 real columns (the right edge of C: a 14×14 map is 12 panels and 4 columns; one or
    /// two columns go to <see cref="ComputeEdgeColumns"/>): only the panel's first vector, the tile's raw sums into the first 8 columns of
    /// <paramref name="tile"/>'s rows. A full 16-column tile spent as many FMAs on that edge as on a whole panel.
    /// </summary>
    private static void ComputeNarrow(float* a, float* b, int k, float* tile, int rows)
    {
        switch (rows)
        {
            case 1: ComputeNarrow<Count1>(a, b, k, tile); break;
            case 2: ComputeNarrow<Count2>(a, b, k, tile); break;
            case 3: ComputeNarrow<Count3>(a, b, k, tile); break;
            case 4: ComputeNarrow<Count4>(a, b, k, tile); break;
            case 5: ComputeNarrow<Count5>(a, b, k, tile); break;
            default: ComputeNarrow<Count6>(a, b, k, tile); break;
        }
    }

    /// <summary>The first 8 columns of the tile's first <typeparamref name="TR"/>.N rows; K unrolled by two into two accumulator sets, 12 in flight as in the full tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ComputeNarrow<TR>(float* a, float* b, int k, float* tile) where TR : struct, ICount
    {
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector256<float> d0 = default, d1 = default, d2 = default, d3 = default, d4 = default, d5 = default;
        int p = 0;
        for (; p + 1 < k; p += 2, a += 2 * MR, b += 2 * NR)
        {
            StepNarrow<TR>(a, Vector256.Load(b), ref c0, ref c1, ref c2, ref c3, ref c4, ref c5);
            StepNarrow<TR>(a + MR, Vector256.Load(b + NR), ref d0, ref d1, ref d2, ref d3, ref d4, ref d5);
        }
        if (p < k) StepNarrow<TR>(a, Vector256.Load(b), ref c0, ref c1, ref c2, ref c3, ref c4, ref c5);
        (c0 + d0).Store(tile);
        if (TR.N > 1) (c1 + d1).Store(tile + NR);
        if (TR.N > 2) (c2 + d2).Store(tile + 2 * NR);
        if (TR.N > 3) (c3 + d3).Store(tile + 3 * NR);
        if (TR.N > 4) (c4 + d4).Store(tile + 4 * NR);
        if (TR.N > 5) (c5 + d5).Store(tile + 5 * NR);
    }

    /// <summary>One K step of <see cref="ComputeNarrow{TR}"/>: row r's accumulator += A[r] · the B row's first vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StepNarrow<TR>(float* a, Vector256<float> b, ref Vector256<float> c0, ref Vector256<float> c1, ref Vector256<float> c2,
        ref Vector256<float> c3, ref Vector256<float> c4, ref Vector256<float> c5) where TR : struct, ICount
    {
        c0 = MulAdd(Vector256.Create(a[0]), b, c0);
        if (TR.N > 1) c1 = MulAdd(Vector256.Create(a[1]), b, c1);
        if (TR.N > 2) c2 = MulAdd(Vector256.Create(a[2]), b, c2);
        if (TR.N > 3) c3 = MulAdd(Vector256.Create(a[3]), b, c3);
        if (TR.N > 4) c4 = MulAdd(Vector256.Create(a[4]), b, c4);
        if (TR.N > 5) c5 = MulAdd(Vector256.Create(a[5]), b, c5);
    }

    /// <summary>
    /// One K step of <see cref="Compute256{TR}"/> at A's row <paramref name="aRow"/> floats and B's row <paramref name="bRow"/>
    /// floats from the pointers: row r's two accumulators += A[r] · the B row's two vectors.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TR>(float* a, int aRow, float* b, long bRow, ref Vector256<float> c00, ref Vector256<float> c01, ref Vector256<float> c10, ref Vector256<float> c11,
        ref Vector256<float> c20, ref Vector256<float> c21, ref Vector256<float> c30, ref Vector256<float> c31,
        ref Vector256<float> c40, ref Vector256<float> c41, ref Vector256<float> c50, ref Vector256<float> c51) where TR : struct, ICount
    {
        var b0 = Vector256.Load(b + bRow);
        var b1 = Vector256.Load(b + bRow + 8);
        var a0 = Vector256.Create(a[aRow]);
        c00 = MulAdd(a0, b0, c00);
        c01 = MulAdd(a0, b1, c01);
        if (TR.N > 1) { var a1 = Vector256.Create(a[aRow + 1]); c10 = MulAdd(a1, b0, c10); c11 = MulAdd(a1, b1, c11); }
        if (TR.N > 2) { var a2 = Vector256.Create(a[aRow + 2]); c20 = MulAdd(a2, b0, c20); c21 = MulAdd(a2, b1, c21); }
        if (TR.N > 3) { var a3 = Vector256.Create(a[aRow + 3]); c30 = MulAdd(a3, b0, c30); c31 = MulAdd(a3, b1, c31); }
        if (TR.N > 4) { var a4 = Vector256.Create(a[aRow + 4]); c40 = MulAdd(a4, b0, c40); c41 = MulAdd(a4, b1, c41); }
        if (TR.N > 5) { var a5 = Vector256.Create(a[aRow + 5]); c50 = MulAdd(a5, b0, c50); c51 = MulAdd(a5, b1, c51); }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void SingleRowKernel(float* a, float* b, int k, float* c, int cols, int row0, int col0, in Epilogue e)
    {
        // Two accumulator pairs over alternating k hide the FMA latency that one pair would expose.
        Vector256<float> c0 = default, c1 = default, d0 = default, d1 = default;
        int p = 0;
        for (; p + 1 < k; p += 2)
        {
            var a0 = Vector256.Create(a[0]);
            c0 = MulAdd(a0, Vector256.Load(b), c0);
            c1 = MulAdd(a0, Vector256.Load(b + 8), c1);
            var a1 = Vector256.Create(a[MR]);
            d0 = MulAdd(a1, Vector256.Load(b + NR), d0);
            d1 = MulAdd(a1, Vector256.Load(b + NR + 8), d1);
            a += 2 * MR;
            b += 2 * NR;
        }
        if (p < k)
        {
            var a0 = Vector256.Create(a[0]);
            c0 = MulAdd(a0, Vector256.Load(b), c0);
            c1 = MulAdd(a0, Vector256.Load(b + 8), c1);
        }
        StoreRow(c, c0 + d0, c1 + d1, cols, row0, col0, e);
    }

    /// <summary>Finishes one row's up-to-<see cref="NR"/> sums with the epilogue and stores them to <paramref name="c"/> (also used by <see cref="Sgemv"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    internal static void StoreRow(float* c, Vector256<float> v0, Vector256<float> v1, int cols, int row, int col0, in Epilogue e)
    {
        if (e.Alpha != 1f)
        {
            v0 *= e.Alpha;
            v1 *= e.Alpha;
        }
        if (e.RowBias != null)
        {
            var rb = Vector256.Create(e.RowBias[row]);
            v0 += rb;
            v1 += rb;
        }
        if (cols == NR)
        {
            if (e.Accumulate)
            {
                v0 += Vector256.Load(c);
                v1 += Vector256.Load(c + 8);
            }
            if (e.ColumnBias != null)
            {
                v0 += Vector256.Load(e.ColumnBias + col0);
                v1 += Vector256.Load(e.ColumnBias + col0 + 8);
            }
            if (e.HasResidual)
            {
                v0 += Vector256.Load(c + e.ResidualOffset);
                v1 += Vector256.Load(c + e.ResidualOffset + 8);
            }
            e.Activate(v0).Store(c);
            e.Activate(v1).Store(c + 8);
            return;
        }
        StorePartialRow(c, v0, v1, cols, col0, e);
    }

    /// <summary>
    /// <see cref="StoreRow"/> for a partial panel at the right edge: finished through a stack tile (no heap, no over-read
    /// of C or bias). Its own method because a <c>stackalloc</c> keeps the JIT from inlining the method that holds it: in
    /// <see cref="StoreRow"/> it made every whole row of every tile a call (in a --layers run of the 1×1 128→512 on 28×28,
    /// 6.7% of all samples, about 15% of ModelGen's).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StorePartialRow(float* c, Vector256<float> v0, Vector256<float> v1, int cols, int col0, in Epilogue e)
    {
        float* tile = stackalloc float[NR];
        v0.Store(tile);
        v1.Store(tile + 8);
        for (int j = 0; j < cols; j++)
        {
            float v = tile[j];
            if (e.Accumulate) v += c[j];
            if (e.ColumnBias != null) v += e.ColumnBias[col0 + j];
            if (e.HasResidual) v += c[j + e.ResidualOffset];
            c[j] = e.Activate(v);
        }
    }
}
