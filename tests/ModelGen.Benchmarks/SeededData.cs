namespace ModelGen.Benchmarks;

/// <summary>Reproducible input data: the same numbers on every run and machine.</summary>
internal static class SeededData
{
    /// <summary><paramref name="count"/> values uniform in [0, 1): a plausible image or feature vector for every model here.</summary>
    public static float[] Uniform(int count, int seed)
    {
        var random = new Random(seed);
        var data = new float[count];
        for (int i = 0; i < data.Length; i++) data[i] = random.NextSingle();
        return data;
    }
}
