using ModelGen.Onnx;
using ModelGen.Onnx.Ir;

namespace ModelGen.Benchmarks;

/// <summary>The precision a case compiles its model at.</summary>
internal enum Precision
{
    /// <summary>The lossless optimizer only.</summary>
    Fp32,

    /// <summary>Static int8 (<c>Quantize=Int8</c>), calibrated on seeded random data, ungated.</summary>
    Int8,
}

/// <summary>One benchmark row: a model at a batch size and a precision.</summary>
/// <param name="Model">The model's short name (the table's first column).</param>
/// <param name="Batch">The batch size compiled into the plan.</param>
/// <param name="Precision">fp32 or int8.</param>
/// <param name="Source">Makes (or finds) the source .onnx file; returns its path.</param>
internal sealed record BenchCase(string Model, int Batch, Precision Precision, Func<string> Source)
{
    /// <summary>A stable id, <c>model/bBATCH/precision</c> (BenchmarkDotNet's parameter value).</summary>
    public string Id => $"{Model}/b{Batch}/{Precision.ToString().ToLowerInvariant()}";

    /// <inheritdoc />
    public override string ToString() => Id;
}

/// <summary>
/// Every model, batch and precision the benchmark compares (issue 6's list). The shared
/// onnx-light models fix batch 1 and are compared in fp32, with seeded weights in place of
/// their constant ones (<see cref="LightWeights"/>); the models made here run at batch 1 and
/// 32, in fp32 and int8.
/// </summary>
internal static class BenchCatalog
{
    /// <summary>The onnx-light models, by short name and path under the test data root.</summary>
    public static readonly (string Model, string Path)[] LightModels =
    [
        ("squeezenet", "onnx-light/light_squeezenet/model.onnx"),
        ("resnet50", "onnx-light/light_resnet50/model.onnx"),
    ];

    /// <summary>The cases, in table order; light models whose file is missing are left out (see <see cref="MissingData"/>).</summary>
    public static IReadOnlyList<BenchCase> All()
    {
        var cases = new List<BenchCase>();
        foreach (var precision in new[] { Precision.Fp32, Precision.Int8 })
        {
            foreach (int batch in new[] { 1, 32 })
            {
                cases.Add(Made("mlp-196-128-10", batch, precision, () => BenchModels.Mlp(batch, 196, 128, 10)));
                cases.Add(Made("mlp-784-512-512-10", batch, precision, () => BenchModels.Mlp(batch, 784, 512, 512, 10)));
                cases.Add(Made("cnn-2conv5x5", batch, precision, () => BenchModels.SmallCnn(batch)));
            }
            if (precision != Precision.Fp32) continue;
            foreach (var (model, relative) in LightModels)
            {
                // Their weights are constants (every channel alike, the softmax uniform): timed with seeded ones instead,
                // so the output check before timing compares real numbers (LightWeights).
                if (BenchPaths.TestData(relative) is { } path)
                {
                    cases.Add(new BenchCase(model, 1, precision, () => Save(LightWeights.Randomize(OnnxLoader.Load(path), seed: 2026), $"{model}-seeded")));
                }
            }
        }
        return cases;
    }

    /// <summary>The light models that cannot be benchmarked because their file is missing, with the path looked at.</summary>
    public static IEnumerable<string> MissingData() =>
        LightModels.Where(m => BenchPaths.TestData(m.Path) is null)
            .Select(m => $"{m.Model}: {Path.Combine(BenchPaths.TestDataRoot, m.Path)} is missing (put ../shared/testdata beside the repository or set MODELGEN_TESTDATA)");

    /// <summary>The large-GEMM throughput case: one MatMul [1024, 1024] x [1024, 1024] in fp32.</summary>
    public static BenchCase LargeGemm(int n = 1024) => Made($"gemm-{n}", n, Precision.Fp32, () => BenchModels.Gemm(n));

    /// <summary>The cases whose id contains <paramref name="filter"/> (all for null); when none does, says so on stderr with the ids there are.</summary>
    public static List<BenchCase> Matching(string? filter)
    {
        var cases = All().Where(c => filter is null || c.Id.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();
        if (cases.Count == 0) Console.Error.WriteLine($"no case matches '{filter}'; cases: {string.Join(", ", All().Select(c => c.Id))}");
        return cases;
    }

    public static BenchCase Find(string id) =>
        All().FirstOrDefault(c => c.Id == id) ?? throw new ArgumentException($"no benchmark case '{id}'; known: {string.Join(", ", All().Select(c => c.Id))}", nameof(id));

    /// <summary>A case for a model made here, written to the work folder on first use.</summary>
    public static BenchCase Made(string model, int batch, Precision precision, Func<OnnxModel> build) =>
        new(model, batch, precision, () => Save(build(), $"{model}-b{batch}"));

    /// <summary>Writes a made model once per process and returns its path.</summary>
    private static string Save(OnnxModel model, string name)
    {
        var path = Path.Combine(BenchPaths.WorkFolder("models"), name + ".onnx");
        if (!File.Exists(path)) OnnxWriter.Save(model, path);
        return path;
    }
}
