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

    /// <summary>V = Bᵀ d B of one vector of tiles: see <see cref="WinogradTransforms.Input"/>.</summary>
    static abstract void Input(float* row, int rowStride, float* v, long pointStride);

    /// <summary>
    /// The 2×2 outputs of one vector of tiles from their points at <paramref name="m"/> (ξ · <paramref name="pointStride"/>
    /// apart), plus <paramref name="bias"/>, into <paramref name="cols"/> (1 to 2·Lanes) columns of the output row at
    /// <paramref name="top"/> and, when <paramref name="second"/>, of the row <paramref name="wOut"/> floats below; adding the
    /// residual (when <paramref name="residual"/>: <paramref name="residualOffset"/> floats from each output, 0 when in place)
    /// and applying Relu (when <paramref name="relu"/>) on the way.
    /// </summary>
    static abstract void Output(float* m, long pointStride, float bias, float* top, int wOut, int cols, bool second,
        bool residual, long residualOffset, bool relu);
}

/// <summary>AVX-512: 16 tiles per vector.</summary>
internal unsafe struct Winograd512 : IWinogradWidth
{
    public static int Lanes => WinogradTransforms.Lanes;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input(float* row, int rowStride, float* v, long pointStride) => WinogradTransforms.Input(row, rowStride, v, pointStride);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output(float* m, long pointStride, float bias, float* top, int wOut, int cols, bool second,
        bool residual, long residualOffset, bool relu)
    {
        var b = Vector512.Create(bias);
        WinogradTransforms.Output(m, pointStride, out var y00, out var y01, out var y10, out var y11);
        WinogradTransforms.Interleave(y00 + b, y01 + b, out var lo, out var hi);
        StoreRow(top, cols, lo, hi, residual, residualOffset, relu);
        if (!second) return;
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Input(float* row, int rowStride, float* v, long pointStride) => WinogradTransforms256.Input(row, rowStride, v, pointStride);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Output(float* m, long pointStride, float bias, float* top, int wOut, int cols, bool second,
        bool residual, long residualOffset, bool relu)
    {
        var b = Vector256.Create(bias);
        WinogradTransforms256.Output(m, pointStride, out var y00, out var y01, out var y10, out var y11);
        WinogradTransforms256.Interleave(y00 + b, y01 + b, out var lo, out var hi);
        StoreRow(top, cols, lo, hi, residual, residualOffset, relu);
        if (!second) return;
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

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* y, int lanes, Vector256<float> v, bool residual, long residualOffset, bool relu)
    {
        var mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(lanes)).AsSingle();
        if (residual) v += Avx.MaskLoad(y + residualOffset, mask);
        if (relu) v = Ieee256.Relu(v);
        Avx.MaskStore(y, mask, v);
    }
}
