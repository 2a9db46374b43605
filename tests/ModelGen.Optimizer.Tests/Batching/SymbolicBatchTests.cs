using ModelGen.Tests;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Planning;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Tests.Batching;

/// <summary>
/// Models whose first input dimension is symbolic get a plan that serves every batch size up to
/// MaxBatch, checked against ONNX Runtime at rtol 1e-4 / atol 1e-5 on the same batch.
/// </summary>
public sealed class SymbolicBatchTests
{
    private static OptimizeResult Optimize(string path, int maxBatch = 64) =>
        ModelOptimizer.Optimize(new OptimizeOptions(path, "", "Net") { MaxBatch = maxBatch });

    private static BatchedExecutor Batched(OptimizeResult result, ModelWeights weights) =>
        new(SpecToPlan.Convert(result.Compiled.Spec), result.Compiled.Spec.MaxBatch, plan => new PlanExecutor(plan, weights));

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(64)]
    public void MlpIsBatchPolymorphicAndMatchesOnnxRuntime(int batchSize)
    {
        using var dir = new TempFolder();
        var m = TestModels.Mlp().WithSymbolicBatch();
        string path = m.Save(dir.Path, "mlp.onnx");
        var result = Optimize(path);
        var spec = result.Compiled.Spec;
        Assert.Equal(64, spec.MaxBatch);
        Assert.DoesNotContain(result.Warnings, w => w.Code is ModelOptimizer.SymbolicDimensionWarning or ErrorCodes.BatchNotPolymorphic);
        Assert.All(spec.Slots.Where(s => s.Storage == Spec.SlotStorage.Arena), s => Assert.Equal(0, s.BatchAxis));
        Assert.All(spec.Slots.Where(s => s.Storage == Spec.SlotStorage.Weights), s => Assert.Equal(-1, s.BatchAxis));

        using var weights = ModelWeights.FromBytes(result.Compiled.Weights);
        using var batch = Batched(result, weights);
        Assert.Equal(new[] { 1, 2, 4, 8, 16, 32, 64 }, batch.BucketSizes.ToArray());
        var x = m.RandomInput(batchSize * 196);
        var expected = OrtReference.Run(path, ("input", new[] { batchSize, 196 }, x))[0];
        Compare.Close(expected, BatchRun.Floats(batch, batchSize, x, 196, 10), 1e-4f, 1e-5f, $"MLP batch {batchSize}");
    }

    [Fact]
    public void CnnWithFlattenIsBatchPolymorphic()
    {
        using var dir = new TempFolder();
        var m = TestModels.SmallCnn().WithSymbolicBatch("batch");
        string path = m.Save(dir.Path, "cnn.onnx");
        var result = Optimize(path, maxBatch: 10);
        Assert.Contains(result.Compiled.Spec.Slots, s => s.BatchAxis == 0);
        using var weights = ModelWeights.FromBytes(result.Compiled.Weights);
        using var batch = Batched(result, weights);
        Assert.Equal(new[] { 1, 2, 4, 8, 10 }, batch.BucketSizes.ToArray());
        var x = m.RandomInput(7 * 28 * 28);
        var expected = OrtReference.Run(path, ("image", new[] { 7, 1, 28, 28 }, x))[0];
        Compare.Close(expected, BatchRun.Floats(batch, 7, x, 28 * 28, 10), 1e-4f, 1e-5f, "CNN batch 7");
    }

    /// <summary>
    /// PyTorch's <c>x.view(x.size(0), -1)</c> exports as Shape → Gather → Unsqueeze → Concat →
    /// Reshape; folded at batch 1 its target holds the batch size, so the plan runs sample by sample.
    /// </summary>
    [Fact]
    public void ReshapeFromTheInputShapeRunsSampleBySample()
    {
        using var dir = new TempFolder();
        var m = new TestModels(5);
        var x = m.Input("x", 1, 2, 4, 4);
        var c = m.Node("Conv", new[] { x, m.Weight("w", new[] { 3, 2, 3, 3 }, 0.4f) },
            OnnxAttribute.OfInts("kernel_shape", 3, 3), OnnxAttribute.OfInts("pads", 1, 1, 1, 1));
        var shape = m.Node("Shape", new[] { c });
        m.Graph.Initializers["zero"] = OnnxTensor.FromInt64s("zero", Array.Empty<int>(), new long[] { 0 });
        var n = m.Node("Gather", new[] { shape, "zero" }, OnnxAttribute.OfInt("axis", 0));
        n = m.Node("Unsqueeze", new[] { n, m.Ints("axes", 0) });
        var target = m.Node("Concat", new[] { n, m.Ints("minus_one", -1) }, OnnxAttribute.OfInt("axis", 0));
        var flat = m.Node("Reshape", new[] { c, target });
        m.Output(m.Node("Gemm", new[] { flat, m.Weight("fc", new[] { 48, 5 }, 0.3f) }));
        m.WithSymbolicBatch();
        string path = m.Save(dir.Path, "view.onnx");

        var result = Optimize(path);
        var warning = Assert.Single(result.Warnings, w => w.Code == ErrorCodes.BatchNotPolymorphic);
        Assert.Contains("one sample at a time", warning.Message);
        Assert.Equal(64, result.Compiled.Spec.MaxBatch);
        Assert.All(result.Compiled.Spec.Slots, s => Assert.Equal(-1, s.BatchAxis));

        using var weights = ModelWeights.FromBytes(result.Compiled.Weights);
        using var batch = Batched(result, weights);
        Assert.Equal(new[] { 1 }, batch.BucketSizes.ToArray());
        var input = m.RandomInput(7 * 32);
        var expected = OrtReference.Run(path, ("x", new[] { 7, 2, 4, 4 }, input))[0];
        Compare.Close(expected, BatchRun.Floats(batch, 7, input, 32, 5), 1e-4f, 1e-5f, "view-flatten batch 7");
    }

    [Fact]
    public void AnOutputThatDoesNotStackGetsNoBatchedOverload()
    {
        using var dir = new TempFolder();
        var m = new TestModels(6);
        var x = m.Input("x", 1, 4);
        m.Output(m.Node("ReduceSum", new[] { x, m.Ints("axes", 0) }, OnnxAttribute.OfInt("keepdims", 0)));
        m.WithSymbolicBatch();
        string path = m.Save(dir.Path, "sum.onnx");
        var result = Optimize(path);
        var warning = Assert.Single(result.Warnings, w => w.Code == ErrorCodes.BatchNotPolymorphic);
        Assert.Contains("no Predict(batchSize, ...) is generated", warning.Message);
        Assert.Equal(0, result.Compiled.Spec.MaxBatch);
    }

    [Fact]
    public void MaxBatchZeroCompilesTheBatchAsOneWithAWarning()
    {
        using var dir = new TempFolder();
        string path = TestModels.Mlp().WithSymbolicBatch().Save(dir.Path, "mlp.onnx");
        var result = Optimize(path, maxBatch: 0);
        Assert.Contains(result.Warnings, w => w.Code == ModelOptimizer.SymbolicDimensionWarning);
        Assert.Equal(0, result.Compiled.Spec.MaxBatch);
        Assert.All(result.Compiled.Spec.Slots, s => Assert.Equal(-1, s.BatchAxis));
    }

    [Fact]
    public void ABatchAboveMaxBatchOrBelowOneThrows()
    {
        using var dir = new TempFolder();
        string path = TestModels.Mlp().WithSymbolicBatch().Save(dir.Path, "mlp.onnx");
        var result = Optimize(path, maxBatch: 8);
        using var weights = ModelWeights.FromBytes(result.Compiled.Weights);
        using var batch = Batched(result, weights);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => batch.CheckBatchSize(9));
        Assert.Contains("from 1 to 8", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.CheckBatchSize(0));
        batch.CheckBatchSize(8);
    }
}
