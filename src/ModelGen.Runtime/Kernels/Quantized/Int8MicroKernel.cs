using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// One <see cref="MR"/>×16 int32 tile of U8[M, K]·S8[K, N]: activation rows (u8, row-major,
/// K padded to a multiple of 4) times one packed weight panel (<see cref="Int8Packing"/>).
/// Every path computes the exact sums, so all agree bit for bit.
/// </summary>
[SkipLocalsInit]
internal static unsafe class Int8MicroKernel
{
    /// <summary>Rows per tile.</summary>
    public const int MR = 4;

    /// <summary>
    /// Writes <c>tile[r*16 + j] = Σ_k a[r*lda + k] · B[k, j]</c> for r &lt; <paramref name="rows"/>
    /// (rows ≤ <see cref="MR"/>; the rest of the tile is left undefined).
    /// </summary>
    public static void Tile(Int8Isa isa, byte* a, long lda, int rows, sbyte* panel, int kp, int* tile)
    {
        switch (isa)
        {
            case Int8Isa.AvxVnni: Vnni(a, lda, rows, panel, kp, tile); break;
            case Int8Isa.Avx2: Widening(a, lda, rows, panel, kp, tile); break;
            default: Scalar(a, lda, rows, panel, kp, tile); break;
        }
    }

    private static void Scalar(byte* a, long lda, int rows, sbyte* panel, int kp, int* tile)
    {
        for (int r = 0; r < rows; r++)
        {
            byte* row = a + r * lda;
            for (int j = 0; j < Int8Packing.NR; j++)
            {
                int sum = 0;
                sbyte* column = panel + j * 4;
                for (int p = 0; p < kp; p += 4)
                {
                    sbyte* b = column + p * Int8Packing.NR;
                    sum += row[p] * b[0] + row[p + 1] * b[1] + row[p + 2] * b[2] + row[p + 3] * b[3];
                }
                tile[r * Int8Packing.NR + j] = sum;
            }
        }
    }

    /// <summary>vpdpbusd: 4 rows × 16 columns in 8 accumulators; 4 activation bytes broadcast per row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Vnni(byte* a, long lda, int rows, sbyte* panel, int kp, int* tile)
    {
        // Rows past the edge re-read row 0 (valid memory); their sums are discarded.
        byte* a0 = a, a1 = rows > 1 ? a + lda : a, a2 = rows > 2 ? a + 2 * lda : a, a3 = rows > 3 ? a + 3 * lda : a;
        Vector256<int> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector256<int> c20 = default, c21 = default, c30 = default, c31 = default;
        for (int p = 0; p < kp; p += 4)
        {
            var b0 = Vector256.Load(panel);
            var b1 = Vector256.Load(panel + 32);
            var x = Vector256.Create(*(int*)(a0 + p)).AsByte();
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, x, b0);
            c01 = AvxVnni.MultiplyWideningAndAdd(c01, x, b1);
            x = Vector256.Create(*(int*)(a1 + p)).AsByte();
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, b0);
            c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, b1);
            x = Vector256.Create(*(int*)(a2 + p)).AsByte();
            c20 = AvxVnni.MultiplyWideningAndAdd(c20, x, b0);
            c21 = AvxVnni.MultiplyWideningAndAdd(c21, x, b1);
            x = Vector256.Create(*(int*)(a3 + p)).AsByte();
            c30 = AvxVnni.MultiplyWideningAndAdd(c30, x, b0);
            c31 = AvxVnni.MultiplyWideningAndAdd(c31, x, b1);
            panel += 4 * Int8Packing.NR;
        }
        c00.Store(tile); c01.Store(tile + 8);
        c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40);
        c30.Store(tile + 48); c31.Store(tile + 56);
    }

    /// <summary>
    /// AVX2 without vpmaddubsw (whose int16 pair sums saturate): widen both operands to int16 and
    /// use vpmaddwd, whose int32 pair sums are exact. Each accumulator holds two partial sums per
    /// column (k 0–1 and k 2–3 of every group); a horizontal add folds them at the end. Rows go in
    /// pairs, so each group of the panel is widened once for two rows: one row at a time it was
    /// widened for every row (4 of the 12 vector ops per row and group).
    /// </summary>
    private static void Widening(byte* a, long lda, int rows, sbyte* panel, int kp, int* tile)
    {
        int r = 0;
        for (; r + 1 < rows; r += 2) WideningRows<Two>(a + r * lda, a + (r + 1) * lda, panel, kp, tile + r * Int8Packing.NR);
        if (r < rows) WideningRows<One>(a + r * lda, a + r * lda, panel, kp, tile + r * Int8Packing.NR);
    }

    /// <summary>One or two rows per pass, as a type so the JIT compiles each without the other's branch.</summary>
    private interface IRowCount
    {
        static abstract bool Pair { get; }
    }

    private readonly struct One : IRowCount
    {
        public static bool Pair => false;
    }

    private readonly struct Two : IRowCount
    {
        public static bool Pair => true;
    }

    /// <summary>Rows <paramref name="row0"/> (and, for <typeparamref name="TRows"/> = <see cref="Two"/>, <paramref name="row1"/>) against the panel, into tile rows 0 (and 1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WideningRows<TRows>(byte* row0, byte* row1, sbyte* b, int kp, int* tile) where TRows : struct, IRowCount
    {
        Vector256<int> s0 = default, s1 = default, s2 = default, s3 = default;
        Vector256<int> t0 = default, t1 = default, t2 = default, t3 = default;
        for (int p = 0; p < kp; p += 4)
        {
            var w0 = Avx2.ConvertToVector256Int16(Vector128.Load(b));
            var w1 = Avx2.ConvertToVector256Int16(Vector128.Load(b + 16));
            var w2 = Avx2.ConvertToVector256Int16(Vector128.Load(b + 32));
            var w3 = Avx2.ConvertToVector256Int16(Vector128.Load(b + 48));
            var x = Pairs(*(uint*)(row0 + p));
            s0 = Avx2.Add(s0, Avx2.MultiplyAddAdjacent(x, w0));
            s1 = Avx2.Add(s1, Avx2.MultiplyAddAdjacent(x, w1));
            s2 = Avx2.Add(s2, Avx2.MultiplyAddAdjacent(x, w2));
            s3 = Avx2.Add(s3, Avx2.MultiplyAddAdjacent(x, w3));
            if (TRows.Pair)
            {
                x = Pairs(*(uint*)(row1 + p));
                t0 = Avx2.Add(t0, Avx2.MultiplyAddAdjacent(x, w0));
                t1 = Avx2.Add(t1, Avx2.MultiplyAddAdjacent(x, w1));
                t2 = Avx2.Add(t2, Avx2.MultiplyAddAdjacent(x, w2));
                t3 = Avx2.Add(t3, Avx2.MultiplyAddAdjacent(x, w3));
            }
            b += 4 * Int8Packing.NR;
        }
        Fold(s0, s1, s2, s3, tile);
        if (TRows.Pair) Fold(t0, t1, t2, t3, tile + Int8Packing.NR);
    }

    /// <summary>Four activation bytes zero-extended to int16 and repeated across the vector: (a0, a1, a2, a3) × 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Pairs(uint v) =>
        Avx2.BroadcastScalarToVector256(Sse41.ConvertToVector128Int16(Vector128.CreateScalar(v).AsByte()).AsUInt64()).AsInt16();

    /// <summary>Folds a row's two partial sums per column into its 16 columns at <paramref name="row"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Fold(Vector256<int> s0, Vector256<int> s1, Vector256<int> s2, Vector256<int> s3, int* row)
    {
        // hadd gives columns [0,1,4,5 | 2,3,6,7] (per 128-bit lane); 0xD8 swaps the middle quadwords.
        Avx2.Permute4x64(Avx2.HorizontalAdd(s0, s1).AsInt64(), 0xD8).AsInt32().Store(row);
        Avx2.Permute4x64(Avx2.HorizontalAdd(s2, s3).AsInt64(), 0xD8).AsInt32().Store(row + 8);
    }
}
