using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// One vector width of <see cref="WinogradConvKernel"/>'s transforms: how many tiles a vector holds, the input transform of
/// one vector of tiles, and the output transform of one vector of tiles with its stores. The kernel's loops are generic
/// over this, so the JIT compiles each width's loop with its transforms inlined.
/// </summary>
internal unsafe interface IWinogradWidth
{
    /// <summary>Tiles per vector.</summary>
    static abstract int Lanes { get; }

    /// <summary>Outputs per side of a tile: 2 for F(2×2, 3×3), 4 for F(4×4, 3×3).</summary>
    static abstract int Tile { get; }

    /// <summary>V = Bᵀ d B of one vector of tiles: see <see cref="WinogradTransforms.Input"/>.</summary>
    static abstract void Input(float* row, int rowStride, float* v, long pointStride);

    /// <summary>
    /// The outputs of one vector of tiles from their points at <paramref name="m"/> (ξ · <paramref name="pointStride"/>
    /// apart), plus <paramref name="bias"/>, into <paramref name="cols"/> (1 to Tile·Lanes) columns of <paramref name="rows"/>
    /// (1 to Tile) output rows, the first at <paramref name="top"/> and each <paramref name="wOut"/> floats below the last; adding the
    /// residual (when <paramref name="residual"/>: <paramref name="residualOffset"/> floats from each output, 0 when in place)
    /// and applying Relu (when <paramref name="relu"/>) on the way.
    /// </summary>
    static abstract void Output(float* m, long pointStride, float bias, float* top, int wOut, int cols, int rows,
        bool residual, long residualOffset, bool relu);
}

/// <summary>AVX-512: 16 tiles per vector.</summary>
internal unsafe struct Winograd512 : IWinogradWidth
{
    public static int Lanes => WinogradTransforms.Lanes;

    public static int Tile => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input(float* row, int rowStride, float* v, long pointStride) => WinogradTransforms.Input(row, rowStride, v, pointStride);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output(float* m, long pointStride, float bias, float* top, int wOut, int cols, int rows,
        bool residual, long residualOffset, bool relu)
    {
        var b = Vector512.Create(bias);
        WinogradTransforms.Output(m, pointStride, out var y00, out var y01, out var y10, out var y11);
        WinogradTransforms.Interleave(y00 + b, y01 + b, out var lo, out var hi);
        StoreRow(top, cols, lo, hi, residual, residualOffset, relu);
        if (rows < 2) return;
        WinogradTransforms.Interleave(y10 + b, y11 + b, out lo, out hi);
        StoreRow(top + wOut, cols, lo, hi, residual, residualOffset, relu);
    }

    /// <summary>Stores <paramref name="cols"/> (1–32) outputs from two vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* y, int cols, Vector512<float> lo, Vector512<float> hi, bool residual, long residualOffset, bool relu)
    {
        const int lanes = WinogradTransforms.Lanes;
        if (cols >= 2 * lanes)
        {
            if (residual)
            {
                lo += Vector512.Load(y + residualOffset);
                hi += Vector512.Load(y + lanes + residualOffset);
            }
            if (relu)
            {
                lo = Vector512.Max(lo, Vector512<float>.Zero);
                hi = Vector512.Max(hi, Vector512<float>.Zero);
            }
            lo.Store(y);
            hi.Store(y + lanes);
            return;
        }
        Store(y, Math.Min(cols, lanes), lo, residual, residualOffset, relu);
        if (cols > lanes) Store(y + lanes, cols - lanes, hi, residual, residualOffset, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, int lanes, Vector512<float> v, bool residual, long residualOffset, bool relu)
    {
        var mask = Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(lanes)).AsSingle();
        if (residual) v += Avx512F.MaskLoad(y + residualOffset, mask, Vector512<float>.Zero);
        if (relu) v = Vector512.Max(v, Vector512<float>.Zero);
        Avx512F.MaskStore(y, mask, v);
    }
}

/// <summary>AVX2: 8 tiles per vector.</summary>
internal unsafe struct Winograd256 : IWinogradWidth
{
    public static int Lanes => WinogradTransforms256.Lanes;

    public static int Tile => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input(float* row, int rowStride, float* v, long pointStride) => WinogradTransforms256.Input(row, rowStride, v, pointStride);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output(float* m, long pointStride, float bias, float* top, int wOut, int cols, int rows,
        bool residual, long residualOffset, bool relu)
    {
        var b = Vector256.Create(bias);
        WinogradTransforms256.Output(m, pointStride, out var y00, out var y01, out var y10, out var y11);
        WinogradTransforms256.Interleave(y00 + b, y01 + b, out var lo, out var hi);
        StoreRow(top, cols, lo, hi, residual, residualOffset, relu);
        if (rows < 2) return;
        WinogradTransforms256.Interleave(y10 + b, y11 + b, out lo, out hi);
        StoreRow(top + wOut, cols, lo, hi, residual, residualOffset, relu);
    }

    /// <summary>Stores <paramref name="cols"/> (1–16) outputs from two vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* y, int cols, Vector256<float> lo, Vector256<float> hi, bool residual, long residualOffset, bool relu)
    {
        const int lanes = WinogradTransforms256.Lanes;
        if (cols >= 2 * lanes)
        {
            if (residual)
            {
                lo += Vector256.Load(y + residualOffset);
                hi += Vector256.Load(y + lanes + residualOffset);
            }
            if (relu)
            {
                lo = Ieee256.Relu(lo);
                hi = Ieee256.Relu(hi);
            }
            lo.Store(y);
            hi.Store(y + lanes);
            return;
        }
        Store(y, Math.Min(cols, lanes), lo, residual, residualOffset, relu);
        if (cols > lanes) Store(y + lanes, cols - lanes, hi, residual, residualOffset, relu);
    }

    /// <summary>Stores the first <paramref name="lanes"/> (1–8) lanes of <paramref name="v"/>, with the residual and Relu.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Store(float* y, int lanes, Vector256<float> v, bool residual, long residualOffset, bool relu)
    {
        if (lanes >= WinogradTransforms256.Lanes)
        {
            // A whole vector: a masked store costs far more than a plain one on AMD's cores.
            if (residual) v += Vector256.Load(y + residualOffset);
            if (relu) v = Ieee256.Relu(v);
            v.Store(y);
            return;
        }
        var mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(lanes)).AsSingle();
        if (residual) v += Avx.MaskLoad(y + residualOffset, mask);
        if (relu) v = Ieee256.Relu(v);
        Avx.MaskStore(y, mask, v);
    }
}

/// <summary>AVX2, F(4×4, 3×3) (<see cref="WinogradF4Transforms256"/>): 8 tiles of 4×4 outputs per vector.</summary>
[SkipLocalsInit]
internal unsafe struct Winograd256F4 : IWinogradWidth
{
    public static int Lanes => WinogradF4Transforms256.Lanes;

    public static int Tile => WinogradF4Transforms256.Tile;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input(float* row, int rowStride, float* v, long pointStride) => WinogradF4Transforms256.Input(row, rowStride, v, pointStride);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output(float* m, long pointStride, float bias, float* top, int wOut, int cols, int rows,
        bool residual, long residualOffset, bool relu)
    {
        Unsafe.SkipInit(out WinogradF4Transforms256.Block24 block);
        ref Vector256<float> s = ref Unsafe.As<WinogradF4Transforms256.Block24, Vector256<float>>(ref block);
        WinogradF4Transforms256.OutputColumns(m, pointStride, ref s);
        var b = Vector256.Create(bias);
        // Row by row, each stored as soon as it is made; unrolled, so each row's block offset is a constant.
        OutputRow(ref s, b, top, cols, residual, residualOffset, relu);
        if (rows < 2) return;
        OutputRow(ref Unsafe.Add(ref s, 6), b, top + wOut, cols, residual, residualOffset, relu);
        if (rows < 3) return;
        OutputRow(ref Unsafe.Add(ref s, 12), b, top + 2L * wOut, cols, residual, residualOffset, relu);
        if (rows < 4) return;
        OutputRow(ref Unsafe.Add(ref s, 18), b, top + 3L * wOut, cols, residual, residualOffset, relu);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OutputRow(ref Vector256<float> sr, Vector256<float> b, float* y, int cols, bool residual, long residualOffset, bool relu)
    {
        WinogradF4Transforms256.OutputRow(ref sr, out var c0, out var c1, out var c2, out var c3);
        StoreRow(y, cols, c0 + b, c1 + b, c2 + b, c3 + b, residual, residualOffset, relu);
    }

    /// <summary>Stores <paramref name="cols"/> (1–32) outputs from four vectors of 8 consecutive columns.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(float* y, int cols, Vector256<float> c0, Vector256<float> c1, Vector256<float> c2, Vector256<float> c3,
        bool residual, long residualOffset, bool relu)
    {
        const int lanes = WinogradF4Transforms256.Lanes;
        if (cols >= 4 * lanes)
        {
            if (residual)
            {
                c0 += Vector256.Load(y + residualOffset);
                c1 += Vector256.Load(y + lanes + residualOffset);
                c2 += Vector256.Load(y + 2 * lanes + residualOffset);
                c3 += Vector256.Load(y + 3 * lanes + residualOffset);
            }
            if (relu)
            {
                c0 = Ieee256.Relu(c0);
                c1 = Ieee256.Relu(c1);
                c2 = Ieee256.Relu(c2);
                c3 = Ieee256.Relu(c3);
            }
            c0.Store(y);
            c1.Store(y + lanes);
            c2.Store(y + 2 * lanes);
            c3.Store(y + 3 * lanes);
            return;
        }
        Winograd256.Store(y, Math.Min(cols, lanes), c0, residual, residualOffset, relu);
        if (cols > lanes) Winograd256.Store(y + lanes, Math.Min(cols - lanes, lanes), c1, residual, residualOffset, relu);
        if (cols > 2 * lanes) Winograd256.Store(y + 2 * lanes, Math.Min(cols - 2 * lanes, lanes), c2, residual, residualOffset, relu);
        if (cols > 3 * lanes) Winograd256.Store(y + 3 * lanes, cols - 3 * lanes, c3, residual, residualOffset, relu);
    }
}
