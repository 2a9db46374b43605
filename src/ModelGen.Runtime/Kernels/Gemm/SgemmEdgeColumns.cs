using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ModelGen.Runtime.Kernels.Conv;

namespace ModelGen.Runtime.Kernels.Gemm;

internal static unsafe partial class Sgemm
{
    /// <summary>Most columns of a panel (or of what a narrow tile leaves of it) that <see cref="ComputeEdgeColumns"/> takes.</summary>
    private const int EdgeColumns = 2;

    /// <summary>
    /// The raw sums of a tile's first <paramref name="cols"/> (at most <see cref="EdgeColumns"/>) columns for all
    /// <see cref="MR"/> rows, into those columns of <paramref name="tile"/>'s rows. For the right edge of C where a panel
    /// holds one or two real columns: a 7×7 map is 49 columns, three panels and one; with the narrow tile beside it, the
    /// ninth and tenth columns of 13×13 (169) and of a 10-wide layer.
    /// </summary>
    /// <remarks>
    /// Why: the narrow tile (<see cref="ComputeNarrow"/>) pays six FMAs a K step for its 8 columns, so one real column
    /// cost half a panel, and the 7×7 1×1 convs of ResNet-50 spent 14% of their time on that edge (3.5 panel-times for
    /// 3.06 panels of columns). Here the vector runs along A's six packed rows instead: a K step is one 8-float load of
    /// the rows (two lanes of the next step ride along unused) and one FMA per column against the broadcast B element.
    /// Measured on the 2-core AVX2 EPYC, one core (--layers, two alternating pairs, ONNX Runtime's time over ModelGen's,
    /// fastest chunks): ResNet-50's 1×1 2048→512 on 7×7 0.79 / 0.81 → 0.86 / 1.02 (ModelGen 1518 / 1476 → 1408 / 1297 µs),
    /// 512→2048 on 7×7 0.86 / 0.85 → 0.89 / 0.90, SqueezeNet's 1×1 512→1000 on 13×13 0.88 / 0.89 → 0.99 / 0.95 (2174 /
    /// 2138 → 2082 / 2053 µs).
    /// </remarks>
    private static void ComputeEdgeColumns(float* a, float* b, int k, float* tile, int cols)
    {
        if (cols == 1) ComputeEdgeColumns<Count1>(a, b, k, tile);
        else ComputeEdgeColumns<Count2>(a, b, k, tile);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void ComputeEdgeColumns<TC>(float* a, float* b, int k, float* tile) where TC : struct, ICount
    {
        // Four K phases per column, so the FMAs of consecutive steps do not wait on each other's latency.
        Vector256<float> c0 = default, c1 = default, c2 = default, c3 = default;
        Vector256<float> d0 = default, d1 = default, d2 = default, d3 = default;
        int p = 0;
        // Strictly below k - 4: the last step is left for the masked load, so no load reads past the packed block.
        for (; p + 4 < k; p += 4, a += 4 * MR, b += 4 * NR)
        {
            var a0 = Vector256.Load(a);
            var a1 = Vector256.Load(a + MR);
            var a2 = Vector256.Load(a + 2 * MR);
            var a3 = Vector256.Load(a + 3 * MR);
            c0 = MulAdd(a0, Vector256.Create(b[0]), c0);
            c1 = MulAdd(a1, Vector256.Create(b[NR]), c1);
            c2 = MulAdd(a2, Vector256.Create(b[2 * NR]), c2);
            c3 = MulAdd(a3, Vector256.Create(b[3 * NR]), c3);
            if (TC.N > 1)
            {
                d0 = MulAdd(a0, Vector256.Create(b[1]), d0);
                d1 = MulAdd(a1, Vector256.Create(b[NR + 1]), d1);
                d2 = MulAdd(a2, Vector256.Create(b[2 * NR + 1]), d2);
                d3 = MulAdd(a3, Vector256.Create(b[3 * NR + 1]), d3);
            }
        }
        for (; p < k - 1; p++, a += MR, b += NR)
        {
            var ar = Vector256.Load(a);
            c0 = MulAdd(ar, Vector256.Create(b[0]), c0);
            if (TC.N > 1) d0 = MulAdd(ar, Vector256.Create(b[1]), d0);
        }
        if (p < k)
        {
            var last = Avx.MaskLoad(a, Vector256.Create(-1, -1, -1, -1, -1, -1, 0, 0).AsSingle());
            c0 = MulAdd(last, Vector256.Create(b[0]), c0);
            if (TC.N > 1) d0 = MulAdd(last, Vector256.Create(b[1]), d0);
        }
        StoreColumn((c0 + c1) + (c2 + c3), tile);
        if (TC.N > 1) StoreColumn((d0 + d1) + (d2 + d3), tile + 1);
    }

    /// <summary>Lanes 0–5 (rows) of <paramref name="sums"/> down one column of the tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreColumn(Vector256<float> sums, float* column)
    {
        for (int r = 0; r < MR; r++) column[r * NR] = sums.GetElement(r);
    }
}
