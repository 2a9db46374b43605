using ModelGen.Optimizer.Evaluation;

namespace ModelGen.Optimizer.Tests.Quantization;

/// <summary>Validation data for the test models: seeded inputs written as .npz, optionally with labels.</summary>
internal static class QuantTestData
{
    /// <summary>Writes <paramref name="samples"/> samples of U(-1,1) (or what <paramref name="make"/> gives) for one input of per-sample shape <paramref name="shape"/>.</summary>
    public static string Npz(string path, string input, int[] shape, int samples, int seed, int[]? labels = null, Func<Random, float>? make = null)
    {
        var rng = new Random(seed);
        int per = shape.Aggregate(1, (a, b) => a * b);
        var data = new float[samples * per];
        for (int i = 0; i < data.Length; i++) data[i] = make?.Invoke(rng) ?? (float)(rng.NextDouble() * 2 - 1);
        var arrays = new List<(string, NpyArray)> { (input, NpyArray.FromFloats(new[] { samples }.Concat(shape.Skip(1)).ToArray(), data)) };
        if (labels is not null) arrays.Add(("labels", NpyArray.From(ModelGen.Runtime.ElementType.Int64, new[] { samples }, labels.Select(l => (long)l).ToArray().AsSpan())));
        ModelGen.Optimizer.Evaluation.Npz.Write(path, arrays);
        return path;
    }
}
