using ModelGen.Tests;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Quantization;

namespace ModelGen.Optimizer.Tests.Quantization;

/// <summary>End to end: optimize with a Quantize mode, gate on validation data, compare with fp32.</summary>
public class QuantizedModelTests
{
    private static (OptimizeResult Fp32, OptimizeResult Quantized) Build(TempFolder dir, TestModels model, int[] inputShape, QuantizeMode mode,
        string budget = "100%", CalibrationMethod calibration = CalibrationMethod.MinMax, string? outDir = null, MetricKind? metric = null)
    {
        string path = model.Save(dir.Path, "m.onnx");
        string data = QuantTestData.Npz(dir.Combine("val.npz"), model.Graph.Inputs[0].Name, inputShape, 200, seed: 11);
        var fp32 = ModelOptimizer.Optimize(new OptimizeOptions(path, "", "M"));
        var q = ModelOptimizer.Optimize(new OptimizeOptions(path, outDir ?? "", "M")
        {
            Quantize = mode, ValidationData = data, MaxAccuracyDrop = budget, Calibration = calibration, Metric = metric,
        });
        return (fp32, q);
    }

    /// <summary>Norm-wise relative error of the quantized model's first output over 50 seeded inputs.</summary>
    private static double RelativeError(OptimizeResult fp32, OptimizeResult q, int count)
    {
        using var a = fp32.CreateInterpreter();
        using var b = q.CreateInterpreter();
        var rng = new Random(5);
        double worst = 0;
        for (int s = 0; s < 50; s++)
        {
            var x = Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            worst = Math.Max(worst, Compare.MaxRelativeError(a.RunFloats(x)[0], b.RunFloats(x)[0]));
        }
        return worst;
    }

    public static TheoryData<QuantizeMode, double> Int8Modes => new()
    {
        // Bounds: int8 weights alone err by ≤ half a step per weight (0.4% of a channel's max);
        // int8 activations add about as much again per layer.
        { QuantizeMode.Int8Weights, 0.02 },
        { QuantizeMode.Int8Dynamic, 0.04 },
        { QuantizeMode.Int8, 0.05 },
    };

    [Theory]
    [MemberData(nameof(Int8Modes))]
    public void Mlp_Int8Modes_QuantizeEveryLayer_ShrinkWeights_AndStayClose(QuantizeMode mode, double bound)
    {
        using var dir = new TempFolder();
        var (fp32, q) = Build(dir, TestModels.Mlp(), new[] { 1, 196 }, mode);
        var report = Assert.IsType<QuantizationReport>(q.Quantization);
        Assert.All(report.Layers, l => Assert.Equal("int8", l.WeightAfter));
        Assert.All(report.Layers, l => Assert.Null(l.KeptFp32));
        Assert.InRange((double)q.WeightsBytes / fp32.WeightsBytes, 0.2, 0.35); // ~1/4 plus scales and biases
        Assert.InRange(RelativeError(fp32, q, 196), 0, bound);
        Assert.NotNull(report.Gate);
        Assert.Equal(MetricKind.Agreement, report.Gate!.Final.Metric);
    }

    [Theory]
    [MemberData(nameof(Int8Modes))]
    public void SmallCnn_Int8Modes_StayClose(QuantizeMode mode, double bound)
    {
        using var dir = new TempFolder();
        var (fp32, q) = Build(dir, TestModels.SmallCnn(), new[] { 1, 1, 28, 28 }, mode, metric: MetricKind.Cosine);
        Assert.All(q.Quantization!.Layers, l => Assert.Equal("int8", l.WeightAfter));
        Assert.InRange(RelativeError(fp32, q, 784), 0, bound);
    }

    [Fact]
    public void Fp16_HalvesTheWeights_AndStaysWithin1e3()
    {
        using var dir = new TempFolder();
        var (fp32, q) = Build(dir, TestModels.Mlp(), new[] { 1, 196 }, QuantizeMode.Fp16);
        Assert.All(q.Quantization!.Layers, l => Assert.Equal("float16", l.WeightAfter));
        Assert.InRange((double)q.WeightsBytes / fp32.WeightsBytes, 0.45, 0.56);
        Assert.InRange(RelativeError(fp32, q, 196), 0, 1e-3);
    }

    [Theory]
    [InlineData(CalibrationMethod.Percentile)]
    [InlineData(CalibrationMethod.Entropy)]
    public void Int8_OtherCalibrationMethods_Build(CalibrationMethod method)
    {
        using var dir = new TempFolder();
        var (fp32, q) = Build(dir, TestModels.SmallCnn(), new[] { 1, 1, 28, 28 }, QuantizeMode.Int8, calibration: method, metric: MetricKind.Cosine);
        Assert.Equal(method, q.Quantization!.Calibration);
        Assert.All(q.Quantization.Layers, l => Assert.StartsWith("u8 [", l.Activation));
        Assert.InRange(RelativeError(fp32, q, 784), 0, 0.1);
    }

    [Fact]
    public void Int8_ExportsQdqOnnx_ThatOnnxRuntimeRuns_CloseToOurInterpreter()
    {
        using var dir = new TempFolder();
        string outDir = Path.Combine(dir.Path, "out");
        var (_, q) = Build(dir, TestModels.SmallCnn(), new[] { 1, 1, 28, 28 }, QuantizeMode.Int8, outDir: outDir, metric: MetricKind.Cosine);
        var onnx = ModelGen.Onnx.OnnxLoader.Load(File.ReadAllBytes(Path.Combine(outDir, "M.onnx")), outDir, "M.onnx");
        Assert.Contains(onnx.Graph.Nodes, n => n.OpType == "QuantizeLinear");
        Assert.Contains(onnx.Graph.Nodes, n => n.OpType == "DequantizeLinear" && n.Attributes.ContainsKey("axis"));
        Assert.True(File.Exists(Path.Combine(outDir, "M.report.md")));
        using var ours = q.CreateInterpreter();
        var rng = new Random(9);
        for (int s = 0; s < 10; s++)
        {
            var x = Enumerable.Range(0, 784).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var expected = OrtReference.Run(Path.Combine(outDir, "M.onnx"), ("image", new[] { 1, 1, 28, 28 }, x))[0];
            // Same fake-quantized math; only fp32 summation order and ties at rounding differ.
            Assert.InRange(Compare.MaxRelativeError(expected, ours.RunFloats(x)[0]), 0, 0.01);
        }
    }
}
