using ModelGen.Optimizer.Pruning;
using ModelGen.Tests;

namespace ModelGen.Optimizer.Tests.Pruning;

/// <summary>
/// Issue 5's acceptance on models trained by project code (an MNIST MLP and a small CNN): Filters,
/// Magnitude, 2:4, recovery and low rank. Every optimized .onnx is run in ONNX Runtime and
/// compared with our executor on the plan that ships.
/// </summary>
public class PruneAcceptanceTests
{
    private static readonly int[] s_mlpShape = [1, 784];
    private static readonly int[] s_cnnShape = [1, 1, 28, 28];

    private static OptimizeResult Optimize(string model, string dir, string name, PruneOptions pruning, string validation, string calibration,
        string drop = "3%", bool fallback = false) =>
        ModelOptimizer.Optimize(new OptimizeOptions(model, dir, name)
        {
            Pruning = pruning, ValidationData = validation, CalibrationData = calibration, MaxAccuracyDrop = drop, AccuracyFallback = fallback,
        });

    [Fact]
    public void Filters_Half_RemovesHalfTheFilters_OnnxMatchesExecutor_AndWeightsShrink()
    {
        TestData.Require("real/t10k-images-idx3-ubyte.gz");
        using var dir = new TempFolder();
        var dense = ModelOptimizer.Optimize(new OptimizeOptions(TrainedModels.Cnn, Path.Combine(dir.Path, "dense"), "Cnn"));
        var pruned = Optimize(TrainedModels.Cnn, Path.Combine(dir.Path, "out"), "Cnn", PruneOptions.Parse("Filters", "0.5", null, null, null),
            TrainedModels.CnnValidation, TrainedModels.CnnCalibration);
        var report = pruned.Quantization!.Pruning!;
        var conv = report.Layers.Where(l => l.Op == "Conv").ToList();
        Assert.Equal(2, conv.Count);
        Assert.All(conv, l => Assert.Null(l.KeptWhole));
        Assert.Equal("filters 8 -> 4", conv[0].Change);
        Assert.Equal("filters 16 -> 8", conv[1].Change);

        // The written model really is smaller: 4 and 8 filters, conv2 reads 4 channels, the Gemm reads 8·7·7 features.
        string onnx = Path.Combine(dir.Path, "out", "Cnn.onnx");
        var init = PruningTestHelpers.Initializers(onnx);
        var shapes = init.Values.Where(t => t.Shape.Length == 4).Select(t => string.Join("x", t.Shape)).Order().ToList();
        Assert.Equal(["4x1x3x3", "8x4x3x3"], shapes);
        Assert.Contains(init.Values, t => t.Shape.SequenceEqual([10, 8 * 7 * 7]));

        double diff = PruningTestHelpers.MaxDifference(pruned, onnx, "image", s_cnnShape, 50);
        Assert.True(diff <= 1e-4, $"ONNX Runtime and ModelGen differ by {diff}");
        // Parameters: 80 + 1,168 + 7,850 = 9,098 floats before; 40 + 296 + 3,930 = 4,266 after (47%).
        double ratio = (double)pruned.WeightsBytes / dense.WeightsBytes;
        Assert.InRange(ratio, 0.40, 0.55);
        Assert.Equal(4266 - 4 - 8 - 10, report.ParamsAfter);
        double before = PruningTestHelpers.Top1(dense, 1000), after = PruningTestHelpers.Top1(pruned, 1000);
        Assert.True(after >= before - 0.03, $"Top1 {before:P2} -> {after:P2}");
        Measured.Write($"Filters 0.5 on the CNN: weights {dense.WeightsBytes} B -> {pruned.WeightsBytes} B ({ratio:P1}), Top1 {before:P2} -> {after:P2}, ORT vs ModelGen {diff:G3}");
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "cnn-filters.report.md"), pruned.Quantization.ToMarkdown("Cnn"));
    }

    [Fact]
    public void Magnitude_Point9_WeightsFileAtMost30Percent_AndOnnxMatchesExecutor()
    {
        TestData.Require("real/t10k-images-idx3-ubyte.gz");
        using var dir = new TempFolder();
        var dense = ModelOptimizer.Optimize(new OptimizeOptions(TrainedModels.Mlp, Path.Combine(dir.Path, "dense"), "Mlp"));
        var pruned = Optimize(TrainedModels.Mlp, Path.Combine(dir.Path, "out"), "Mlp", PruneOptions.Parse("Magnitude", "0.9", null, null, null),
            TrainedModels.MlpValidation, TrainedModels.MlpCalibration);
        var report = pruned.Quantization!.Pruning!;
        Assert.All(report.Layers, l => Assert.InRange(l.Sparsity, 0.89, 0.91));
        Assert.All(report.Layers, l => Assert.Equal("csr", l.Format));
        long weightsFile = new FileInfo(Path.Combine(dir.Path, "out", "Mlp.weights")).Length;
        long denseFile = new FileInfo(Path.Combine(dir.Path, "dense", "Mlp.weights")).Length;
        double ratio = (double)weightsFile / denseFile;
        Assert.True(ratio <= 0.3, $"weights file {denseFile} B -> {weightsFile} B ({ratio:P1})");
        double diff = PruningTestHelpers.MaxDifference(pruned, Path.Combine(dir.Path, "out", "Mlp.onnx"), "pixels", s_mlpShape, 50);
        Assert.True(diff <= 1e-4, $"ONNX Runtime and ModelGen differ by {diff}");
        double before = PruningTestHelpers.Top1(dense, 1000), after = PruningTestHelpers.Top1(pruned, 1000);
        Measured.Write($"Magnitude 0.9 on the MLP: weights {denseFile} B -> {weightsFile} B ({ratio:P1}), Top1 {before:P2} -> {after:P2}, ORT vs ModelGen {diff:G3}");
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "mlp-magnitude.report.md"), pruned.Quantization.ToMarkdown("Mlp"));
    }

    [Fact]
    public void TwoFour_EveryGroupOfFourAlongTheInputAxisHasAtMostTwoNonZeros()
    {
        TestData.Require("real/t10k-images-idx3-ubyte.gz");
        using var dir = new TempFolder();
        var pruned = Optimize(TrainedModels.Mlp, Path.Combine(dir.Path, "out"), "Mlp", PruneOptions.Parse("2:4", null, null, null, null),
            TrainedModels.MlpValidation, TrainedModels.MlpCalibration);
        string onnx = Path.Combine(dir.Path, "out", "Mlp.onnx");
        var init = PruningTestHelpers.Initializers(onnx);
        foreach (int k in new[] { 784, 128 })
        {
            var w = init.Values.Single(t => t.Shape.Length == 2 && t.Shape[1] == k);
            Assert.Equal(k, w.Shape[1]); // [units, inputs] (transB)
            var v = w.AsSpan<float>();
            int groups = 0;
            for (int u = 0; u < w.Shape[0]; u++)
            {
                for (int g = 0; g < k; g += 4, groups++)
                {
                    int nonZeros = 0;
                    for (int i = g; i < g + 4; i++) if (v[u * k + i] != 0) nonZeros++;
                    Assert.True(nonZeros <= 2, $"{w.Name}: unit {u}, inputs {g}..{g + 3} hold {nonZeros} non-zeros");
                }
            }
            Assert.Equal(w.Shape[0] * k / 4, groups);
            // At least half are zero; Reconstruct may zero more (inputs that are always 0, like MNIST's border pixels).
            Assert.InRange(v.ToArray().Count(x => x == 0) / (double)v.Length, 0.5, 0.7);
        }
        double diff = PruningTestHelpers.MaxDifference(pruned, onnx, "pixels", s_mlpShape, 30);
        Assert.True(diff <= 1e-4, $"ONNX Runtime and ModelGen differ by {diff}");
    }

    [Fact]
    public void Reconstruct_HasLowerOutputErrorThanNoRecovery()
    {
        TestData.Require("real/t10k-images-idx3-ubyte.gz");
        using var dir = new TempFolder();
        OptimizeResult Run(string recover) => Optimize(TrainedModels.Mlp, Path.Combine(dir.Path, recover), "Mlp",
            PruneOptions.Parse("Magnitude", "0.9", null, null, recover), TrainedModels.MlpValidation, TrainedModels.MlpCalibration, drop: "50%");
        var none = Run("None");
        var bias = Run("BiasCorrection");
        var reconstruct = Run("Reconstruct");
        double eNone = PruningTestHelpers.OutputMse(TrainedModels.Mlp, none, "pixels", s_mlpShape, 300);
        double eBias = PruningTestHelpers.OutputMse(TrainedModels.Mlp, bias, "pixels", s_mlpShape, 300);
        double eRec = PruningTestHelpers.OutputMse(TrainedModels.Mlp, reconstruct, "pixels", s_mlpShape, 300);
        Measured.Write($"Magnitude 0.9 on the MLP, output MSE against the original on 300 held-out images: None {eNone:G4}, BiasCorrection {eBias:G4}, Reconstruct {eRec:G4}");
        Assert.True(eRec < eNone, $"Reconstruct {eRec} is not below no recovery {eNone}");
        Assert.True(eRec < 0.7 * eNone, $"Reconstruct {eRec} gains little over no recovery {eNone}");
        // The layer-level error on calibration data that the report states fell too.
        var layer = reconstruct.Quantization!.Pruning!.Layers[0];
        Assert.StartsWith("Reconstruct:", layer.Recovery);
        Assert.Equal(RecoverMode.None, none.Quantization!.Pruning!.Recover);
    }

    [Fact]
    public void LowRank_Quarter_LowersTheParameterCountAsPredicted()
    {
        TestData.Require("real/t10k-images-idx3-ubyte.gz");
        using var dir = new TempFolder();
        // A budget that lets every layer through, so the count is the rule's alone.
        var result = Optimize(TrainedModels.Mlp, Path.Combine(dir.Path, "out"), "Mlp", PruneOptions.Parse(null, null, null, "0.25", null),
            TrainedModels.MlpValidation, TrainedModels.MlpCalibration, drop: "100%");
        var report = result.Quantization!.Pruning!;
        // fc1 128x784 keeps rank 32: 32·(128 + 784); fc2 10x128 keeps rank ceil(2.5) = 3: 3·(10 + 128).
        Assert.Equal(32, report.Layers[0].Rank);
        Assert.Equal(3, report.Layers[1].Rank);
        Assert.Equal(128 * 784 + 10 * 128, report.ParamsBefore);
        Assert.Equal(32 * (128 + 784) + 3 * (10 + 128), report.ParamsAfter);
        string onnx = Path.Combine(dir.Path, "out", "Mlp.onnx");
        long stored = PruningTestHelpers.Initializers(onnx).Values.Where(t => t.Shape.Length == 2).Sum(t => t.ElementCount);
        Assert.Equal(report.ParamsAfter, stored);
        double diff = PruningTestHelpers.MaxDifference(result, onnx, "pixels", s_mlpShape, 30);
        Assert.True(diff <= 1e-4, $"ONNX Runtime and ModelGen differ by {diff}");
        Measured.Write($"LowRank 0.25 on the MLP: parameters {report.ParamsBefore} -> {report.ParamsAfter}, {report.Gate?.Final.Summary}");

        // With a real budget the fallback keeps the rank-3 classifier whole (rank 3 of 10 logits cannot separate 10 classes).
        var gated = Optimize(TrainedModels.Mlp, Path.Combine(dir.Path, "gated"), "Mlp", PruneOptions.Parse(null, null, null, "0.25", null),
            TrainedModels.MlpValidation, TrainedModels.MlpCalibration, drop: "1%", fallback: true);
        var g = gated.Quantization!.Pruning!;
        Assert.True(g.Gate!.Final.IsWithin(0.01), g.Gate.Final.Summary);
        // Each layer: r·(m + n) when factorized, m·n when the fallback kept it whole.
        long expected = g.Layers.Sum(l => l.Rank is { } r && l.KeptWhole is null ? Predicted(l, r) : l.ParamsBefore);
        Assert.Equal(expected, g.ParamsAfter);
        Assert.True(g.ParamsAfter < g.ParamsBefore);
        Measured.Write($"LowRank 0.25 gated at 1%: fallback kept {string.Join(", ", g.Gate.Reverted)} whole; parameters {g.ParamsBefore} -> {g.ParamsAfter}; {g.Gate.Final.Summary}");
    }

    private static long Predicted(PrunedLayerReport l, int rank) => l.ParamsBefore == 128 * 784 ? rank * (128L + 784) : rank * (10L + 128);
}

/// <summary>Measurements the tests print, collected in one file for the report.</summary>
internal static class Measured
{
    public static void Write(string line)
    {
        lock (typeof(Measured)) File.AppendAllText(Path.Combine(Path.GetTempPath(), "modelgen-pruning-measurements.txt"), line + Environment.NewLine);
    }
}
