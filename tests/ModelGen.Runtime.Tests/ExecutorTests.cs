using System.Reflection;
using System.Security.Cryptography;
using ModelGen.Runtime;

namespace ModelGen.Runtime.Tests;

/// <summary>Whole plans (an MLP and a small CNN) against composed references, zero allocation per call, and error handling.</summary>
[Collection("SharedPool")]
public class ExecutorTests
{
    /// <summary>MLP: Gemm(+fused Relu) -> Gemm -> Softmax. batch x inputs -> hidden -> classes.</summary>
    private static (TestPlan Plan, Func<float[], float[]> Reference) Mlp(int batch, int inputs, int hidden, int classes)
    {
        var w1 = Data.Random(101, hidden * inputs, -0.2f, 0.2f);
        var b1 = Data.Random(102, hidden);
        var w2 = Data.Random(103, classes * hidden, -0.2f, 0.2f);
        var b2 = Data.Random(104, classes);
        var plan = new TestPlan();
        int x = plan.Input("x", [batch, inputs]);
        int h = plan.Arena("h", [batch, hidden]);
        int logits = plan.Arena("logits", [batch, classes]);
        int y = plan.Arena("y", [batch, classes]);
        plan.Output(y);
        plan.Step("Gemm", [x, plan.Weight("w1", w1, [hidden, inputs]), plan.Weight("b1", b1, [hidden])], [h],
            PlanAttribute.Int("transB", 1), PlanAttribute.String("activation", "Relu"));
        plan.Step("Gemm", [h, plan.Weight("w2", w2, [classes, hidden]), plan.Weight("b2", b2, [classes])], [logits], PlanAttribute.Int("transB", 1));
        plan.Step("Softmax", [logits], [y], PlanAttribute.Int("axis", 1));
        return (plan, input =>
        {
            var hv = Reference.MatMul2D(input, w1, batch, inputs, hidden, transB: true);
            for (int i = 0; i < hv.Length; i++) hv[i] = Math.Max(0, hv[i] + b1[i % hidden]);
            var lv = Reference.MatMul2D(hv, w2, batch, hidden, classes, transB: true);
            var result = new float[lv.Length];
            for (int r = 0; r < batch; r++)
            {
                var row = lv.Skip(r * classes).Take(classes).Select((v, j) => (double)v + b2[j]).ToArray();
                double max = row.Max(), sum = row.Sum(v => Math.Exp(v - max));
                for (int j = 0; j < classes; j++) result[r * classes + j] = (float)(Math.Exp(row[j] - max) / sum);
            }
            return result;
        });
    }

    /// <summary>CNN: Conv, Relu, MaxPool, Conv(+fused Relu), GlobalAveragePool, Flatten, Gemm.</summary>
    private static (TestPlan Plan, Func<float[], float[]> Reference) Cnn(int size, int c1, int c2)
    {
        int[] xs = [1, 3, size, size], w1s = [c1, 3, 3, 3], w2s = [c2, c1, 3, 3];
        int half = size / 2;
        var w1 = Data.Random(201, Data.Count(w1s), -0.3f, 0.3f);
        var b1 = Data.Random(202, c1);
        var w2 = Data.Random(203, Data.Count(w2s), -0.3f, 0.3f);
        var b2 = Data.Random(204, c2);
        var wf = Data.Random(205, 10 * c2);
        var bf = Data.Random(206, 10);
        var plan = new TestPlan();
        int x = plan.Input("x", xs);
        int conv1 = plan.Arena("conv1", [1, c1, size, size]);
        int relu1 = plan.Arena("relu1", [1, c1, size, size]);
        int pool = plan.Arena("pool", [1, c1, half, half]);
        int conv2 = plan.Arena("conv2", [1, c2, half, half]);
        int gap = plan.Arena("gap", [1, c2, 1, 1]);
        int flat = plan.Arena("flat", [1, c2]);
        int y = plan.Arena("y", [1, 10]);
        plan.Output(y);
        var same = PlanAttribute.Ints("pads", 1, 1, 1, 1);
        plan.Step("Conv", [x, plan.Weight("w1", w1, w1s), plan.Weight("b1", b1, [c1])], [conv1], same);
        plan.Step("Relu", [conv1], [relu1]);
        plan.Step("MaxPool", [relu1], [pool], PlanAttribute.Ints("kernel_shape", 2, 2), PlanAttribute.Ints("strides", 2, 2));
        plan.Step("Conv", [pool, plan.Weight("w2", w2, w2s), plan.Weight("b2", b2, [c2])], [conv2], same, PlanAttribute.String("activation", "Relu"));
        plan.Step("GlobalAveragePool", [conv2], [gap]);
        plan.Step("Flatten", [gap], [flat], PlanAttribute.Int("axis", 1));
        plan.Step("Gemm", [flat, plan.Weight("wf", wf, [10, c2]), plan.Weight("bf", bf, [10])], [y], PlanAttribute.Int("transB", 1));
        return (plan, input =>
        {
            var a = Reference.Conv(input, xs, w1, w1s, b1, 1, [1, 1], [1, 1, 1, 1], [1, 1], [1, c1, size, size]).Select(v => Math.Max(v, 0)).ToArray();
            a = Reference.Pool(a, [1, c1, size, size], [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], [1, c1, half, half], max: true, countIncludePad: false);
            a = Reference.Conv(a, [1, c1, half, half], w2, w2s, b2, 1, [1, 1], [1, 1, 1, 1], [1, 1], [1, c2, half, half]).Select(v => Math.Max(v, 0)).ToArray();
            var g = Enumerable.Range(0, c2).Select(c => a.Skip(c * half * half).Take(half * half).Average()).ToArray();
            var r = Reference.MatMul2D(g, wf, 1, c2, 10, transB: true);
            return r.Select((v, j) => v + bf[j]).ToArray();
        });
    }

    public static TheoryData<string, bool> Models() => new() { { "mlp", false }, { "mlp", true }, { "cnn", false }, { "cnn", true } };

    [Theory]
    [MemberData(nameof(Models))]
    public void ModelMatchesReferenceAndAllocatesNothingPerCall(string model, bool large)
    {
        // "large" variants have an op over 1M multiply-adds, so the worker pool runs inside the measured calls.
        var (plan, reference) = model == "mlp"
            ? (large ? Mlp(8, 256, 512, 10) : Mlp(3, 17, 33, 5))
            : (large ? Cnn(32, 16, 32) : Cnn(8, 4, 6));
        using var executor = plan.Executor(out var weights);
        using var _ = weights;
        int inputCount = (int)executor.Plan.Slots[executor.Plan.Inputs[0]].ElementCount;
        int outputCount = (int)executor.Plan.Slots[executor.Plan.Outputs[0]].ElementCount;
        var input = Data.Random(7, inputCount);
        var output = new float[outputCount];

        executor.SetInput<float>(0, input);
        executor.Run();
        executor.GetOutput<float>(0, output);
        Data.Close(reference(input), output, 1e-4f, 1e-5f, model);

        // Warm-up past tiered JIT: a kernel method promoted mid-measurement replaces its running tier-0 loop
        // (on-stack replacement), and that allocates runtime bookkeeping on this thread. Tier 1 comes after 30 calls
        // plus a 100 ms background delay, so warm for 100 calls and at least half a second.
        var warm = System.Diagnostics.Stopwatch.StartNew();
        for (int i = 0; i < 100 || warm.ElapsedMilliseconds < 500; i++) Call(executor, input, output);
        long allocated = AllocatedOver(executor, input, output, 1000);
        Assert.True(allocated == 0, $"{allocated} bytes allocated over 1000 calls");
        Data.Close(reference(input), output, 1e-4f, 1e-5f, model);
    }

    /// <summary>Bytes this thread allocated over <paramref name="calls"/> calls.</summary>
    /// <remarks>
    /// Compiled fully optimized up front: a tier-0 loop is replaced mid-run (on-stack replacement), and that
    /// bookkeeping allocates on this thread inside the measured window, now and then, which is not the model's.
    /// </remarks>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static long AllocatedOver(PlanExecutor executor, float[] input, float[] output, int calls)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < calls; i++) Call(executor, input, output);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    private static void Call(PlanExecutor executor, float[] input, float[] output)
    {
        executor.SetInput<float>(0, input);
        executor.Run();
        executor.GetOutput<float>(0, output);
    }

    [Fact]
    public void ExecutorsOnManyThreadsShareWeightsAndThePool()
    {
        var (plan, reference) = Mlp(8, 256, 512, 10);
        using var weights = plan.Weights();
        var built = plan.Plan();
        var failures = new List<string>();
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            try
            {
                using var executor = new PlanExecutor(built, weights);
                var input = Data.Random(300 + t, 8 * 256);
                var expected = reference(input);
                var output = new float[80];
                for (int i = 0; i < 50; i++)
                {
                    executor.SetInput<float>(0, input);
                    executor.Run();
                    executor.GetOutput<float>(0, output);
                    Data.Close(expected, output, 1e-4f, 1e-5f);
                }
            }
            catch (Exception e)
            {
                lock (failures) failures.Add(e.Message);
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(60)), "a thread hung (deadlock?)"));
        Assert.Empty(failures);
    }

    [Fact]
    public void UnsupportedOpNamesTheOpAndStep()
    {
        var plan = new TestPlan();
        int x = plan.Input("x", [4]);
        int y = plan.Arena("y", [4]);
        plan.Output(y);
        plan.Step("Relu", [x], [y]);
        plan.Step("FancyOp", [y], [x]);
        var e = Assert.Throws<ModelGenException>(() => plan.Executor(out _));
        Assert.Contains("Step 1 (FancyOp 'fancyop_1')", e.Message);
        Assert.Contains("'FancyOp' is not supported", e.Message);
    }

    [Fact]
    public void UnsupportedAttributeValueNamesTheStep()
    {
        var plan = new TestPlan();
        int x = plan.Input("x", [1, 1, 4, 4]);
        int y = plan.Arena("y", [1, 1, 2, 2]);
        plan.Output(y);
        plan.Step("MaxPool", [x], [y], PlanAttribute.Ints("kernel_shape", 2, 2), PlanAttribute.Ints("strides", 2, 2), PlanAttribute.String("auto_pad", "BOGUS"));
        var e = Assert.Throws<ModelGenException>(() => plan.Executor(out _));
        Assert.Contains("MaxPool 'maxpool_0'", e.Message);
        Assert.Contains("auto_pad 'BOGUS'", e.Message);
    }

    [Fact]
    public void WrongSpanLengthOrTypeNamesTheTensor()
    {
        var (plan, _) = Mlp(2, 5, 7, 3);
        using var executor = plan.Executor(out var weights);
        using var _w = weights;
        var e = Assert.Throws<ArgumentException>(() => executor.SetInput<float>(0, new float[9]));
        Assert.Contains("'x'", e.Message);
        Assert.Contains("10 elements", e.Message);
        e = Assert.Throws<ArgumentException>(() => executor.GetOutput<float>(0, new float[5]));
        Assert.Contains("'y'", e.Message);
        Assert.Contains("6 elements", e.Message);
        e = Assert.Throws<ArgumentException>(() => executor.SetInput<long>(0, new long[10]));
        Assert.Contains("float", e.Message);
    }

    [Fact]
    public void DisposeIsIdempotentAndUseAfterDisposeThrows()
    {
        var (plan, _) = Mlp(2, 5, 7, 3);
        var executor = plan.Executor(out var weights);
        executor.Dispose();
        executor.Dispose();
        Assert.Throws<ObjectDisposedException>(executor.Run);
        Assert.Throws<ObjectDisposedException>(() => executor.SetInput<float>(0, new float[10]));
        weights.Dispose();
        weights.Dispose();
    }

    [Fact]
    public void OutputsMayBeWeightsOrInputs()
    {
        var plan = new TestPlan();
        int x = plan.Input("x", [3]);
        int c = plan.Weight("c", new[] { 1f, 2f, 3f }, [3]);
        plan.Output(c);
        plan.Output(x);
        using var executor = plan.Executor(out var weights);
        using var _ = weights;
        executor.SetInput<float>(0, [7, 8, 9]);
        executor.Run();
        var a = new float[3];
        var b = new float[3];
        executor.GetOutput<float>(0, a);
        executor.GetOutput<float>(1, b);
        Assert.Equal(new[] { 1f, 2f, 3f }, a);
        Assert.Equal(new[] { 7f, 8f, 9f }, b);
    }

    [Fact]
    public void WeightsSmallerThanThePlanAreRejected()
    {
        var (plan, _) = Mlp(2, 5, 7, 3);
        using var tiny = ModelWeights.FromBytes(new byte[16]);
        var e = Assert.Throws<ModelGenException>(() => new PlanExecutor(plan.Plan(), tiny));
        Assert.Contains("bytes of weights", e.Message);
    }
}

/// <summary>ModelWeights loading: bytes, files, embedded resources with length and SHA-256 checks.</summary>
public class ModelWeightsTests
{
    private const string Resource = "ModelGen.Runtime.Tests.test.weights";
    private static readonly byte[] Content = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();
    private static string Sha => Convert.ToHexStringLower(SHA256.HashData(Content));

    [Fact]
    public unsafe void FromBytesIsAlignedAndCopied()
    {
        using var w = ModelWeights.FromBytes(Content);
        Assert.Equal(1000, w.Length);
        Assert.Equal(0, (long)w.Pointer % 64);
        Assert.True(w.Span.SequenceEqual(Content));
    }

    [Fact]
    public void FromResourceChecksLengthAndHash()
    {
        var assembly = Assembly.GetExecutingAssembly();
        using (var ok = ModelWeights.FromResource(assembly, Resource, 1000, Sha)) Assert.True(ok.Span.SequenceEqual(Content));
        using (var unchecked_ = ModelWeights.FromResource(assembly, Resource, 1000, "")) Assert.Equal(1000, unchecked_.Length);

        var missing = Assert.Throws<ModelGenException>(() => ModelWeights.FromResource(assembly, "nope.weights", 1000, Sha));
        Assert.Contains("'nope.weights' is missing", missing.Message);
        Assert.Contains("rebuild", missing.Message);

        var length = Assert.Throws<ModelGenException>(() => ModelWeights.FromResource(assembly, Resource, 999, Sha));
        Assert.Contains("is 1000 bytes", length.Message);
        Assert.Contains("expects 999", length.Message);
        Assert.Contains("stale", length.Message);

        string wrong = new string('0', 64);
        var hash = Assert.Throws<ModelGenException>(() => ModelWeights.FromResource(assembly, Resource, 1000, wrong));
        Assert.Contains(Sha, hash.Message);
        Assert.Contains(wrong, hash.Message);
        Assert.Contains("rebuild", hash.Message);
    }

    [Fact]
    public void FromFileReadsOrExplains()
    {
        string path = Path.Combine(Path.GetTempPath(), $"modelgen-{Guid.NewGuid():N}.weights");
        File.WriteAllBytes(path, Content);
        try
        {
            using var w = ModelWeights.FromFile(path);
            Assert.True(w.Span.SequenceEqual(Content));
        }
        finally
        {
            File.Delete(path);
        }
        var e = Assert.Throws<ModelGenException>(() => ModelWeights.FromFile(path));
        Assert.Contains("does not exist", e.Message);
    }
}
