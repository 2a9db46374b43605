using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Gemm;

internal static unsafe partial class Sgemm
{
    /// <summary>
    /// Columns [<paramref name="col0"/>, +16·<paramref name="panels"/>) of C = A·B on AVX2 with B read in place (row-major,
    /// row stride <paramref name="ldb"/>; whole 16-column panels only, so no load passes a row's end), by the same 6 × 16
    /// register tile as the packed panels and cache-blocked over K and rows like <see cref="BlockedPanels"/> when
    /// <see cref="UsesBlocking"/> says so, in the packed AVX2 path's equal slices of at most 512 K steps. For a 1×1 conv,
    /// whose B is its input: packing it copies K·N floats per call.
    /// </summary>
    /// <remarks>
    /// Only for rows of B that start on a cache line (a row stride of whole 16-float panels, from an aligned start): a
    /// 14×14 or 7×7 map's rows, 784 and 196 bytes apart, would split half of the loads across two lines. Measured on one
    /// core of the 2-core AVX2 EPYC (ResNet-50's profile, fastest call per step, two alternating runs each), every 1×1 conv
    /// taken this way against packing B: 56×56 and 28×28 maps 23549 / 23549 → 22697 / 22716 µs (128←512 on 28×28, three
    /// convs, 3622 / 3580 → 3250 / 3250; 128←256 on 56×56 2440 / 2440 → 2254 / 2240), the whole network's steps 85.8 /
    /// 85.9 → 84.6 / 84.5 ms; with slices of 256 steps 23186 / 22970. On 14×14 and 7×7 maps (not taken) it lost: the
    /// three 2048←512 on 7×7 3848 → 4918 µs, the six 1024←256 on 14×14 6985 → 7162 µs.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void UnpackedPanels256(float* packedA, float* b, long ldb, float* c, long ldc, int m, int k, in Epilogue epilogue, int col0, int panels)
    {
        int rowBlocks = RowBlocks(m);
        if (!UsesBlocking(m, k, epilogue))
        {
            for (int panel = 0; panel < panels; panel++)
            for (int rb = 0; rb < rowBlocks; rb++)
            {
                UnpackedTile(packedA, b, ldb, c, ldc, m, k, 0, k, rb * MR, col0 + panel * NR, epilogue, SliceMode.Whole);
            }
            return;
        }
        var e = epilogue.ForSlices();
        int slice = EqualSlice(k, Avx2SliceTaps);
        for (int pc = 0; pc < k; pc += slice)
        {
            int kc = Math.Min(slice, k - pc);
            var mode = SliceOf(pc, kc, k, epilogue);
            for (int rb0 = 0; rb0 < rowBlocks; rb0 += MCBlocks)
            {
                int rb1 = Math.Min(rowBlocks, rb0 + MCBlocks);
                for (int panel = 0; panel < panels; panel++)
                for (int rb = rb0; rb < rb1; rb++)
                {
                    UnpackedTile(packedA, b, ldb, c, ldc, m, k, pc, kc, rb * MR, col0 + panel * NR, e, mode);
                }
            }
        }
    }

    /// <summary>Rows [<paramref name="ib"/>, +6) × columns [<paramref name="jb"/>, +16) of C from K steps [<paramref name="pc"/>, +<paramref name="kc"/>), B in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void UnpackedTile(float* packedA, float* b, long ldb, float* c, long ldc, int m, int k, int pc, int kc, int ib, int jb, in Epilogue e, SliceMode mode)
    {
        int rows = Math.Min(MR, m - ib);
        float* cc = c + ib * ldc + jb;
        PrefetchTileOfC(cc, ldc, rows, NR);
        Compute256(packedA + (long)ib * k + (long)pc * MR, b + pc * ldb + jb, ldb, kc, cc, ldc, rows, mode, ib, jb, e);
    }
}
