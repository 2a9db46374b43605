using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// The transforms of Winograd F(4×4, 3×3) (Lavin and Gray, 2016, interpolation points 0, ±1, ±2 and ∞) for AVX2: a 4×4
/// block of outputs of a 3×3 window is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A, with d the 6×6 input patch under the block. Its 36
/// products (point ξ = 6i + j of the 6×6 grid) take 2.25 multiply-adds per output and input channel, against 4 for
/// F(2×2, 3×3) (<see cref="WinogradTransforms"/>) and 9 for the window sums. The input and output transforms run on 8
/// neighbouring tiles of one tile row at once, one per lane of a 256-bit vector, in tile order.
/// </summary>
/// <remarks>
/// fp32 error: Bᵀ's coefficients reach 5 and Aᵀ's 8, and G's are sixths and twenty-fourths, so the rounding errors grow
/// more than in F(2×2, 3×3), whose coefficients are 0, ±1 and ±½. The filter transform runs in double and rounds once.
/// An output's error scales with the spread of the outputs, not with its own size: the conv tests allow 1e-4 of that
/// spread (<c>WinogradConvTests.AbsF4</c>); in ResNet-50 the largest normalised difference from ONNX Runtime stays 1.3e-6.
/// <para>
/// The input and output transforms keep their intermediate rows in stack blocks of vectors, so the class skips the
/// zeroing of locals: with it the JIT cleared each block (1,152 bytes for the input transform) on every call, in the
/// kernel's innermost loops.
/// </para>
/// </remarks>
[SkipLocalsInit]
internal static unsafe class WinogradF4Transforms256
{
    /// <summary>Outputs per side of a tile.</summary>
    public const int Tile = 4;

    /// <summary>Points of the transformed 6×6 tile, the count of independent matrix products.</summary>
    public const int Points = 36;

    /// <summary>Tiles per vector (one per lane).</summary>
    public const int Lanes = 8;

    /// <summary>
    /// U = G g Gᵀ for one 3×3 filter <paramref name="g"/> (row-major) into <paramref name="u"/>[ξ · <paramref name="stride"/>],
    /// with G = [[¼, 0, 0], [−⅙, −⅙, −⅙], [−⅙, ⅙, −⅙], [1/24, 1/12, ⅙], [1/24, −1/12, ⅙], [0, 0, 1]]. In double, rounded once.
    /// </summary>
    public static void Filter(float* g, float* u, long stride)
    {
        Span<double> gg = stackalloc double[18]; // G·g, 6 rows × 3
        Span<double> column = stackalloc double[6];
        for (int col = 0; col < 3; col++)
        {
            FilterSide(g[col], g[3 + col], g[6 + col], column);
            for (int i = 0; i < 6; i++) gg[3 * i + col] = column[i];
        }
        for (int i = 0; i < 6; i++)
        {
            FilterSide(gg[3 * i], gg[3 * i + 1], gg[3 * i + 2], column);
            for (int j = 0; j < 6; j++) u[(6 * i + j) * stride] = (float)column[j];
        }
    }

    /// <summary>G times the three values (a, b, c) of one filter row or column.</summary>
    private static void FilterSide(double a, double b, double c, Span<double> o)
    {
        o[0] = a / 4;
        o[1] = -(a + b + c) / 6;
        o[2] = -(a - b + c) / 6;
        o[3] = a / 24 + b / 12 + c / 6;
        o[4] = a / 24 - b / 12 + c / 6;
        o[5] = c;
    }

    /// <summary>
    /// V = Bᵀ d B for the 8 tiles whose 6×6 patches start at columns 4·l of <paramref name="row"/> (l = lane) and run down
    /// 6 rows <paramref name="rowStride"/> apart, with Bᵀ = [[4, 0, −5, 0, 1, 0], [0, −4, −4, 1, 1, 0], [0, 4, −4, −1, 1, 0],
    /// [0, −2, −1, 2, 1, 0], [0, 2, −1, −2, 1, 0], [0, 4, 0, −5, 0, 1]]; point ξ goes to <paramref name="v"/> + ξ ·
    /// <paramref name="pointStride"/>. Reads 36 columns of each row.
    /// </summary>
    /// <remarks>
    /// Rows first: each patch row is split into its six columns and multiplied by B, into a stack block of 36 vectors; then
    /// each column of that block is multiplied by Bᵀ and stored. Held in registers, the 36 intermediate vectors would spill anyway.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input(float* row, int rowStride, float* v, long pointStride)
    {
        Unsafe.SkipInit(out Block36 block);
        ref Vector256<float> t = ref Unsafe.As<Block36, Vector256<float>>(ref block);
        InputRow(row, ref t);
        InputRow(row + rowStride, ref Unsafe.Add(ref t, 6));
        InputRow(row + 2 * rowStride, ref Unsafe.Add(ref t, 12));
        InputRow(row + 3 * rowStride, ref Unsafe.Add(ref t, 18));
        InputRow(row + 4 * rowStride, ref Unsafe.Add(ref t, 24));
        InputRow(row + 5 * rowStride, ref Unsafe.Add(ref t, 30));
        // Unrolled by hand: in a loop over the columns the JIT recomputed each block address from the index.
        long rowPoints = 6 * pointStride;
        InputColumn(ref t, v, rowPoints);
        InputColumn(ref Unsafe.Add(ref t, 1), v + pointStride, rowPoints);
        InputColumn(ref Unsafe.Add(ref t, 2), v + 2 * pointStride, rowPoints);
        InputColumn(ref Unsafe.Add(ref t, 3), v + 3 * pointStride, rowPoints);
        InputColumn(ref Unsafe.Add(ref t, 4), v + 4 * pointStride, rowPoints);
        InputColumn(ref Unsafe.Add(ref t, 5), v + 5 * pointStride, rowPoints);
    }

    /// <summary>Column j of the row-transformed block (<paramref name="c"/> = element j; rows 6 apart) times Bᵀ, stored as points j, 6 + j, … 30 + j.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputColumn(ref Vector256<float> c, float* vj, long rowPoints)
    {
        InputSide(c, Unsafe.Add(ref c, 6), Unsafe.Add(ref c, 12), Unsafe.Add(ref c, 18), Unsafe.Add(ref c, 24), Unsafe.Add(ref c, 30),
            out var v0, out var v1, out var v2, out var v3, out var v4, out var v5);
        v0.Store(vj);
        v1.Store(vj + rowPoints);
        v2.Store(vj + 2 * rowPoints);
        v3.Store(vj + 3 * rowPoints);
        v4.Store(vj + 4 * rowPoints);
        v5.Store(vj + 5 * rowPoints);
    }

    /// <summary>
    /// One patch row of 8 tiles times B into <paramref name="o"/>[0 … 5]. Lane l needs columns 4l … 4l + 5. Each 128-bit
    /// half of a loaded vector holds 4 columns of one tile (tiles 0–3 low, 4–7 high, a quarter-row apart), so a 4×4
    /// transpose within the halves gives columns 4l … 4l + 3 in tile order, and a half transpose one tile on gives 4l + 4
    /// and 4l + 5.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputRow(float* p, ref Vector256<float> o)
    {
        var a0 = Vector256.Create(Vector128.Load(p), Vector128.Load(p + 16));
        var a1 = Vector256.Create(Vector128.Load(p + 4), Vector128.Load(p + 20));
        var a2 = Vector256.Create(Vector128.Load(p + 8), Vector128.Load(p + 24));
        var a3 = Vector256.Create(Vector128.Load(p + 12), Vector128.Load(p + 28));
        var a4 = Vector256.Create(Vector128.Load(p + 16), Vector128.Load(p + 32));
        TransposeHalves(a0, a1, a2, a3, out var d0, out var d1, out var d2, out var d3);
        var lo12 = Avx.UnpackLow(a1, a2).AsDouble();
        var lo34 = Avx.UnpackLow(a3, a4).AsDouble();
        InputSide(d0, d1, d2, d3, Avx.UnpackLow(lo12, lo34).AsSingle(), Avx.UnpackHigh(lo12, lo34).AsSingle(),
            out o, out Unsafe.Add(ref o, 1), out Unsafe.Add(ref o, 2), out Unsafe.Add(ref o, 3), out Unsafe.Add(ref o, 4), out Unsafe.Add(ref o, 5));
    }

    /// <summary>Bᵀ times six values d0 … d5 (a patch row or column), with the shared terms of rows 1–2 and 3–4 formed once.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void InputSide(Vector256<float> d0, Vector256<float> d1, Vector256<float> d2, Vector256<float> d3, Vector256<float> d4, Vector256<float> d5,
        out Vector256<float> v0, out Vector256<float> v1, out Vector256<float> v2, out Vector256<float> v3, out Vector256<float> v4, out Vector256<float> v5)
    {
        var four = Vector256.Create(4f);
        var minusFour = Vector256.Create(-4f);
        var minusFive = Vector256.Create(-5f);
        var two = Vector256.Create(2f);
        v0 = Fma.MultiplyAdd(four, d0, Fma.MultiplyAdd(minusFive, d2, d4));   // 4d0 − 5d2 + d4
        var s = Fma.MultiplyAdd(minusFour, d2, d4);                          // d4 − 4d2
        var t = Fma.MultiplyAdd(minusFour, d1, d3);                          // d3 − 4d1
        v1 = s + t;
        v2 = s - t;
        var p = d4 - d2;
        var q = d3 - d1;
        v3 = Fma.MultiplyAdd(two, q, p);                                     // −2d1 − d2 + 2d3 + d4
        v4 = Fma.MultiplyAddNegated(two, q, p);                              // 2d1 − d2 − 2d3 + d4
        v5 = Fma.MultiplyAdd(four, d1, Fma.MultiplyAdd(minusFive, d3, d5));  // 4d1 − 5d3 + d5
    }

    /// <summary>
    /// The first half of the output transform Aᵀ M A of 8 tiles (one per lane), with Aᵀ = [[1, 1, 1, 1, 1, 0], [0, 1, −1,
    /// 2, −2, 0], [0, 1, 1, 4, 4, 0], [0, 1, −1, 8, −8, 1]]: each column j of the 36 points at <paramref name="m"/> + ξ ·
    /// <paramref name="pointStride"/> (ξ = 6i + j) times Aᵀ, into rows r = 0 … 3 of <paramref name="s"/> (element 6r + j).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputColumns(float* m, long pointStride, ref Vector256<float> s)
    {
        // Unrolled by hand, as the input transform's columns.
        long rowPoints = 6 * pointStride;
        OutputColumn(m, rowPoints, ref s);
        OutputColumn(m + pointStride, rowPoints, ref Unsafe.Add(ref s, 1));
        OutputColumn(m + 2 * pointStride, rowPoints, ref Unsafe.Add(ref s, 2));
        OutputColumn(m + 3 * pointStride, rowPoints, ref Unsafe.Add(ref s, 3));
        OutputColumn(m + 4 * pointStride, rowPoints, ref Unsafe.Add(ref s, 4));
        OutputColumn(m + 5 * pointStride, rowPoints, ref Unsafe.Add(ref s, 5));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputColumn(float* mj, long rowPoints, ref Vector256<float> sj)
    {
        OutputSide(Vector256.Load(mj), Vector256.Load(mj + rowPoints), Vector256.Load(mj + 2 * rowPoints),
            Vector256.Load(mj + 3 * rowPoints), Vector256.Load(mj + 4 * rowPoints), Vector256.Load(mj + 5 * rowPoints),
            out sj, out Unsafe.Add(ref sj, 6), out Unsafe.Add(ref sj, 12), out Unsafe.Add(ref sj, 18));
    }

    /// <summary>
    /// The second half of the output transform: row <paramref name="sr"/>[0 … 5] of <see cref="OutputColumns"/>' block times
    /// A, one output row of the 8 tiles in column order (columns 0–7, 8–15, 16–23 and 24–31 of their 32).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void OutputRow(ref Vector256<float> sr,
        out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3)
    {
        OutputSide(sr, Unsafe.Add(ref sr, 1), Unsafe.Add(ref sr, 2), Unsafe.Add(ref sr, 3), Unsafe.Add(ref sr, 4), Unsafe.Add(ref sr, 5),
            out var y0, out var y1, out var y2, out var y3);
        Interleave(y0, y1, y2, y3, out c0, out c1, out c2, out c3);
    }

    /// <summary>Aᵀ times six points m0 … m5 (a column or row of the 6×6 grid): four outputs.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputSide(Vector256<float> m0, Vector256<float> m1, Vector256<float> m2, Vector256<float> m3, Vector256<float> m4, Vector256<float> m5,
        out Vector256<float> y0, out Vector256<float> y1, out Vector256<float> y2, out Vector256<float> y3)
    {
        var a = m1 + m2;
        var b = m1 - m2;
        var c = m3 + m4;
        var d = m3 - m4;
        y0 = m0 + a + c;
        y1 = Fma.MultiplyAdd(Vector256.Create(2f), d, b);
        y2 = Fma.MultiplyAdd(Vector256.Create(4f), c, a);
        y3 = Fma.MultiplyAdd(Vector256.Create(8f), d, b) + m5;
    }

    /// <summary>
    /// Output columns 0 … 3 of each of 8 tiles (one vector per column, a lane per tile) into column order: tiles 0–1, 2–3,
    /// 4–5, 6–7, each vector 8 consecutive output columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Interleave(Vector256<float> y0, Vector256<float> y1, Vector256<float> y2, Vector256<float> y3,
        out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3)
    {
        // Tile pairs (0 | 4), (1 | 5), (2 | 6), (3 | 7), each half one tile's 4 columns.
        TransposeHalves(y0, y1, y2, y3, out var t04, out var t15, out var t26, out var t37);
        c0 = Avx.Permute2x128(t04, t15, 0x20);
        c1 = Avx.Permute2x128(t26, t37, 0x20);
        c2 = Avx.Permute2x128(t04, t15, 0x31);
        c3 = Avx.Permute2x128(t26, t37, 0x31);
    }

    /// <summary>
    /// A 4×4 transpose within each 128-bit half: element i of half h of output r is element r of half h of input i. It
    /// turns 4 vectors of 4 columns per tile (a tile per half) into 4 vectors of one column per tile, and back.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TransposeHalves(Vector256<float> x0, Vector256<float> x1, Vector256<float> x2, Vector256<float> x3,
        out Vector256<float> r0, out Vector256<float> r1, out Vector256<float> r2, out Vector256<float> r3)
    {
        var lo01 = Avx.UnpackLow(x0, x1).AsDouble();
        var lo23 = Avx.UnpackLow(x2, x3).AsDouble();
        var hi01 = Avx.UnpackHigh(x0, x1).AsDouble();
        var hi23 = Avx.UnpackHigh(x2, x3).AsDouble();
        r0 = Avx.UnpackLow(lo01, lo23).AsSingle();
        r1 = Avx.UnpackHigh(lo01, lo23).AsSingle();
        r2 = Avx.UnpackLow(hi01, hi23).AsSingle();
        r3 = Avx.UnpackHigh(hi01, hi23).AsSingle();
    }

    /// <summary>The row transform's 36 vectors.</summary>
    [InlineArray(36)]
    private struct Block36
    {
        private Vector256<float> _element;
    }

    /// <summary>The output transform's 24 vectors after its columns (4 rows × 6 columns), which the caller keeps.</summary>
    [InlineArray(24)]
    internal struct Block24
    {
        private Vector256<float> _element;
    }
}
