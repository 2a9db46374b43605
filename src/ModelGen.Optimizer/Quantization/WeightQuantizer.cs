namespace ModelGen.Optimizer.Quantization;

/// <summary>
/// Per-output-channel symmetric int8 weight quantization, exactly as docs/quantization.md fixes
/// it: <c>s_c = max|w_c| / 127</c> (1 for an all-zero channel) and <c>q = clamp(round(w / s_c), -127, 127)</c>.
/// -128 is never produced, so the kernels' u8×s8 products stay symmetric.
/// </summary>
public static class WeightQuantizer
{
    /// <summary>The largest int8 magnitude used.</summary>
    public const int MaxLevel = 127;

    /// <summary>
    /// Quantizes <paramref name="weights"/> (row-major, shape <paramref name="shape"/>) with one
    /// scale per index of <paramref name="axis"/>.
    /// </summary>
    /// <returns>The int8 values (same layout) and <c>shape[axis]</c> scales.</returns>
    public static (sbyte[] Values, float[] Scales) Quantize(ReadOnlySpan<float> weights, int[] shape, int axis)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentOutOfRangeException.ThrowIfNegative(axis);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(axis, shape.Length);
        var (outer, channels, inner) = Split(shape, axis);
        if ((long)outer * channels * inner != weights.Length)
        {
            throw new ArgumentException($"{weights.Length} weights do not match shape [{string.Join(",", shape)}]", nameof(weights));
        }
        var maxAbs = new float[channels];
        for (int o = 0; o < outer; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                var row = weights.Slice((o * channels + c) * inner, inner);
                float m = maxAbs[c];
                foreach (float w in row) m = MathF.Max(m, MathF.Abs(w));
                maxAbs[c] = m;
            }
        }
        var scales = new float[channels];
        for (int c = 0; c < channels; c++) scales[c] = maxAbs[c] > 0 && float.IsFinite(maxAbs[c]) ? maxAbs[c] / MaxLevel : 1f;
        var values = new sbyte[weights.Length];
        for (int o = 0; o < outer; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                int start = (o * channels + c) * inner;
                float s = scales[c];
                for (int i = start; i < start + inner; i++)
                {
                    values[i] = (sbyte)Math.Clamp(MathF.Round(weights[i] / s, MidpointRounding.ToEven), -MaxLevel, MaxLevel);
                }
            }
        }
        return (values, scales);
    }

    /// <summary>The float values the int8 weights stand for: <c>q · s_c</c>.</summary>
    public static float[] Dequantize(ReadOnlySpan<sbyte> values, ReadOnlySpan<float> scales, int[] shape, int axis)
    {
        var (outer, channels, inner) = Split(shape, axis);
        var result = new float[values.Length];
        for (int o = 0; o < outer; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                int start = (o * channels + c) * inner;
                for (int i = start; i < start + inner; i++) result[i] = values[i] * scales[c];
            }
        }
        return result;
    }

    /// <summary>The axis of the output channels of a layer's weight (docs/quantization.md), or null when the layer has none.</summary>
    /// <param name="op">Conv, Gemm or MatMul.</param>
    /// <param name="rank">The weight's rank.</param>
    /// <param name="transB">Gemm's transB attribute.</param>
    public static int? OutputChannelAxis(string op, int rank, bool transB) => op switch
    {
        "Conv" when rank >= 3 => 0,
        "Gemm" when rank == 2 => transB ? 0 : 1,
        "MatMul" when rank >= 2 => rank - 1,
        _ => null,
    };

    private static (int Outer, int Channels, int Inner) Split(int[] shape, int axis)
    {
        int outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        return (outer, shape[axis], inner);
    }
}
