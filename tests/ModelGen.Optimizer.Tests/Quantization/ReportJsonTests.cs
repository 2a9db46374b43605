using ModelGen.Tests;
using System.Text.Json;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Quantization;

namespace ModelGen.Optimizer.Tests.Quantization;

/// <summary><c>Name.report.json</c>: written beside the Markdown after a lossy optimization, with the schema of docs/quantization.md.</summary>
public class ReportJsonTests
{
    private static readonly string[] s_topLevel =
    [
        "model", "source", "quantize", "calibration", "calibrationPercentile", "calibrationData", "calibrationSamples", "validationData",
        "weightsBytesBefore", "weightsBytesAfter", "gate", "seconds", "layers",
    ];

    private static readonly string[] s_gate =
    [
        "metric", "higherIsBetter", "referenceScore", "candidateScore", "drop", "budget", "maxAccuracyDrop", "samples",
        "initialCandidateScore", "initialDrop", "reverted",
    ];

    private static readonly string[] s_layer = ["name", "op", "weightBefore", "weightAfter", "activation", "keptFp32", "biasCorrected"];

    private static string[] Names(JsonElement e) => e.EnumerateObject().Select(p => p.Name).ToArray();

    [Fact]
    public void A_passing_gate_writes_the_json_with_its_numbers_in_a_fixed_order()
    {
        using var dir = new TempFolder();
        string model = TestModels.Mlp().Save(dir.Path, "mlp.onnx");
        string data = QuantTestData.Npz(dir.Combine("val.npz"), "input", [1, 196], 100, seed: 11);
        string outDir = Path.Combine(dir.Path, "out");
        var r = ModelOptimizer.Optimize(new OptimizeOptions(model, outDir, "Mlp")
        {
            Quantize = QuantizeMode.Int8, ValidationData = data, Calibration = CalibrationMethod.Percentile, CalibrationPercentile = 99.9,
            Metric = MetricKind.Cosine, MaxAccuracyDrop = "0.05",
        });
        string path = Path.Combine(outDir, "Mlp.report.json");
        Assert.Contains(path, r.Files);
        Assert.True(File.Exists(Path.Combine(outDir, "Mlp.report.md")));
        var report = r.Quantization!;
        var gate = report.Gate!;

        using var json = JsonDocument.Parse(File.ReadAllBytes(path));
        var root = json.RootElement;
        Assert.Equal(s_topLevel, Names(root));
        Assert.Equal("Mlp", root.GetProperty("model").GetString());
        Assert.Equal("mlp.onnx", root.GetProperty("source").GetString());
        Assert.Equal("Int8", root.GetProperty("quantize").GetString());
        Assert.Equal("Percentile", root.GetProperty("calibration").GetString());
        Assert.Equal(99.9, root.GetProperty("calibrationPercentile").GetDouble());
        Assert.Equal("val.npz", root.GetProperty("calibrationData").GetString());
        Assert.Equal(100, root.GetProperty("calibrationSamples").GetInt32());
        Assert.Equal(report.WeightsBytesBefore, root.GetProperty("weightsBytesBefore").GetInt64());
        Assert.Equal(r.WeightsBytes, root.GetProperty("weightsBytesAfter").GetInt64());
        Assert.True(root.GetProperty("weightsBytesAfter").GetInt64() < root.GetProperty("weightsBytesBefore").GetInt64() / 3);

        var g = root.GetProperty("gate");
        Assert.Equal(s_gate, Names(g));
        Assert.Equal("Cosine", g.GetProperty("metric").GetString());
        Assert.True(g.GetProperty("higherIsBetter").GetBoolean());
        // Round-trip exact: the writer emits the shortest representation that parses back to the same double.
        Assert.Equal(gate.Final.ReferenceScore, g.GetProperty("referenceScore").GetDouble());
        Assert.Equal(gate.Final.CandidateScore, g.GetProperty("candidateScore").GetDouble());
        Assert.Equal(gate.Final.Drop, g.GetProperty("drop").GetDouble());
        Assert.Equal(0.05, g.GetProperty("budget").GetDouble());
        Assert.Equal("0.05", g.GetProperty("maxAccuracyDrop").GetString());
        Assert.Equal(100, g.GetProperty("samples").GetInt32());
        Assert.Equal(gate.Initial.CandidateScore, g.GetProperty("initialCandidateScore").GetDouble());
        Assert.Equal(gate.Initial.Drop, g.GetProperty("initialDrop").GetDouble());
        Assert.Equal(0, g.GetProperty("reverted").GetArrayLength());
        Assert.InRange(g.GetProperty("drop").GetDouble(), -1e-9, 0.05);

        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(report.Layers.Select(l => l.Name), layers.Select(l => l.GetProperty("name").GetString()));
        Assert.All(layers, l =>
        {
            Assert.Equal(s_layer, Names(l));
            Assert.Equal("Gemm", l.GetProperty("op").GetString());
            Assert.Equal("float", l.GetProperty("weightBefore").GetString());
            Assert.Equal("int8", l.GetProperty("weightAfter").GetString());
            Assert.StartsWith("u8 [", l.GetProperty("activation").GetString());
            Assert.Equal(JsonValueKind.Null, l.GetProperty("keptFp32").ValueKind);
            Assert.True(l.GetProperty("biasCorrected").GetBoolean());
        });
    }

    [Fact]
    public void An_ungated_build_writes_a_null_gate_and_a_null_calibration()
    {
        using var dir = new TempFolder();
        string model = TestModels.Mlp().Save(dir.Path, "mlp.onnx");
        string outDir = Path.Combine(dir.Path, "out");
        ModelOptimizer.Optimize(new OptimizeOptions(model, outDir, "Mlp") { Quantize = QuantizeMode.Int8Dynamic, AllowUngated = true });
        using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(outDir, "Mlp.report.json")));
        var root = json.RootElement;
        Assert.Equal(s_topLevel, Names(root));
        Assert.Equal("Int8Dynamic", root.GetProperty("quantize").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("gate").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("calibration").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("calibrationPercentile").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("validationData").ValueKind);
        Assert.All(root.GetProperty("layers").EnumerateArray(), l => Assert.Equal("u8, range per call", l.GetProperty("activation").GetString()));
    }

    [Fact]
    public void A_lossless_build_writes_no_report()
    {
        using var dir = new TempFolder();
        string model = TestModels.Mlp().Save(dir.Path, "mlp.onnx");
        string outDir = Path.Combine(dir.Path, "out");
        ModelOptimizer.Optimize(new OptimizeOptions(model, outDir, "Mlp"));
        Assert.False(File.Exists(Path.Combine(outDir, "Mlp.report.json")));
        Assert.False(File.Exists(Path.Combine(outDir, "Mlp.report.md")));
    }

    [Fact]
    public void A_report_path_puts_the_json_beside_the_markdown()
    {
        using var dir = new TempFolder();
        string model = TestModels.Mlp().Save(dir.Path, "mlp.onnx");
        string reportPath = Path.Combine(dir.Path, "reports", "Mlp.report.md");
        var r = ModelOptimizer.Optimize(new OptimizeOptions(model, "", "Mlp") { Quantize = QuantizeMode.Fp16, AllowUngated = true, ReportPath = reportPath });
        string jsonPath = Path.Combine(dir.Path, "reports", "Mlp.report.json");
        Assert.Equal(new[] { reportPath, jsonPath }, r.Files);
        using var json = JsonDocument.Parse(File.ReadAllBytes(jsonPath));
        Assert.Equal("Fp16", json.RootElement.GetProperty("quantize").GetString());
        Assert.Equal(r.Quantization!.ToJson("Mlp", "mlp.onnx"), File.ReadAllText(jsonPath));
    }
}
