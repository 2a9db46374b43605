using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ModelGen.Runtime.Kernels.Gemm;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// Writes a pixel-major conv result Yᵀ [pixels, channels] into the model's channel-major Y [channels, pixels], adding a
/// fused residual (laid out like Y) and applying the activation on the way, 16 × 16 floats at a time with in-register
/// transposes: the last step of <see cref="ChannelTileConvKernel"/>, whose tiles run along the output channels.
/// </summary>
internal static unsafe class ChannelMajorStore
{
    private const int Block = 16;

    /// <summary>
    /// Y[c, p] = act(Yᵀ[p, c] + R[c, p]) for <paramref name="pixels"/> × <paramref name="channels"/>: Yᵀ's rows are
    /// <paramref name="sourceStride"/> floats apart, Y's (and R's) <paramref name="targetStride"/>. Without
    /// <paramref name="activate"/> the activation is left out (it was applied already, or there is none); a null
    /// <paramref name="residual"/> adds nothing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Store(float* source, long sourceStride, float* target, long targetStride, float* residual, int pixels, int channels,
        in Epilogue e, bool activate)
    {
        if (!Avx512F.IsSupported)
        {
            if (Avx2.IsSupported) Store256(source, sourceStride, target, targetStride, residual, pixels, channels, e, activate);
            else StoreScalar(source, sourceStride, target, targetStride, residual, pixels, channels, e, activate);
            return;
        }
        var columns = stackalloc Vector512<float>[Block];
        for (int p = 0; p < pixels; p += Block)
        {
            int rows = Math.Min(Block, pixels - p);
            var pixelMask = Mask(rows);
            for (int c = 0; c < channels; c += Block)
            {
                int cols = Math.Min(Block, channels - c);
                Transpose(source + (long)p * sourceStride + c, sourceStride, rows, Mask(cols), columns);
                for (int j = 0; j < cols; j++)
                {
                    long at = (long)(c + j) * targetStride + p;
                    var v = columns[j];
                    if (rows == Block)
                    {
                        if (residual != null) v += Vector512.Load(residual + at);
                        if (activate) v = e.Activate(v);
                        v.Store(target + at);
                    }
                    else
                    {
                        if (residual != null) v += Avx512F.MaskLoad(residual + at, pixelMask, Vector512<float>.Zero);
                        if (activate) v = e.Activate(v);
                        Avx512F.MaskStore(target + at, pixelMask, v);
                    }
                }
            }
        }
    }

    private static Vector512<float> Mask(int lanes) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(lanes)).AsSingle();

    /// <summary>
    /// Reads <paramref name="rows"/> rows of 16 floats (the lanes in <paramref name="columnMask"/>; missing rows and lanes
    /// read as zero) and writes their 16 columns to <paramref name="columns"/>: the classic four-stage AVX-512 transpose
    /// (float unpacks, double unpacks, two 128-bit lane shuffles).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Transpose(float* s, long stride, int rows, Vector512<float> columnMask, Vector512<float>* columns)
    {
        var zero = Vector512<float>.Zero;
        Vector512<float> Row(int r) => r < rows ? Avx512F.MaskLoad(s + r * stride, columnMask, zero) : zero;
        var r0 = Row(0); var r1 = Row(1); var r2 = Row(2); var r3 = Row(3);
        var r4 = Row(4); var r5 = Row(5); var r6 = Row(6); var r7 = Row(7);
        var r8 = Row(8); var r9 = Row(9); var r10 = Row(10); var r11 = Row(11);
        var r12 = Row(12); var r13 = Row(13); var r14 = Row(14); var r15 = Row(15);

        // Stage 1: pairs of rows interleaved within each 128-bit lane.
        var t0 = Avx512F.UnpackLow(r0, r1).AsDouble(); var t1 = Avx512F.UnpackHigh(r0, r1).AsDouble();
        var t2 = Avx512F.UnpackLow(r2, r3).AsDouble(); var t3 = Avx512F.UnpackHigh(r2, r3).AsDouble();
        var t4 = Avx512F.UnpackLow(r4, r5).AsDouble(); var t5 = Avx512F.UnpackHigh(r4, r5).AsDouble();
        var t6 = Avx512F.UnpackLow(r6, r7).AsDouble(); var t7 = Avx512F.UnpackHigh(r6, r7).AsDouble();
        var t8 = Avx512F.UnpackLow(r8, r9).AsDouble(); var t9 = Avx512F.UnpackHigh(r8, r9).AsDouble();
        var t10 = Avx512F.UnpackLow(r10, r11).AsDouble(); var t11 = Avx512F.UnpackHigh(r10, r11).AsDouble();
        var t12 = Avx512F.UnpackLow(r12, r13).AsDouble(); var t13 = Avx512F.UnpackHigh(r12, r13).AsDouble();
        var t14 = Avx512F.UnpackLow(r14, r15).AsDouble(); var t15 = Avx512F.UnpackHigh(r14, r15).AsDouble();

        // Stage 2: in lane L, u(4q + i) holds column 4L + i of rows 4q .. 4q + 3.
        var u0 = Avx512F.UnpackLow(t0, t2).AsSingle(); var u1 = Avx512F.UnpackHigh(t0, t2).AsSingle();
        var u2 = Avx512F.UnpackLow(t1, t3).AsSingle(); var u3 = Avx512F.UnpackHigh(t1, t3).AsSingle();
        var u4 = Avx512F.UnpackLow(t4, t6).AsSingle(); var u5 = Avx512F.UnpackHigh(t4, t6).AsSingle();
        var u6 = Avx512F.UnpackLow(t5, t7).AsSingle(); var u7 = Avx512F.UnpackHigh(t5, t7).AsSingle();
        var u8 = Avx512F.UnpackLow(t8, t10).AsSingle(); var u9 = Avx512F.UnpackHigh(t8, t10).AsSingle();
        var u10 = Avx512F.UnpackLow(t9, t11).AsSingle(); var u11 = Avx512F.UnpackHigh(t9, t11).AsSingle();
        var u12 = Avx512F.UnpackLow(t12, t14).AsSingle(); var u13 = Avx512F.UnpackHigh(t12, t14).AsSingle();
        var u14 = Avx512F.UnpackLow(t13, t15).AsSingle(); var u15 = Avx512F.UnpackHigh(t13, t15).AsSingle();

        // Stage 3: even lanes (columns i and 8 + i) and odd lanes (4 + i and 12 + i) of row groups 0-1 and 2-3.
        var v0 = Avx512F.Shuffle4x128(u0, u4, 0x88); var v1 = Avx512F.Shuffle4x128(u1, u5, 0x88);
        var v2 = Avx512F.Shuffle4x128(u2, u6, 0x88); var v3 = Avx512F.Shuffle4x128(u3, u7, 0x88);
        var v4 = Avx512F.Shuffle4x128(u0, u4, 0xDD); var v5 = Avx512F.Shuffle4x128(u1, u5, 0xDD);
        var v6 = Avx512F.Shuffle4x128(u2, u6, 0xDD); var v7 = Avx512F.Shuffle4x128(u3, u7, 0xDD);
        var v8 = Avx512F.Shuffle4x128(u8, u12, 0x88); var v9 = Avx512F.Shuffle4x128(u9, u13, 0x88);
        var v10 = Avx512F.Shuffle4x128(u10, u14, 0x88); var v11 = Avx512F.Shuffle4x128(u11, u15, 0x88);
        var v12 = Avx512F.Shuffle4x128(u8, u12, 0xDD); var v13 = Avx512F.Shuffle4x128(u9, u13, 0xDD);
        var v14 = Avx512F.Shuffle4x128(u10, u14, 0xDD); var v15 = Avx512F.Shuffle4x128(u11, u15, 0xDD);

        // Stage 4: whole columns.
        columns[0] = Avx512F.Shuffle4x128(v0, v8, 0x88); columns[1] = Avx512F.Shuffle4x128(v1, v9, 0x88);
        columns[2] = Avx512F.Shuffle4x128(v2, v10, 0x88); columns[3] = Avx512F.Shuffle4x128(v3, v11, 0x88);
        columns[4] = Avx512F.Shuffle4x128(v4, v12, 0x88); columns[5] = Avx512F.Shuffle4x128(v5, v13, 0x88);
        columns[6] = Avx512F.Shuffle4x128(v6, v14, 0x88); columns[7] = Avx512F.Shuffle4x128(v7, v15, 0x88);
        columns[8] = Avx512F.Shuffle4x128(v0, v8, 0xDD); columns[9] = Avx512F.Shuffle4x128(v1, v9, 0xDD);
        columns[10] = Avx512F.Shuffle4x128(v2, v10, 0xDD); columns[11] = Avx512F.Shuffle4x128(v3, v11, 0xDD);
        columns[12] = Avx512F.Shuffle4x128(v4, v12, 0xDD); columns[13] = Avx512F.Shuffle4x128(v5, v13, 0xDD);
        columns[14] = Avx512F.Shuffle4x128(v6, v14, 0xDD); columns[15] = Avx512F.Shuffle4x128(v7, v15, 0xDD);
    }

    /// <summary><see cref="Store"/> with AVX2: 8 × 8 floats at a time (<see cref="Transpose256"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Store256(float* source, long sourceStride, float* target, long targetStride, float* residual, int pixels, int channels,
        in Epilogue e, bool activate)
    {
        var columns = stackalloc Vector256<float>[8];
        for (int p = 0; p < pixels; p += 8)
        {
            int rows = Math.Min(8, pixels - p);
            var pixelMask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(rows)).AsSingle();
            for (int c = 0; c < channels; c += 8)
            {
                int cols = Math.Min(8, channels - c);
                Transpose256(source + (long)p * sourceStride + c, sourceStride, rows, cols, columns);
                for (int j = 0; j < cols; j++)
                {
                    long at = (long)(c + j) * targetStride + p;
                    var v = columns[j];
                    if (rows == 8)
                    {
                        if (residual != null) v += Vector256.Load(residual + at);
                        if (activate) v = e.Activate(v);
                        v.Store(target + at);
                    }
                    else
                    {
                        if (residual != null) v += Avx.MaskLoad(residual + at, pixelMask);
                        if (activate) v = e.Activate(v);
                        Avx.MaskStore(target + at, pixelMask, v);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Reads <paramref name="rows"/> rows of <paramref name="cols"/> floats (missing rows and lanes read as zero) and
    /// writes their 8 columns to <paramref name="columns"/>: float unpacks, shuffles, then 128-bit lane permutes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Transpose256(float* s, long stride, int rows, int cols, Vector256<float>* columns)
    {
        var zero = Vector256<float>.Zero;
        var mask = Vector256.LessThan(Vector256<int>.Indices, Vector256.Create(cols)).AsSingle();
        bool whole = cols == 8;
        Vector256<float> Row(int r) => r >= rows ? zero : whole ? Vector256.Load(s + r * stride) : Avx.MaskLoad(s + r * stride, mask);
        var r0 = Row(0); var r1 = Row(1); var r2 = Row(2); var r3 = Row(3);
        var r4 = Row(4); var r5 = Row(5); var r6 = Row(6); var r7 = Row(7);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        // In each 128-bit lane: u0 holds column 0 (4L) of rows 0–3, u1 column 1, u2 column 2, u3 column 3; u4–u7 rows 4–7.
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        columns[0] = Avx.Permute2x128(u0, u4, 0x20); columns[1] = Avx.Permute2x128(u1, u5, 0x20);
        columns[2] = Avx.Permute2x128(u2, u6, 0x20); columns[3] = Avx.Permute2x128(u3, u7, 0x20);
        columns[4] = Avx.Permute2x128(u0, u4, 0x31); columns[5] = Avx.Permute2x128(u1, u5, 0x31);
        columns[6] = Avx.Permute2x128(u2, u6, 0x31); columns[7] = Avx.Permute2x128(u3, u7, 0x31);
    }

    private static void StoreScalar(float* source, long sourceStride, float* target, long targetStride, float* residual, int pixels, int channels,
        in Epilogue e, bool activate)
    {
        for (int p0 = 0; p0 < pixels; p0 += 8)
        {
            int p1 = Math.Min(pixels, p0 + 8);
            for (int c = 0; c < channels; c++)
            {
                long row = (long)c * targetStride;
                for (int p = p0; p < p1; p++)
                {
                    float v = source[(long)p * sourceStride + c];
                    if (residual != null) v += residual[row + p];
                    target[row + p] = activate ? e.Activate(v) : v;
                }
            }
        }
    }
}
