using ModelGen.Runtime.Kernels.Quantized;

namespace ModelGen.Runtime.Tests.Quantized;

/// <summary>The formulas of docs/quantization.md, written out plainly, for the tests to compare against.</summary>
internal static class Int8Reference
{
    /// <summary>Symmetric per-channel int8: s = max|w_c| / 127 (1 for an all-zero channel), q = clamp(round(w/s), -127, 127).</summary>
    public static (sbyte[] Q, float[] Scales) QuantizeWeights(float[] w, int channels, Func<int, int> channelOf)
    {
        var scales = new float[channels];
        for (int e = 0; e < w.Length; e++) scales[channelOf(e)] = MathF.Max(scales[channelOf(e)], MathF.Abs(w[e]));
        for (int c = 0; c < channels; c++) scales[c] = scales[c] == 0f ? 1f : scales[c] / 127f;
        var q = new sbyte[w.Length];
        for (int e = 0; e < w.Length; e++) q[e] = (sbyte)Math.Clamp(MathF.Round(w[e] / scales[channelOf(e)]), -127, 127);
        return (q, scales);
    }

    public static float[] Dequantize(sbyte[] q, float[] scales, Func<int, int> channelOf) =>
        q.Select((v, e) => v * scales[channelOf(e)]).ToArray();

    /// <summary>q = clamp(round(x / s) + zp, 0, 255), round half to even.</summary>
    public static byte QuantizeActivation(float x, float scale, int zeroPoint) =>
        (byte)Math.Clamp((double)MathF.Round(x / scale) + zeroPoint, 0, 255); // in double: no int overflow for huge x

    /// <summary>Dynamic parameters: range widened to include 0, scale = (max - min) / 255, zp = round(-min / scale).</summary>
    public static (float Scale, int ZeroPoint) DynamicParameters(float[] x)
    {
        float min = MathF.Min(0f, x.Min()), max = MathF.Max(0f, x.Max());
        float scale = (max - min) / 255f;
        if (scale == 0f) return (1f, 0);
        return (scale, Math.Clamp((int)MathF.Round(-min / scale), 0, 255));
    }

    /// <summary>acc[i, j] = Σ_k (a[i, k] − zp) · b[k, j], in 64-bit so an int32 overflow in the kernel would show.</summary>
    public static long[] Accumulate(byte[] a, sbyte[] b, int m, int k, int n, int zeroPoint)
    {
        var acc = new long[m * n];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            long s = 0;
            for (int p = 0; p < k; p++) s += (a[i * k + p] - zeroPoint) * b[p * n + j];
            acc[i * n + j] = s;
        }
        return acc;
    }

    /// <summary>y = acc · (sa · sw[j]) + bias[j], then the activation.</summary>
    public static float Epilogue(long acc, float sa, float sw, float bias, Func<float, float> activation) =>
        activation((float)acc * (sa * sw) + bias);

    public static IEnumerable<Int8Isa> SupportedIsas() =>
        Enum.GetValues<Int8Isa>().Where(Int8IsaSelector.IsSupported);

    /// <summary>Runs <paramref name="body"/> with every int8 path this CPU has forced on the calling thread.</summary>
    public static Dictionary<Int8Isa, T> OnEveryIsa<T>(Func<T> body)
    {
        var results = new Dictionary<Int8Isa, T>();
        foreach (var isa in SupportedIsas())
        {
            Int8IsaSelector.Override = isa;
            try
            {
                results[isa] = body();
            }
            finally
            {
                Int8IsaSelector.Override = null;
            }
        }
        return results;
    }
}
