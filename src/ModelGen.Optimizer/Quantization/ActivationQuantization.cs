namespace ModelGen.Optimizer.Quantization;

/// <summary>
/// The asymmetric uint8 activation quantization of docs/quantization.md:
/// <c>q = clamp(round(x / scale) + zeroPoint, 0, 255)</c>, with a range that always includes 0
/// (so that zero padding and ReLU zeros are exact).
/// </summary>
public readonly record struct ActivationQuantization(float Scale, int ZeroPoint)
{
    /// <summary>Scale and zero point for the range [<paramref name="min"/>, <paramref name="max"/>] (widened to include 0).</summary>
    public static ActivationQuantization FromRange(float min, float max)
    {
        double lo = Math.Min(0.0, min), hi = Math.Max(0.0, max);
        if (!double.IsFinite(lo) || !double.IsFinite(hi)) throw new ArgumentException($"activation range [{min}, {max}] is not finite");
        if (hi - lo <= 0) return new ActivationQuantization(1f, 0);
        float scale = (float)((hi - lo) / 255.0);
        int zeroPoint = (int)Math.Clamp(Math.Round(-lo / scale, MidpointRounding.ToEven), 0, 255);
        return new ActivationQuantization(scale, zeroPoint);
    }

    /// <summary>The float value <paramref name="x"/> after a quantize–dequantize round trip.</summary>
    public float FakeQuantize(float x)
    {
        float q = Math.Clamp(MathF.Round(x / Scale, MidpointRounding.ToEven) + ZeroPoint, 0, 255);
        return (q - ZeroPoint) * Scale;
    }

    /// <summary>The smallest and largest values representable without clipping.</summary>
    public (float Min, float Max) Range => (-ZeroPoint * Scale, (255 - ZeroPoint) * Scale);
}
