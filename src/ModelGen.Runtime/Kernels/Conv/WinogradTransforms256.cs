using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// <see cref="WinogradTransforms"/>' input and output transforms for AVX2: 8 neighbouring tiles of one tile row at once,
/// one per lane of a 256-bit vector. The arithmetic is the same; only the column splits and the interleave differ, as
/// AVX2 has no two-source permute and its shuffles stay within 128-bit halves.
/// </summary>
internal static unsafe class WinogradTransforms256
{
    /// <summary>Tiles per vector (one per lane).</summary>
    public const int Lanes = 8;

    /// <summary>
    /// V = Bᵀ d B for the 8 tiles whose 4×4 patches start at columns 2·l of <paramref name="row"/> (l = lane) and run
    /// down 4 rows <paramref name="rowStride"/> apart; point ξ goes to <paramref name="v"/> + ξ · <paramref name="pointStride"/>.
    /// Reads 18 columns of each row.
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
    /// One row of 8 patches times B: lane l reads columns 2l … 2l + 3 (d0 … d3) and gives d0 − d2, d1 + d2, d2 − d1,
    /// d1 − d3. The evens and odds of 16 columns come from <c>vshufps</c> (which interleaves the two sources' halves)
    /// and a <c>vpermpd</c> that puts the four 64-bit pairs back in column order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Columns(float* row, out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3)
    {
        Evens(row, out var d0, out var d1);
        Evens(row + 2, out var d2, out var d3);
        c0 = d0 - d2;
        c1 = d1 + d2;
        c2 = d2 - d1;
        c3 = d1 - d3;
    }

    /// <summary>Columns 0, 2, …, 14 and 1, 3, …, 15 of <paramref name="row"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Evens(float* row, out Vector256<float> even, out Vector256<float> odd)
    {
        Vector256<float> a = Vector256.Load(row), b = Vector256.Load(row + 8);
        // [a0 a2 b0 b2 | a4 a6 b4 b6] → pairs (a0 a2)(a4 a6)(b0 b2)(b4 b6): qwords 0, 2, 1, 3.
        even = Avx2.Permute4x64(Avx.Shuffle(a, b, 0x88).AsDouble(), 0xD8).AsSingle();
        odd = Avx2.Permute4x64(Avx.Shuffle(a, b, 0xDD).AsDouble(), 0xD8).AsSingle();
    }

    /// <summary>
    /// The 2×2 outputs Aᵀ M A of 8 tiles (one per lane) from their 16 points at <paramref name="m"/> + ξ ·
    /// <paramref name="pointStride"/>: y00, y01 (top row, left and right) and y10, y11 (bottom row).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output(float* m, long pointStride,
        out Vector256<float> y00, out Vector256<float> y01, out Vector256<float> y10, out Vector256<float> y11)
    {
        OutputColumn(m, pointStride, out var s00, out var s10);
        OutputColumn(m + pointStride, pointStride, out var s01, out var s11);
        OutputColumn(m + 2 * pointStride, pointStride, out var s02, out var s12);
        OutputColumn(m + 3 * pointStride, pointStride, out var s03, out var s13);
        y00 = s00 + s01 + s02;
        y01 = s01 - s02 - s03;
        y10 = s10 + s11 + s12;
        y11 = s11 - s12 - s13;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputColumn(float* m, long pointStride, out Vector256<float> s0, out Vector256<float> s1)
    {
        var m0 = Vector256.Load(m);
        var m1 = Vector256.Load(m + 4 * pointStride);
        var m2 = Vector256.Load(m + 8 * pointStride);
        var m3 = Vector256.Load(m + 12 * pointStride);
        s0 = m0 + m1 + m2;
        s1 = m1 - m2 - m3;
    }

    /// <summary>Output columns 2l and 2l + 1 side by side: lanes 0–3 of the pairs, then lanes 4–7.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Interleave(Vector256<float> left, Vector256<float> right, out Vector256<float> lo, out Vector256<float> hi)
    {
        // Within each 128-bit half: [L0 R0 L1 R1 | L4 R4 L5 R5] and [L2 R2 L3 R3 | L6 R6 L7 R7]; then the halves in order.
        var low = Avx.UnpackLow(left, right);
        var high = Avx.UnpackHigh(left, right);
        lo = Avx.Permute2x128(low, high, 0x20);
        hi = Avx.Permute2x128(low, high, 0x31);
    }
}
