using ModelGen.Onnx;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Runtime;
using ModelGen.Tests;
using static ModelGen.Optimizer.Tests.Evaluation.NpyFixtures;

namespace ModelGen.Optimizer.Tests.Evaluation;

/// <summary>The ONNX Runtime reference and the evaluator on real models and data.</summary>
public class ReferenceAccuracyTests
{
    [Theory]
    [InlineData("test_relu")] // float
    [InlineData("test_add_uint8")] // uint8 inputs and output
    [InlineData("test_gather_0")] // float data + int64 indices
    [InlineData("test_where_example")] // bool condition
    [InlineData("test_max_float64")] // double inputs and output
    [InlineData("test_max_int32")] // int32
    [InlineData("test_reduce_max_bool_inputs")] // bool output
    public void Reference_reproduces_the_recorded_outputs_of_conformance_cases(string name)
    {
        string folder = TestData.Require($"onnx-node/{name}");
        string modelPath = Path.Combine(folder, "model.onnx");
        var set = ValidationSet.Load(folder, OnnxLoader.Load(modelPath).Graph.Inputs);
        using var runner = new ReferenceRunner(modelPath);
        var outputs = runner.Run(set.Sample(0));
        var recorded = set.RecordedOutputs![0];
        Assert.Equal(recorded.Length, outputs.Length);
        for (int o = 0; o < outputs.Length; o++)
        {
            var expected = ElementConversion.ToFloats(recorded[o].Type, recorded[o].Data);
            // These ops are exact in float32 (the double→float cast rounds once, like ours).
            Assert.Equal(expected, outputs[o]);
        }
    }

    [Fact]
    public void A_conformance_case_whose_data_holds_NaN_is_refused_as_validation_data_with_MG1026()
    {
        // ONNX's cast tests feed NaN on purpose; as validation data that is an error, named precisely.
        string folder = TestData.Require("onnx-node/test_cast_DOUBLE_to_FLOAT");
        var e = Fails(EvaluationErrors.NonFiniteData, () => ValidationSet.Load(folder, OnnxLoader.Load(Path.Combine(folder, "model.onnx")).Graph.Inputs));
        Assert.Contains("input_0.pb' (model input 'input') holds NaN at index (2, 0)", e.Message);
    }

    [Fact]
    public void Reference_errors_are_MG1001_and_MG1023()
    {
        using var dir = new TempFolder();
        Fails(ErrorCodes.FileNotFound, () => new ReferenceRunner(dir.Combine("none.onnx")));
        File.WriteAllText(dir.Combine("bad.onnx"), "not a model");
        var e = Fails(EvaluationErrors.ReferenceRuntimeFailed, () => new ReferenceRunner(dir.Combine("bad.onnx")));
        Assert.Contains("bad.onnx", e.Message);
        Assert.Contains("ONNX Runtime", e.Message);

        using var runner = new ReferenceRunner(TestData.Require("onnx-node/test_relu/model.onnx"));
        var wrong = Fails(EvaluationErrors.ReferenceRuntimeFailed,
            () => runner.Run([ModelGen.Onnx.Ir.OnnxTensor.FromFloats("x", [2], [1, 2])]));
        Assert.Contains("failed to run", wrong.Message);
    }

    // The first 500 MNIST test images as pixel/255 in [500,1,28,28] with their labels, as a user would save them.
    private static string WriteMnistNpz(TempFolder dir, int count)
    {
        var pixels = new float[count * 784];
        for (int i = 0; i < count; i++)
        {
            for (int p = 0; p < 784; p++) pixels[i * 784 + p] = MnistData.Images[i][p] / 255f;
        }
        string path = dir.Combine("mnist-val.npz");
        Npz.Write(path, [("Input3", NpyArray.FromFloats([count, 1, 28, 28], pixels)),
            ("labels", NpyArray.From<byte>(ElementType.UInt8, [count], MnistData.Labels.AsSpan(0, count)))], compress: true);
        return path;
    }

    [Fact]
    public void Optimized_mnist_loses_nothing_against_onnx_runtime_on_the_original()
    {
        string modelPath = TestData.Require("real/mnist-8.onnx");
        using var dir = new TempFolder();
        string npz = WriteMnistNpz(dir, 500);
        var model = OnnxLoader.Load(modelPath);
        var set = ValidationSet.Load(npz, model.Graph.Inputs);
        Assert.Equal(500, set.Count);
        Assert.Equal(new[] { 1, 1, 28, 28 }, set.Inputs[0].StaticShape());

        using var runner = new ReferenceRunner(modelPath);
        Assert.Equal(new[] { "Input3" }, runner.InputNames); // IR 3: the weights listed as inputs are not fed
        var reference = AccuracyEvaluator.Compute(set, runner);
        Assert.Equal(500, reference.Count);
        Assert.Equal(new[] { 1, 10 }, reference.OutputShape);

        var optimized = ModelOptimizer.Optimize(new OptimizeOptions(modelPath, "", "Mnist"));
        using var interpreter = optimized.CreateInterpreter();
        var candidate = AccuracyEvaluator.Candidate(interpreter);

        var top1 = AccuracyEvaluator.Evaluate(reference, candidate, MetricKind.Top1);
        TestContext.Current.TestOutputHelper?.WriteLine(top1.Summary);
        // mnist-8 scores 98.9% on all 10,000 test images; on the first 500 it must be in the same
        // region (a broken reference, e.g. unscaled pixels or a wrong input, lands far below 95%).
        Assert.InRange(top1.ReferenceScore, 0.98, 0.995); // 98.6% (493 of 500) with ORT 1.31
        Assert.True(Math.Abs(top1.Drop) <= 0.002, top1.Summary);
        Assert.Equal(1.0, AccuracyEvaluator.Evaluate(reference, candidate, MetricKind.Agreement).CandidateScore);
        // Same numbers up to float32 summation order: logits are O(10), so 1e-3 absolute is loose but meaningful.
        var maxAbs = AccuracyEvaluator.Evaluate(reference, candidate, MetricKind.MaxAbsError);
        TestContext.Current.TestOutputHelper?.WriteLine(maxAbs.Summary);
        Assert.True(maxAbs.CandidateScore <= 1e-3, maxAbs.Summary);
        Assert.True(AccuracyEvaluator.Evaluate(reference, candidate, MetricKind.Cosine).CandidateScore >= 0.999999);

        // A candidate that ignores its input must fail the gate by a wide margin.
        var broken = AccuracyEvaluator.Evaluate(reference, _ => [new float[10]], MetricKind.Top1);
        Assert.True(broken.Drop > 0.5, broken.Summary);
        Assert.False(broken.IsWithin(AccuracyBudget.Parse("0.5%")));
    }

    [Fact]
    public void Loading_10000_mnist_samples_is_fast()
    {
        TestData.Require("real/mnist-8.onnx");
        using var dir = new TempFolder();
        string npz = WriteMnistNpz(dir, MnistData.Images.Length);
        var inputs = OnnxLoader.Load(TestData.Require("real/mnist-8.onnx")).Graph.Inputs;
        ValidationSet.Load(npz, inputs); // warm up (JIT)
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var set = ValidationSet.Load(npz, inputs);
        clock.Stop();
        Assert.Equal(10_000, set.Count);
        Assert.Equal(MnistData.Labels[9999], set.Labels![9999]);
        Assert.Equal(MnistData.Images[9999][300] / 255f, set.Sample(9999)[0].AsSpan<float>()[300]);
        // 31 MB of float32, deflated: decompression dominates (~0.1-0.3 s); 5 s only fails on something
        // pathological such as per-element boxing or re-reading the archive per sample.
        TestContext.Current.TestOutputHelper?.WriteLine($"loaded 10000 samples in {clock.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(clock.Elapsed.TotalSeconds < 5, $"loading took {clock.Elapsed.TotalSeconds:F2} s");
    }
}
