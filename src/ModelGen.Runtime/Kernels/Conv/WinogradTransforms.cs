using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// The three transforms of Winograd F(2×2, 3×3) (Lavin and Gray, "Fast Algorithms for Convolutional Neural Networks",
/// 2016): a 2×2 block of outputs of a 3×3 window is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, with d the 4×4 input patch under the
/// block and g the 3×3 filter. The 16 products (point ξ = 4i + j of the 4×4 grid) are summed over the input channels
/// as 16 independent matrix products, 2.25 times fewer multiply-adds than the window sums; the transforms only add.
/// The input and output transforms run on 16 neighbouring tiles of one tile row at once, one per vector lane.
/// </summary>
internal static unsafe class WinogradTransforms
{
    /// <summary>Points of the transformed 4×4 tile, the count of independent matrix products.</summary>
    public const int Points = 16;

    /// <summary>Tiles per vector (one per lane).</summary>
    public const int Lanes = 16;

    /// <summary>
    /// U = G g Gᵀ for one 3×3 filter <paramref name="g"/> (row-major) into <paramref name="u"/>[ξ · <paramref name="stride"/>],
    /// with G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]. In double, rounded once.
    /// </summary>
    public static void Filter(float* g, float* u, long stride)
    {
        Span<double> gg = stackalloc double[12]; // G·g, 4 rows × 3
        for (int col = 0; col < 3; col++)
        {
            double a = g[col], b = g[3 + col], c = g[6 + col];
            gg[col] = a;
            gg[3 + col] = (a + b + c) / 2;
            gg[6 + col] = (a - b + c) / 2;
            gg[9 + col] = c;
        }
        for (int i = 0; i < 4; i++)
        {
            double a = gg[3 * i], b = gg[3 * i + 1], c = gg[3 * i + 2];
            u[(4 * i + 0) * stride] = (float)a;
            u[(4 * i + 1) * stride] = (float)((a + b + c) / 2);
            u[(4 * i + 2) * stride] = (float)((a - b + c) / 2);
            u[(4 * i + 3) * stride] = (float)c;
        }
    }

    /// <summary>
    /// V = Bᵀ d B for the 16 tiles whose 4×4 patches start at columns 2·l of <paramref name="row"/> (l = lane) and run
    /// down 4 rows <paramref name="rowStride"/> apart, with Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0,
    /// −1]]; point ξ goes to <paramref name="v"/> + ξ · <paramref name="pointStride"/>. Reads 34 columns of each row.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Input(float* row, int rowStride, float* v, long pointStride)
    {
        Columns(row + rowStride, out var r10, out var r11, out var r12, out var r13);
        Columns(row + 2 * rowStride, out var r20, out var r21, out var r22, out var r23);
        (r10 + r20).Store(v + 4 * pointStride);
        (r11 + r21).Store(v + 5 * pointStride);
        (r12 + r22).Store(v + 6 * pointStride);
        (r13 + r23).Store(v + 7 * pointStride);
        (r20 - r10).Store(v + 8 * pointStride);
        (r21 - r11).Store(v + 9 * pointStride);
        (r22 - r12).Store(v + 10 * pointStride);
        (r23 - r13).Store(v + 11 * pointStride);
        Columns(row, out var r00, out var r01, out var r02, out var r03);
        (r00 - r20).Store(v);
        (r01 - r21).Store(v + pointStride);
        (r02 - r22).Store(v + 2 * pointStride);
        (r03 - r23).Store(v + 3 * pointStride);
        Columns(row + 3 * rowStride, out var r30, out var r31, out var r32, out var r33);
        (r10 - r30).Store(v + 12 * pointStride);
        (r11 - r31).Store(v + 13 * pointStride);
        (r12 - r32).Store(v + 14 * pointStride);
        (r13 - r33).Store(v + 15 * pointStride);
    }

    /// <summary>
    /// One row of 16 patches times B: lane l reads columns 2l … 2l + 3 (d0 … d3) and gives d0 − d2, d1 + d2, d2 − d1,
    /// d1 − d3. Columns 2l and 2l + 1 come from splitting 32 columns into evens and odds, 2l + 2 and 2l + 3 from the
    /// same split two columns on.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(float* row, out Vector512<float> c0, out Vector512<float> c1, out Vector512<float> c2, out Vector512<float> c3)
    {
        // Constants, not RowPairs.EvenLanes: a call here would spill every vector of the caller.
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = Vector512.Create(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
        Vector512<float> a = Vector512.Load(row), b = Vector512.Load(row + 16);
        Vector512<float> a2 = Vector512.Load(row + 2), b2 = Vector512.Load(row + 18);
        var d0 = Avx512F.PermuteVar16x32x2(a, even, b);
        var d1 = Avx512F.PermuteVar16x32x2(a, odd, b);
        var d2 = Avx512F.PermuteVar16x32x2(a2, even, b2);
        var d3 = Avx512F.PermuteVar16x32x2(a2, odd, b2);
        c0 = d0 - d2;
        c1 = d1 + d2;
        c2 = d2 - d1;
        c3 = d1 - d3;
    }

    /// <summary>
    /// The 2×2 outputs Aᵀ M A of 16 tiles (one per lane) from their 16 points at <paramref name="m"/> + ξ ·
    /// <paramref name="pointStride"/>, with Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]: y00, y01 (top row, left and right) and
    /// y10, y11 (bottom row).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output(float* m, long pointStride,
        out Vector512<float> y00, out Vector512<float> y01, out Vector512<float> y10, out Vector512<float> y11)
    {
        // Rows first: s0j = m0j + m1j + m2j, s1j = m1j − m2j − m3j (point ξ = 4i + j holds mij).
        OutputColumn(m, pointStride, out var s00, out var s10);
        OutputColumn(m + pointStride, pointStride, out var s01, out var s11);
        OutputColumn(m + 2 * pointStride, pointStride, out var s02, out var s12);
        OutputColumn(m + 3 * pointStride, pointStride, out var s03, out var s13);
        y00 = s00 + s01 + s02;
        y01 = s01 - s02 - s03;
        y10 = s10 + s11 + s12;
        y11 = s11 - s12 - s13;
    }

    /// <summary>Column j of Aᵀ M: from points j, 4 + j, 8 + j, 12 + j (at <paramref name="m"/>, every 4 points), s0j and s1j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputColumn(float* m, long pointStride, out Vector512<float> s0, out Vector512<float> s1)
    {
        var m0 = Vector512.Load(m);
        var m1 = Vector512.Load(m + 4 * pointStride);
        var m2 = Vector512.Load(m + 8 * pointStride);
        var m3 = Vector512.Load(m + 12 * pointStride);
        s0 = m0 + m1 + m2;
        s1 = m1 - m2 - m3;
    }

    /// <summary>Lane l of the left outputs and lane l of the right ones side by side: output columns 2l and 2l + 1, as two vectors (lanes 0–7, then 8–15).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(Vector512<float> left, Vector512<float> right, out Vector512<float> lo, out Vector512<float> hi)
    {
        lo = Avx512F.PermuteVar16x32x2(left, Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23), right);
        hi = Avx512F.PermuteVar16x32x2(left, Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31), right);
    }
}
