using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// Quantizes fp32 activations to asymmetric uint8 on the fly (docs/quantization.md):
/// <c>q = clamp(round(x / scale) + zeroPoint, 0, 255)</c>, round half to even; and, for dynamic
/// quantization, derives scale and zero point from the data's range (always including 0), as
/// ONNX DynamicQuantizeLinear does.
/// </summary>
[SkipLocalsInit]
internal static unsafe class ActivationQuantizer
{
    /// <summary>One value. x/scale is clamped to [-256, 512] first (which cannot change the result) so the int conversion never overflows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte Quantize(float x, float scale, int zeroPoint)
    {
        float t = x / scale;
        // NaN goes to -256 (so q = 0), which is what the vector path's saturating conversion gives too.
        t = t >= -256f ? (t > 512f ? 512f : t) : -256f;
        int q = (int)MathF.Round(t) + zeroPoint;
        return (byte)Math.Clamp(q, 0, 255);
    }

    /// <summary>Scale and zero point for values in [min, max] (widened to include 0); a range of only 0 gets scale 1.</summary>
    public static void Parameters(float min, float max, out float scale, out int zeroPoint)
    {
        min = MathF.Min(min, 0f);
        max = MathF.Max(max, 0f);
        scale = (max - min) / 255f;
        if (!(scale > 0f) || !float.IsFinite(scale))
        {
            // All zeros (or non-finite data): any positive scale represents 0 exactly.
            scale = 1f;
            zeroPoint = 0;
            return;
        }
        zeroPoint = Math.Clamp((int)MathF.Round(-min / scale), 0, 255);
    }

    /// <summary>The minimum and maximum of <paramref name="count"/> values.</summary>
    public static void Range(float* x, long count, out float min, out float max)
    {
        long i = 0;
        var vMin = Vector256.Create(float.PositiveInfinity);
        var vMax = Vector256.Create(float.NegativeInfinity);
        for (; i + 8 <= count; i += 8)
        {
            var v = Vector256.Load(x + i);
            vMin = Vector256.Min(vMin, v);
            vMax = Vector256.Max(vMax, v);
        }
        min = float.PositiveInfinity;
        max = float.NegativeInfinity;
        for (int l = 0; l < 8; l++)
        {
            min = MathF.Min(min, vMin[l]);
            max = MathF.Max(max, vMax[l]);
        }
        for (; i < count; i++)
        {
            min = MathF.Min(min, x[i]);
            max = MathF.Max(max, x[i]);
        }
    }

    /// <summary>
    /// Quantizes a <paramref name="rows"/>×<paramref name="cols"/> matrix whose element (r, c) is at
    /// <c>x[r*rowStride + c*colStride]</c> into row-major <paramref name="dst"/> with row stride
    /// <paramref name="ldd"/> (bytes past <paramref name="cols"/> are left as they are).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void QuantizeRows(float* x, long rowStride, long colStride, int rows, int cols, float scale, int zeroPoint, byte* dst, long ldd)
    {
        for (int r = 0; r < rows; r++)
        {
            float* src = x + r * rowStride;
            byte* d = dst + r * ldd;
            if (colStride == 1)
            {
                Contiguous(src, cols, scale, zeroPoint, d);
            }
            else
            {
                for (int c = 0; c < cols; c++) d[c] = Quantize(src[c * colStride], scale, zeroPoint);
            }
        }
    }

    /// <summary>Quantizes <paramref name="count"/> consecutive values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Contiguous(float* x, long count, float scale, int zeroPoint, byte* dst)
    {
        long i = 0;
        if (Avx2.IsSupported)
        {
            var s = Vector256.Create(scale);
            var lo = Vector256.Create(-256f);
            var hi = Vector256.Create(512f);
            var zp = Vector256.Create(zeroPoint);
            // vpermd indices that undo the per-lane interleave of packssdw + packuswb.
            var order = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);
            for (; i + 32 <= count; i += 32)
            {
                // cvtps2dq rounds half to even (the default MXCSR mode), as MathF.Round does.
                var q0 = Avx.ConvertToVector256Int32(Vector256.Min(Vector256.Max(Vector256.Load(x + i) / s, lo), hi)) + zp;
                var q1 = Avx.ConvertToVector256Int32(Vector256.Min(Vector256.Max(Vector256.Load(x + i + 8) / s, lo), hi)) + zp;
                var q2 = Avx.ConvertToVector256Int32(Vector256.Min(Vector256.Max(Vector256.Load(x + i + 16) / s, lo), hi)) + zp;
                var q3 = Avx.ConvertToVector256Int32(Vector256.Min(Vector256.Max(Vector256.Load(x + i + 24) / s, lo), hi)) + zp;
                // Saturating packs clamp to 0..255.
                var bytes = Avx2.PackUnsignedSaturate(Avx2.PackSignedSaturate(q0, q1), Avx2.PackSignedSaturate(q2, q3));
                Avx2.PermuteVar8x32(bytes.AsInt32(), order).AsByte().Store(dst + i);
            }
        }
        for (; i < count; i++) dst[i] = Quantize(x[i], scale, zeroPoint);
    }
}
