using System.Runtime.InteropServices;
using ModelGen.Runtime;
using ModelGen.Runtime.Devices;
using ModelGen.Runtime.Tests;

namespace ModelGen.Devices.Tests;

/// <summary>
/// The backend suite: every device kernel, a small MLP and a small CNN, each run through
/// <see cref="ModelExecutors.Create"/> on one backend and compared with the CPU
/// <see cref="PlanExecutor"/> within 1e-4 relative. Subclasses pick the backend; a device backend
/// that is absent skips with the reason, unless <c>MODELGEN_REQUIRE_&lt;BACKEND&gt;=1</c> (set by
/// build/opencl-tests.sh for OpenCL) makes that a failure. Shapes stay small: ILGPU's CPU
/// accelerator simulates a GPU with threads and is slow.
/// </summary>
public abstract class BackendSuite
{
    private const float Rel = 1e-4f, Abs = 1e-5f;

    protected BackendSuite(Backend backend) => Backend = backend;

    protected Backend Backend { get; }

    #region Helpers

    private void RequireBackend()
    {
        if (ModelExecutors.IsAvailable(Backend, out string found)) return;
        string variable = $"MODELGEN_REQUIRE_{Backend.ToString().ToUpperInvariant()}";
        if (Environment.GetEnvironmentVariable(variable) == "1")
        {
            Assert.Fail($"{variable}=1, but Backend.{Backend} is not available: {found}");
        }
        Assert.Skip($"no {Backend} device here: {found}");
    }

    /// <summary>Runs the plan on the CPU executor and on the backend; compares every output.</summary>
    private void Check(TestPlan plan, params float[][] inputs)
    {
        RequireBackend();
        var expected = plan.Run(inputs);
        using var weights = plan.Weights();
        using var executor = ModelExecutors.Create(plan.Plan(), weights, Backend, out var active, out string name);
        Assert.Equal(Backend, active);
        Assert.False(string.IsNullOrEmpty(name));
        Assert.Equal(Backend == Backend.Cpu, executor is PlanExecutor);
        var actual = RunOnce(executor, plan, inputs);
        for (int i = 0; i < expected.Length; i++) Data.Close(expected[i], actual[i], Rel, Abs, $"output {i}");
        // A second run on the same executor gives the same results (nothing left over from the first).
        var again = RunOnce(executor, plan, inputs);
        for (int i = 0; i < expected.Length; i++) Data.Close(expected[i], again[i], Rel, Abs, $"output {i}, second run");
    }

    private static float[][] RunOnce(IModelExecutor executor, TestPlan plan, float[][] inputs)
    {
        var compiled = plan.Plan();
        for (int i = 0; i < inputs.Length; i++) executor.SetInput(i, MemoryMarshal.AsBytes(inputs[i].AsSpan()));
        executor.Run();
        var outputs = new float[compiled.Outputs.Length][];
        for (int i = 0; i < outputs.Length; i++)
        {
            outputs[i] = new float[compiled.Slots[compiled.Outputs[i]].ElementCount];
            executor.GetOutput(i, MemoryMarshal.AsBytes(outputs[i].AsSpan()));
        }
        return outputs;
    }

    private static long[] L(params int[] values) => values.Select(v => (long)v).ToArray();

    #endregion

    #region Linear algebra

    public static TheoryData<bool, bool, string, string> GemmCases() => new()
    {
        { false, false, "none", "" },
        { true, false, "column", "Relu" },
        { false, true, "row", "Sigmoid" },
        { true, true, "full", "Tanh" },
        { false, true, "scalar", "LeakyRelu" },
        { false, false, "column", "Clip" },
    };

    [Theory]
    [MemberData(nameof(GemmCases))]
    public void Gemm(bool transA, bool transB, string bias, string activation)
    {
        const int m = 7, k = 19, n = 11;
        var plan = new TestPlan();
        int ia = plan.Input("A", transA ? [k, m] : [m, k]);
        int ib = plan.Weight("B", Data.Random(2, k * n), transB ? [n, k] : [k, n]);
        int ic = bias switch
        {
            "column" => plan.Weight("C", Data.Random(3, n), [n]),
            "row" => plan.Weight("C", Data.Random(3, m), [m, 1]),
            "full" => plan.Weight("C", Data.Random(3, m * n), [m, n]),
            "scalar" => plan.Weight("C", [0.25f], [1]),
            _ => -1,
        };
        int iy = plan.Arena("Y", [m, n]);
        plan.Output(iy);
        var attributes = new List<PlanAttribute>
        {
            PlanAttribute.Int("transA", transA ? 1 : 0), PlanAttribute.Int("transB", transB ? 1 : 0),
            PlanAttribute.Float("alpha", 0.75f), PlanAttribute.Float("beta", 1.5f),
        };
        if (activation != "")
        {
            attributes.Add(PlanAttribute.String("activation", activation));
            attributes.Add(PlanAttribute.Float("activation_alpha", 0.1f));
            attributes.Add(PlanAttribute.Float("activation_min", -0.2f));
            attributes.Add(PlanAttribute.Float("activation_max", 0.3f));
        }
        plan.Step("Gemm", ic >= 0 ? [ia, ib, ic] : [ia, ib], [iy], [.. attributes]);
        Check(plan, Data.Random(1, m * k));
    }

    public static TheoryData<int[], int[], bool> MatMulCases() => new()
    {
        { [5, 9], [9, 6], true },
        { [2, 3, 5, 9], [9, 6], false },      // batch folds into M
        { [3, 5, 9], [3, 9, 6], false },      // batched B
        { [5, 9], [2, 9, 6], false },         // broadcast A
        { [9], [9, 6], false },               // 1-D A
        { [2, 1, 4, 9], [1, 3, 9, 5], false }, // mixed broadcasting: falls back to the CPU kernel
    };

    [Theory]
    [MemberData(nameof(MatMulCases))]
    public void MatMul(int[] a, int[] b, bool bias)
    {
        int[] y = MatMulShape(a, b);
        var plan = new TestPlan();
        int ia = plan.Input("A", a);
        int ib = plan.Input("B", b);
        int n = b[^1];
        int ic = bias ? plan.Weight("bias", Data.Random(3, n), [n]) : -1;
        int iy = plan.Arena("Y", y);
        plan.Output(iy);
        plan.Step("MatMul", bias ? [ia, ib, ic] : [ia, ib], [iy], bias ? [PlanAttribute.String("activation", "Relu")] : []);
        Check(plan, Data.Random(1, Data.Count(a)), Data.Random(2, Data.Count(b)));
    }

    private static int[] MatMulShape(int[] a, int[] b)
    {
        int[] a2 = a.Length == 1 ? [1, a[0]] : a, b2 = b.Length == 1 ? [b[0], 1] : b;
        int rank = Math.Max(a2.Length, b2.Length);
        var y = new List<int>();
        for (int d = 0; d < rank - 2; d++)
        {
            int ia = d - (rank - a2.Length), ib = d - (rank - b2.Length);
            y.Add(Math.Max(ia >= 0 ? a2[ia] : 1, ib >= 0 ? b2[ib] : 1));
        }
        if (a.Length > 1) y.Add(a2[^2]);
        if (b.Length > 1) y.Add(b2[^1]);
        return [.. y];
    }

    public static TheoryData<int[], int[], int, int[], int[], int[], string> ConvCases() => new()
    {
        // x, w, group, strides, pads (begins..., ends...), dilations, activation
        { [1, 3, 9, 8], [5, 3, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1], "Relu" },
        { [2, 4, 11, 9], [6, 2, 3, 2], 2, [2, 1], [1, 0, 0, 1], [1, 1], "" },
        { [1, 6, 8, 8], [6, 1, 3, 3], 6, [1, 1], [1, 1, 1, 1], [1, 1], "Clip" }, // depthwise
        { [1, 3, 12, 12], [4, 3, 3, 3], 1, [1, 1], [2, 2, 2, 2], [2, 2], "" },  // dilation
        { [2, 8, 5, 5], [16, 8, 1, 1], 1, [1, 1], [0, 0, 0, 0], [1, 1], "" },   // 1x1
        { [1, 3, 30], [4, 3, 5], 1, [2], [2, 1], [1], "LeakyRelu" },            // 1-D
        { [1, 2, 5, 4, 4], [3, 2, 3, 2, 3], 1, [1, 2, 1], [1, 0, 1, 1, 1, 1], [1, 1, 1], "" }, // 3-D
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv(int[] xs, int[] ws, int group, int[] strides, int[] pads, int[] dilations, string activation)
    {
        var ys = Data.ConvOutputShape(xs, ws, strides, pads, dilations);
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iw = plan.Weight("W", Data.Random(2, Data.Count(ws)), ws);
        int ib = plan.Weight("B", Data.Random(3, ws[0]), [ws[0]]);
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        var attributes = new List<PlanAttribute>
        {
            PlanAttribute.Int("group", group), PlanAttribute.Ints("strides", L(strides)),
            PlanAttribute.Ints("pads", L(pads)), PlanAttribute.Ints("dilations", L(dilations)),
        };
        if (activation != "")
        {
            attributes.Add(PlanAttribute.String("activation", activation));
            attributes.Add(PlanAttribute.Float("activation_min", 0f));
            attributes.Add(PlanAttribute.Float("activation_max", 6f));
        }
        plan.Step("Conv", [ix, iw, ib], [iy], [.. attributes]);
        Check(plan, Data.Random(1, Data.Count(xs)));
    }

    /// <summary>A Conv with a fused residual (input 4 named by attribute <c>residual</c>, ResNet's shortcut) and Relu: act(conv + bias + R), against the CPU plan.</summary>
    [Fact]
    public void ConvWithResidual() => CheckConvWithResidual(inPlace: false);

    /// <summary>
    /// The same with the output in the residual's own bytes, as the memory planner places a Conv that is its residual's
    /// last reader: each output element is read as the residual before it is written.
    /// </summary>
    [Fact]
    public void ConvWithResidualInPlace() => CheckConvWithResidual(inPlace: true);

    private void CheckConvWithResidual(bool inPlace)
    {
        int[] xs = [2, 6, 9, 9], ws = [10, 6, 3, 3], ys = [2, 10, 9, 9];
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int ir = plan.Input("R", ys);
        int iw = plan.Weight("W", Data.Random(2, Data.Count(ws)), ws);
        int ib = plan.Weight("B", Data.Random(3, ws[0]), [ws[0]]);
        int iy = inPlace ? ir : plan.Arena("Y", ys);
        plan.Output(iy);
        plan.Step("Conv", [ix, iw, ib, -1, ir], [iy], PlanAttribute.Ints("pads", 1, 1, 1, 1), PlanAttribute.String("activation", "Relu"), PlanAttribute.Int("residual", 4));
        Check(plan, Data.Random(1, Data.Count(xs)), Data.Random(4, Data.Count(ys)));
    }

    [Fact]
    public void Int8WeightOnlyGemmAndFloat16ConvAreDequantizedOnUpload()
    {
        const int k = 12, n = 10;
        var w = Data.Random(7, k * n);
        var scales = new float[n];
        var q = new sbyte[k * n];
        for (int j = 0; j < n; j++)
        {
            float max = 0f;
            for (int i = 0; i < k; i++) max = MathF.Max(max, MathF.Abs(w[i * n + j]));
            scales[j] = max / 127f;
            for (int i = 0; i < k; i++) q[i * n + j] = (sbyte)Math.Round(w[i * n + j] / scales[j]);
        }
        var plan = new TestPlan();
        int ix = plan.Input("X", [1, 2, 6, 6]);
        int iw = plan.Weight("W", Data.Random(2, 3 * 2 * 3 * 3).Select(v => (Half)v).ToArray(), [3, 2, 3, 3], ElementType.Float16);
        int ic = plan.Arena("conv", [1, 3, 4, 4]);
        plan.Step("Conv", [ix, iw], [ic]);
        int iflat = plan.Arena("flat", [4, 12]);
        plan.Step("Reshape", [ic], [iflat]);
        int iq = plan.Weight("Q", q, [k, n], ElementType.Int8);
        int ib = plan.Weight("bias", Data.Random(8, n), [n]);
        int isc = plan.Weight("scales", scales, [n]);
        int iy = plan.Arena("Y", [4, n]);
        plan.Step("Gemm", [iflat, iq, ib, isc], [iy]);
        plan.Output(iy);
        Check(plan, Data.Random(1, 72));
    }

    #endregion

    #region Pooling and normalization

    public static TheoryData<string, int[], int[], int[], int[], bool, bool> PoolCases() => new()
    {
        // op, x, kernel, strides, pads, ceil_mode, count_include_pad
        { "MaxPool", [1, 3, 9, 9], [3, 3], [2, 2], [1, 1, 1, 1], false, false },
        { "MaxPool", [2, 2, 8, 7], [2, 2], [2, 2], [0, 0, 0, 0], true, false },
        { "AveragePool", [1, 3, 9, 9], [3, 3], [2, 2], [1, 1, 1, 1], false, false },
        { "AveragePool", [1, 3, 9, 9], [3, 3], [2, 2], [1, 1, 1, 1], false, true },
        { "AveragePool", [1, 2, 7, 8], [2, 3], [2, 2], [0, 1, 0, 1], true, true },
        { "MaxPool", [1, 2, 20], [4], [3], [1, 2], false, false },
    };

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void Pool(string op, int[] xs, int[] kernel, int[] strides, int[] pads, bool ceil, bool countPad)
    {
        int rank = xs.Length - 2;
        var ys = (int[])xs.Clone();
        for (int d = 0; d < rank; d++)
        {
            int span = xs[2 + d] + pads[d] + pads[rank + d] - kernel[d];
            int o = (ceil ? (span + strides[d] - 1) / strides[d] : span / strides[d]) + 1;
            if (ceil && (o - 1) * strides[d] >= xs[2 + d] + pads[d]) o--;
            ys[2 + d] = o;
        }
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        plan.Step(op, [ix], [iy], PlanAttribute.Ints("kernel_shape", L(kernel)), PlanAttribute.Ints("strides", L(strides)),
            PlanAttribute.Ints("pads", L(pads)), PlanAttribute.Int("ceil_mode", ceil ? 1 : 0),
            PlanAttribute.Int("count_include_pad", countPad ? 1 : 0));
        Check(plan, Data.Random(1, Data.Count(xs)));
    }

    [Theory]
    [InlineData("GlobalAveragePool")]
    [InlineData("GlobalMaxPool")]
    public void GlobalPool(string op)
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", [2, 5, 6, 7]);
        int iy = plan.Arena("Y", [2, 5, 1, 1]);
        plan.Output(iy);
        plan.Step(op, [ix], [iy]);
        Check(plan, Data.Random(1, 2 * 5 * 6 * 7));
    }

    [Fact]
    public void BatchNormalization()
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", [2, 4, 3, 5]);
        int[] parameters = new int[4];
        for (int i = 0; i < 4; i++) parameters[i] = plan.Weight($"p{i}", Data.Random(10 + i, 4, i == 3 ? 0.1f : -1f, 1.5f), [4]);
        int iy = plan.Arena("Y", [2, 4, 3, 5]);
        plan.Output(iy);
        plan.Step("BatchNormalization", [ix, .. parameters], [iy], PlanAttribute.Float("epsilon", 1e-3f));
        Check(plan, Data.Random(1, 120));
    }

    [Theory]
    [InlineData("Softmax", 13, -1)]
    [InlineData("Softmax", 13, 1)]
    [InlineData("LogSoftmax", 13, -1)]
    [InlineData("Softmax", 11, 1)]
    public void Softmax(string op, int opset, int axis)
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", [2, 3, 7]);
        int iy = plan.Arena("Y", [2, 3, 7]);
        plan.Output(iy);
        plan.Step(op, [ix], [iy], PlanAttribute.Int("axis", axis), PlanAttribute.Int("opset", opset));
        Check(plan, Data.Random(1, 42, -5f, 5f));
    }

    #endregion

    #region Elementwise

    public static TheoryData<string, int[], int[]> BinaryCases() => new()
    {
        { "Add", [2, 3, 4], [2, 3, 4] },
        { "Sub", [2, 3, 4], [4] },
        { "Mul", [2, 3, 4], [3, 1] },
        { "Div", [1, 3, 1], [2, 1, 4] },
        { "Max", [2, 3, 4], [1] },
        { "Min", [3, 4], [2, 3, 4] },
        { "Pow", [2, 3, 4], [2, 3, 4] },
        { "PRelu", [2, 3, 4, 2], [3, 1, 1] },
    };

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void Binary(string op, int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var y = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int da = d - (rank - a.Length) >= 0 ? a[d - (rank - a.Length)] : 1;
            int db = d - (rank - b.Length) >= 0 ? b[d - (rank - b.Length)] : 1;
            y[d] = Math.Max(da, db);
        }
        var plan = new TestPlan();
        int ia = plan.Input("A", a);
        int ib = op == "PRelu" ? plan.Weight("slope", Data.Random(2, Data.Count(b)), b) : plan.Input("B", b);
        int iy = plan.Arena("Y", y);
        plan.Output(iy);
        plan.Step(op, [ia, ib], [iy]);
        float lo = op == "Pow" ? 0.1f : -1f;
        var inputs = op == "PRelu"
            ? new[] { Data.Random(1, Data.Count(a)) }
            : new[] { Data.Random(1, Data.Count(a), lo, 2f), Data.Random(2, Data.Count(b), op == "Div" ? 0.5f : -1f, 2f) };
        Check(plan, inputs);
    }

    [Theory]
    [InlineData("Sum")]
    [InlineData("Mean")]
    [InlineData("Max")]
    public void Variadic(string op)
    {
        var plan = new TestPlan();
        int i0 = plan.Input("A", [2, 3]);
        int i1 = plan.Input("B", [3]);
        int i2 = plan.Input("C", [2, 1]);
        int iy = plan.Arena("Y", [2, 3]);
        plan.Output(iy);
        plan.Step(op, [i0, i1, i2], [iy]);
        Check(plan, Data.Random(1, 6), Data.Random(2, 3), Data.Random(3, 2));
    }

    [Theory]
    [InlineData("Relu")]
    [InlineData("LeakyRelu")]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    [InlineData("Clip")]
    [InlineData("Elu")]
    [InlineData("Selu")]
    [InlineData("Exp")]
    [InlineData("Log")]
    [InlineData("Sqrt")]
    [InlineData("Neg")]
    [InlineData("Abs")]
    [InlineData("Softplus")]
    [InlineData("HardSigmoid")]
    [InlineData("HardSwish")]
    [InlineData("Reciprocal")]
    public void Unary(string op)
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", [3, 50]);
        int iy = plan.Arena("Y", [3, 50]);
        plan.Output(iy);
        if (op == "Clip")
        {
            int lo = plan.Weight("min", [-0.5f], []);
            int hi = plan.Weight("max", [0.7f], []);
            plan.Step(op, [ix, lo, hi], [iy]);
        }
        else
        {
            plan.Step(op, [ix], [iy], PlanAttribute.Float("alpha", 0.3f));
        }
        bool positive = op is "Log" or "Sqrt" or "Reciprocal";
        Check(plan, Data.Random(1, 150, positive ? 0.1f : -4f, 4f));
    }

    #endregion

    #region Data movement and fallback

    [Fact]
    public void ReshapeTransposeAndConcat()
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", [2, 3, 4]);
        int iz = plan.Input("Z", [2, 2, 3]);
        int ir = plan.Arena("r", [2, 4, 3]);
        plan.Step("Reshape", [ix], [ir]);
        int it = plan.Arena("t", [2, 3, 4]);
        plan.Step("Transpose", [ir], [it], PlanAttribute.Ints("perm", 0, 2, 1));
        int it2 = plan.Arena("t2", [2, 3, 2]);
        plan.Step("Transpose", [iz], [it2], PlanAttribute.Ints("perm", 0, 2, 1));
        int iy = plan.Arena("Y", [2, 3, 6]);
        plan.Step("Concat", [it, it2], [iy], PlanAttribute.Int("axis", 2));
        plan.Output(iy);
        Check(plan, Data.Random(1, 24), Data.Random(2, 12));
    }

    [Fact]
    public void StepsWithoutDeviceKernelsRunOnTheCpuBetweenDeviceSteps()
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", [2, 3, 4]);
        int ia = plan.Arena("a", [2, 3, 4]);
        plan.Step("Relu", [ix], [ia]);
        int ir = plan.Arena("r", [2, 3, 1]);
        plan.Step("ReduceMean", [ia], [ir], PlanAttribute.Ints("axes", 2), PlanAttribute.Int("keepdims", 1)); // CPU
        int ie = plan.Arena("e", [2, 3, 1]);
        plan.Step("Erf", [ir], [ie]); // CPU
        int iy = plan.Arena("Y", [2, 3, 4]);
        plan.Step("Add", [ia, ie], [iy]);
        plan.Output(iy);
        using var weights = plan.Weights();
        var fallbacks = ModelExecutors.DeviceFallbacks(plan.Plan(), weights);
        Assert.Equal(["ReduceMean", "Erf"], fallbacks.Select(f => f.Op));
        Assert.Equal([Backend.Cpu], ModelExecutors.SupportedBackends(plan.Plan(), weights));
        Check(plan, Data.Random(1, 24));
    }

    #endregion

    #region Models

    /// <summary>An MLP as the optimizer plans it: Gemm+Relu fused, Gemm, Softmax.</summary>
    [Fact]
    public void SmallMlp()
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", [3, 20]);
        int h = plan.Arena("h", [3, 16]);
        plan.Step("Gemm", [ix, plan.Weight("W1", Data.Random(2, 16 * 20, -0.3f, 0.3f), [16, 20]), plan.Weight("b1", Data.Random(3, 16), [16])],
            [h], PlanAttribute.Int("transB", 1), PlanAttribute.String("activation", "Relu"));
        int logits = plan.Arena("logits", [3, 10]);
        plan.Step("Gemm", [h, plan.Weight("W2", Data.Random(4, 16 * 10, -0.3f, 0.3f), [16, 10]), plan.Weight("b2", Data.Random(5, 10), [10])], [logits]);
        int iy = plan.Arena("Y", [3, 10]);
        plan.Step("Softmax", [logits], [iy], PlanAttribute.Int("axis", -1));
        plan.Output(iy);
        Check(plan, Data.Random(1, 60));
    }

    /// <summary>A CNN as the optimizer plans it: Conv+Relu, MaxPool, Conv+BatchNorm folded, GlobalAveragePool, Flatten, Gemm, Softmax.</summary>
    [Fact]
    public void SmallCnn()
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", [2, 1, 12, 12]);
        int c1 = plan.Arena("c1", [2, 4, 12, 12]);
        plan.Step("Conv", [ix, plan.Weight("W1", Data.Random(2, 4 * 9), [4, 1, 3, 3]), plan.Weight("b1", Data.Random(3, 4), [4])], [c1],
            PlanAttribute.Ints("pads", 1, 1, 1, 1), PlanAttribute.String("activation", "Relu"));
        int p1 = plan.Arena("p1", [2, 4, 6, 6]);
        plan.Step("MaxPool", [c1], [p1], PlanAttribute.Ints("kernel_shape", 2, 2), PlanAttribute.Ints("strides", 2, 2));
        int c2 = plan.Arena("c2", [2, 8, 4, 4]);
        plan.Step("Conv", [p1, plan.Weight("W2", Data.Random(4, 8 * 4 * 9, -0.3f, 0.3f), [8, 4, 3, 3]), plan.Weight("b2", Data.Random(5, 8), [8])], [c2],
            PlanAttribute.String("activation", "Relu"));
        int g = plan.Arena("g", [2, 8, 1, 1]);
        plan.Step("GlobalAveragePool", [c2], [g]);
        int f = plan.Arena("f", [2, 8]);
        plan.Step("Flatten", [g], [f]);
        int logits = plan.Arena("logits", [2, 5]);
        plan.Step("Gemm", [f, plan.Weight("W3", Data.Random(6, 40), [8, 5]), plan.Weight("b3", Data.Random(7, 5), [5])], [logits]);
        int iy = plan.Arena("Y", [2, 5]);
        plan.Step("Softmax", [logits], [iy], PlanAttribute.Int("axis", 1));
        plan.Output(iy);
        Check(plan, Data.Random(1, 288));
    }

    /// <summary>
    /// A batch-polymorphic CNN (batch axis 0 on every arena slot) scaled by
    /// <see cref="ExecutionPlan.WithBatch"/> into <see cref="BatchedExecutor"/> buckets, each made by
    /// <see cref="ModelExecutors.Create"/> on this backend: 7 samples run as 4 + 2 + 1 and match the
    /// same batched run on the CPU <see cref="PlanExecutor"/>.
    /// </summary>
    [Fact]
    public void BatchedPlan()
    {
        RequireBackend();
        var test = new TestPlan();
        int ix = test.Input("X", [1, 2, 8, 8], batchAxis: 0);
        int c1 = test.Arena("c1", [1, 4, 8, 8], batchAxis: 0);
        test.Step("Conv", [ix, test.Weight("W1", Data.Random(2, 4 * 2 * 9), [4, 2, 3, 3]), test.Weight("b1", Data.Random(3, 4), [4])], [c1],
            PlanAttribute.Ints("pads", 1, 1, 1, 1), PlanAttribute.String("activation", "Relu"));
        int p1 = test.Arena("p1", [1, 4, 4, 4], batchAxis: 0);
        test.Step("MaxPool", [c1], [p1], PlanAttribute.Ints("kernel_shape", 2, 2), PlanAttribute.Ints("strides", 2, 2));
        int g = test.Arena("g", [1, 4, 1, 1], batchAxis: 0);
        test.Step("GlobalAveragePool", [p1], [g]);
        int f = test.Arena("f", [1, 4], batchAxis: 0);
        test.Step("Flatten", [g], [f]);
        int logits = test.Arena("logits", [1, 6], batchAxis: 0);
        test.Step("Gemm", [f, test.Weight("W2", Data.Random(4, 24), [4, 6]), test.Weight("b2", Data.Random(5, 6), [6])], [logits]);
        int iy = test.Arena("Y", [1, 6], batchAxis: 0);
        test.Step("Softmax", [logits], [iy], PlanAttribute.Int("axis", -1));
        test.Output(iy);
        var plan = test.Plan();
        Assert.True(plan.IsBatched);
        using var weights = test.Weights();
        const int samples = 7, inSize = 2 * 8 * 8, outSize = 6;
        var x = Data.Random(1, samples * inSize);

        using var cpu = new BatchedExecutor(plan, 8, p => new PlanExecutor(p, weights));
        var expected = RunBatch(cpu, x, samples, inSize, outSize);
        using var device = new BatchedExecutor(plan, 8, p =>
        {
            var executor = ModelExecutors.Create(p, weights, Backend, out var active, out _);
            Assert.Equal(Backend, active);
            return executor;
        });
        var actual = RunBatch(device, x, samples, inSize, outSize);
        Data.Close(expected, actual, Rel, Abs, "batch of 7");
    }

    private static float[] RunBatch(BatchedExecutor batch, float[] x, int samples, int inSize, int outSize)
    {
        var y = new float[samples * outSize];
        for (int done = 0; done < samples;)
        {
            var executor = batch.Next(samples - done, out int n);
            executor.SetInput(0, MemoryMarshal.AsBytes(x.AsSpan(done * inSize, n * inSize)));
            executor.Run();
            executor.GetOutput(0, MemoryMarshal.AsBytes(y.AsSpan(done * outSize, n * outSize)));
            done += n;
        }
        return y;
    }

    /// <summary>
    /// The device this backend runs on, in the test output (build/opencl-tests.sh echoes the
    /// OpenCL one into the CI log, so the log shows which device the suite ran on).
    /// </summary>
    [Fact]
    public void ReportsItsDevice()
    {
        RequireBackend();
        Assert.True(ModelExecutors.IsAvailable(Backend, out string found));
        Assert.False(string.IsNullOrWhiteSpace(found));
        TestContext.Current.TestOutputHelper?.WriteLine($"{Backend} device: {found}");
    }

    #endregion

    #region Executor contract

    /// <summary>
    /// A whole Predict (SetInput, Run, GetOutput) allocates no managed memory after warm-up, on
    /// every backend (issue 7). The plan has a step without a device kernel (Erf), so a device
    /// backend's CPU fallback copies are measured too. Each phase is measured on its own so a
    /// failure names it; the numbers go to the test output.
    /// </summary>
    [Fact]
    public void PredictAllocatesNothing()
    {
        RequireBackend();
        var plan = new TestPlan();
        int ix = plan.Input("X", [4, 8]);
        int h = plan.Arena("h", [4, 8]);
        plan.Step("Gemm", [ix, plan.Weight("W", Data.Random(2, 64), [8, 8])], [h], PlanAttribute.String("activation", "Relu"));
        int e = plan.Arena("e", [4, 8]);
        plan.Step("Erf", [h], [e]); // no device kernel: runs on the CPU between device steps
        int iy = plan.Arena("Y", [4, 8]);
        plan.Step("Softmax", [e], [iy], PlanAttribute.Int("axis", -1));
        plan.Output(iy);
        using var weights = plan.Weights();
        using var executor = ModelExecutors.Create(plan.Plan(), weights, Backend, out _, out _);
        var input = Data.Random(1, 32);
        var output = new float[32];
        var perPhase = new long[3];
        Measure(executor, input, output, 3, perPhase); // warm-up: JIT, first-launch caches
        Array.Clear(perPhase);
        const int calls = 20;
        Measure(executor, input, output, calls, perPhase);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{Backend}: bytes per call: SetInput {perPhase[0] / calls}, Run {perPhase[1] / calls}, GetOutput {perPhase[2] / calls}");
        Assert.Equal([0L, 0L, 0L], perPhase);
        Data.Close(plan.Run(input)[0], output, Rel, Abs);
    }

    /// <summary>
    /// Calls the three phases <paramref name="calls"/> times, adding each one's allocated bytes to
    /// <paramref name="perPhase"/>. AggressiveOptimization: a tier-0 loop that on-stack-replaces
    /// would charge the JIT's bookkeeping to the measurement.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void Measure(IModelExecutor executor, float[] input, float[] output, int calls, long[] perPhase)
    {
        for (int i = 0; i < calls; i++)
        {
            long t0 = GC.GetAllocatedBytesForCurrentThread();
            executor.SetInput(0, MemoryMarshal.AsBytes(input.AsSpan()));
            long t1 = GC.GetAllocatedBytesForCurrentThread();
            executor.Run();
            long t2 = GC.GetAllocatedBytesForCurrentThread();
            executor.GetOutput(0, MemoryMarshal.AsBytes(output.AsSpan()));
            long t3 = GC.GetAllocatedBytesForCurrentThread();
            perPhase[0] += t1 - t0;
            perPhase[1] += t2 - t1;
            perPhase[2] += t3 - t2;
        }
    }

    [Fact]
    public void WrongLengthsThrow()
    {
        RequireBackend();
        var plan = new TestPlan();
        int ix = plan.Input("X", [4]);
        int iy = plan.Arena("Y", [4]);
        plan.Step("Relu", [ix], [iy]);
        plan.Output(iy);
        using var weights = plan.Weights();
        using var executor = ModelExecutors.Create(plan.Plan(), weights, Backend, out _, out _);
        Assert.Throws<ArgumentException>(() => executor.SetInput(0, new byte[12]));
        Assert.Throws<ArgumentException>(() => executor.GetOutput(0, new byte[20]));
    }

    #endregion
}

/// <summary>The suite on ModelGen's managed SIMD kernels.</summary>
public sealed class CpuBackendTests() : BackendSuite(Backend.Cpu);

/// <summary>The device kernels on ILGPU's CPU accelerator: runs everywhere.</summary>
public sealed class IlgpuCpuBackendTests() : BackendSuite(Backend.IlgpuCpu);

/// <summary>The device kernels on OpenCL: skips without a device, except in build/opencl-tests.sh.</summary>
public sealed class OpenCLBackendTests() : BackendSuite(Backend.OpenCL);

/// <summary>The device kernels on CUDA: skips with the reason where no CUDA device exists.</summary>
public sealed class CudaBackendTests() : BackendSuite(Backend.Cuda);
