using ModelGen.Tests;
using ModelGen.Onnx;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Gate;
using ModelGen.Optimizer.Quantization;
using ModelGen.Optimizer.Tests.Quantization;

namespace ModelGen.Optimizer.Tests.Gate;

public class GateOptionsTests
{
    [Fact]
    public void LossyWithoutValidationData_IsMG1030_AndWritesNothing()
    {
        using var dir = new TempFolder();
        string path = TestModels.Mlp().Save(dir.Path, "m.onnx");
        string outDir = Path.Combine(dir.Path, "out");
        var e = Assert.Throws<OnnxException>(() => ModelOptimizer.Optimize(new OptimizeOptions(path, outDir, "M") { Quantize = QuantizeMode.Int8Weights }));
        Assert.Equal(GateErrors.NoValidationData, e.Code);
        Assert.Contains("AllowUngated", e.Message);
        Assert.False(File.Exists(Path.Combine(outDir, "M.mgspec")));
    }

    [Fact]
    public void AllowUngated_BuildsWithWarningMG1031()
    {
        using var dir = new TempFolder();
        string path = TestModels.Mlp().Save(dir.Path, "m.onnx");
        var r = ModelOptimizer.Optimize(new OptimizeOptions(path, "", "M") { Quantize = QuantizeMode.Int8Dynamic, AllowUngated = true });
        Assert.Contains(r.Warnings, w => w.Code == GateErrors.Ungated);
        Assert.Null(r.Quantization!.Gate);
        Assert.All(r.Quantization.Layers, l => Assert.Equal("int8", l.WeightAfter));
    }

    [Fact]
    public void ImpossibleBudget_WithoutFallback_IsMG1032()
    {
        using var dir = new TempFolder();
        var m = TestModels.Mlp();
        string path = m.Save(dir.Path, "m.onnx");
        string data = QuantTestData.Npz(dir.Combine("val.npz"), "input", new[] { 1, 196 }, 50, seed: 3);
        var e = Assert.Throws<OnnxException>(() => ModelOptimizer.Optimize(new OptimizeOptions(path, "", "M")
        {
            Quantize = QuantizeMode.Int8, ValidationData = data, Metric = MetricKind.Mse, MaxAccuracyDrop = "0", AccuracyFallback = false,
        }));
        Assert.Equal(GateErrors.AccuracyDropTooLarge, e.Code);
        Assert.Contains("AccuracyFallback is off", e.Message);
    }

    [Fact]
    public void Fallback_ReturnsTheSensitiveLayerToFp32_AndPasses()
    {
        using var dir = new TempFolder();
        // Every column of w2 holds one weight 500x the rest, on hidden unit 0, which a -1000 bias keeps dead:
        // it never changes the output, but per-channel int8 rounds the column's other weights to 0, so fc2 is very sensitive.
        var m = new TestModels(21);
        var x = m.Input("input", 1, 64);
        var b1 = m.Weight("b1", new[] { 64 }, 0.1f);
        var biases = m.Graph.Initializers[b1].ToFloatArray();
        biases[0] = -1000f;
        m.Graph.Initializers[b1] = ModelGen.Onnx.Ir.OnnxTensor.FromFloats(b1, new[] { 64 }, biases);
        var h = m.Node("Gemm", new[] { x, m.Weight("w1", new[] { 64, 64 }, 0.2f), b1 });
        h = m.Node("Relu", new[] { h });
        var w2 = m.Weight("w2", new[] { 64, 10 }, 0.2f);
        var values = m.Graph.Initializers[w2].ToFloatArray();
        for (int n = 0; n < 10; n++) values[n] = 100f;
        m.Graph.Initializers[w2] = ModelGen.Onnx.Ir.OnnxTensor.FromFloats(w2, new[] { 64, 10 }, values);
        m.Output(m.Node("Gemm", new[] { h, w2 }));
        string path = m.Save(dir.Path, "m.onnx");
        string data = QuantTestData.Npz(dir.Combine("val.npz"), "input", new[] { 1, 64 }, 200, seed: 4);
        var options = new OptimizeOptions(path, "", "M") { Quantize = QuantizeMode.Int8Weights, ValidationData = data, Metric = MetricKind.Agreement, MaxAccuracyDrop = "2%" };
        var noFallback = Assert.Throws<OnnxException>(() => ModelOptimizer.Optimize(new OptimizeOptions(path, "", "M")
        {
            Quantize = QuantizeMode.Int8Weights, ValidationData = data, Metric = MetricKind.Agreement, MaxAccuracyDrop = "2%", AccuracyFallback = false,
        }));
        Assert.Equal(GateErrors.AccuracyDropTooLarge, noFallback.Code);
        var r = ModelOptimizer.Optimize(options);
        var gate = r.Quantization!.Gate!;
        Assert.Equal(new[] { "n2_Gemm" }, gate.Reverted);
        Assert.True(gate.Final.IsWithin(0.02));
        Assert.Contains(r.Quantization.Layers, l => l.Name == "n2_Gemm" && l.WeightAfter == "float" && l.KeptFp32 is not null);
        Assert.Contains(r.Quantization.Layers, l => l.Name == "n0_Gemm" && l.WeightAfter == "int8");
        Assert.Contains("n2_Gemm", r.Quantization.ToMarkdown("M"));
        // The JSON report names it too, with the score before the fallback.
        using var json = System.Text.Json.JsonDocument.Parse(r.Quantization.ToJson("M", "m.onnx"));
        var g = json.RootElement.GetProperty("gate");
        Assert.Equal(new[] { "n2_Gemm" }, g.GetProperty("reverted").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(gate.Initial.Drop, g.GetProperty("initialDrop").GetDouble());
        Assert.True(g.GetProperty("initialDrop").GetDouble() > 0.02);
        Assert.Equal("accuracy fallback: most sensitive layer",
            json.RootElement.GetProperty("layers").EnumerateArray().Single(l => l.GetProperty("name").GetString() == "n2_Gemm").GetProperty("keptFp32").GetString());
    }
}
