using System.Runtime.InteropServices;

namespace ModelGen.Runtime.Tests.Plan;

/// <summary>
/// A batch-polymorphic plan (slots with a batch axis) scaled by <see cref="ExecutionPlan.WithBatch"/>
/// and run by <see cref="BatchedExecutor"/> in bucket sizes gives, for every sample, exactly what
/// the one-sample plan gives; the buckets share the model's packed weights.
/// </summary>
public sealed class BatchedExecutorTests
{
    /// <summary>x[1,6] → Gemm(w[6,5], b) + Relu → Conv-free MLP head Gemm(w2[5,3]) → y[1,3], batch axis 0 throughout.</summary>
    private static TestPlan Mlp()
    {
        var plan = new TestPlan();
        int x = plan.Input("x", [1, 6], batchAxis: 0);
        int w = plan.Weight("w", Data.Random(3, 30), [6, 5]);
        int b = plan.Weight("b", Data.Random(4, 5), [5]);
        int h = plan.Arena("h", [1, 5], batchAxis: 0);
        int w2 = plan.Weight("w2", Data.Random(5, 15), [5, 3]);
        int y = plan.Arena("y", [1, 3], batchAxis: 0);
        plan.Step("Gemm", [x, w, b], [h], PlanAttribute.String("activation", "Relu"));
        plan.Step("Gemm", [h, w2], [y]);
        plan.Output(y);
        return plan;
    }

    [Fact]
    public void WithBatchScalesBatchSlotsAndTheWholeArenaLayout()
    {
        var plan = Mlp().Plan();
        var seven = plan.WithBatch(7);
        Assert.Same(plan, plan.WithBatch(1));
        Assert.Equal(plan.ArenaBytes * 7, seven.ArenaBytes);
        for (int i = 0; i < plan.Slots.Length; i++)
        {
            var one = plan.Slots[i];
            var many = seven.Slots[i];
            if (one.Storage == SlotStorage.Weights)
            {
                Assert.Same(one, many);
                continue;
            }
            Assert.Equal(one.Offset * 7, many.Offset);
            Assert.Equal(one.Shape[0] * 7, many.Shape[0]);
            Assert.Equal(one.Shape[1..], many.Shape[1..]);
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => plan.WithBatch(0));
    }

    [Fact]
    public void APlanWithoutBatchAxesRunsOneSampleAtATime()
    {
        var plan = new TestPlan();
        int x = plan.Input("x", [1, 4]);
        int y = plan.Arena("y", [1, 4]);
        plan.Step("Relu", [x], [y]);
        plan.Output(y);
        var built = plan.Plan();
        Assert.False(built.IsBatched);
        Assert.Throws<InvalidOperationException>(() => built.WithBatch(2));
        using var weights = plan.Weights();
        using var batch = new BatchedExecutor(built, 64, p => new PlanExecutor(p, weights));
        Assert.Equal([1], batch.BucketSizes.ToArray());
        Assert.Same(batch.Single, batch.Next(64, out int n));
        Assert.Equal(1, n);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(23)]
    [InlineData(24)]
    public void EverySampleOfABatchMatchesTheOneSampleRun(int batchSize)
    {
        var test = Mlp();
        var plan = test.Plan();
        using var weights = test.Weights();
        using var single = new PlanExecutor(plan, weights);
        using var batch = new BatchedExecutor(plan, 24, p => new PlanExecutor(p, weights));
        Assert.Equal([1, 2, 4, 8, 16, 24], batch.BucketSizes.ToArray());

        var x = Data.Random(9, batchSize * 6);
        var y = new float[batchSize * 3];
        int chunks = 0;
        for (int done = 0; done < batchSize; chunks++)
        {
            var executor = batch.Next(batchSize - done, out int n);
            executor.SetInput(0, MemoryMarshal.AsBytes(x.AsSpan(done * 6, n * 6)));
            executor.Run();
            executor.GetOutput(0, MemoryMarshal.AsBytes(y.AsSpan(done * 3, n * 3)));
            done += n;
        }
        Assert.Equal(int.PopCount(batchSize == 24 ? 1 : batchSize), chunks);

        var expected = new float[3];
        for (int s = 0; s < batchSize; s++)
        {
            single.SetInput<float>(0, x.AsSpan(s * 6, 6));
            single.Run();
            single.GetOutput<float>(0, expected);
            for (int i = 0; i < 3; i++)
            {
                Assert.True(Math.Abs(expected[i] - y[s * 3 + i]) <= 1e-5f + 1e-5f * Math.Abs(expected[i]),
                    $"sample {s} output {i}: batch {y[s * 3 + i]} vs single {expected[i]}");
            }
        }
    }

    [Fact]
    public void BucketsShareThePackedWeights()
    {
        var test = Mlp();
        using var weights = test.Weights();
        using (var first = new PlanExecutor(test.Plan(), weights)) { }
        int packed = weights.DerivedCount;
        Assert.True(packed >= 2, "each Gemm's packed weights are derived once per model");
        using var batch = new BatchedExecutor(test.Plan(), 64, p => new PlanExecutor(p, weights));
        Assert.Equal(packed, weights.DerivedCount);
    }

    [Fact]
    public void BatchSizeOutsideOneToMaxThrows()
    {
        var test = Mlp();
        using var weights = test.Weights();
        using var batch = new BatchedExecutor(test.Plan(), 5, p => new PlanExecutor(p, weights));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => batch.CheckBatchSize(6));
        Assert.Equal("batchSize", e.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => batch.CheckBatchSize(0));
        batch.CheckBatchSize(5);
    }
}
