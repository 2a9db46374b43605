using ModelGen.Runtime.Kernels.Quantized;

namespace ModelGen.Runtime.Tests.Quantized;

/// <summary>
/// int8-compute Gemm, MatMul and Conv plans (attribute quant) against the formulas of
/// docs/quantization.md evaluated in plain C#. Tolerance against that reference: rel 1e-5, abs 1e-6
/// (the kernel does the same fp32 operations; only the activation functions differ, vector vs
/// scalar). Every instruction path must give bit-identical outputs.
/// </summary>
public class QuantizedKernelTests
{
    private const float Rel = 1e-5f, Abs = 1e-6f;

    public static TheoryData<int, int, int, bool, bool, string, string> GemmCases() => new()
    {
        { 1, 1, 1, false, false, "static", "" },
        { 3, 17, 33, false, false, "dynamic", "Relu" },
        { 3, 17, 33, true, true, "static", "" },
        { 7, 5, 16, false, true, "dynamic", "Sigmoid" },
        { 17, 100, 3, true, false, "static", "Clip" },
        { 33, 64, 17, false, true, "dynamic", "" },
        { 96, 256, 130, false, true, "static", "LeakyRelu" }, // 3.2M multiply-adds: the worker pool
    };

    [Theory]
    [MemberData(nameof(GemmCases))]
    public void GemmMatchesTheReferenceOnEveryPath(int m, int k, int n, bool transA, bool transB, string mode, string activation)
    {
        var a = Data.Random(m + k, m * k, -2f, 3f);
        var w = Data.Random(n + 7 * k, k * n); // logical [k, n]
        var c = Data.Random(5, n);
        Func<int, int> channel = e => e % n;
        var (qw, sw) = Int8Reference.QuantizeWeights(w, n, channel);
        var stored = transB ? Transpose(qw, k, n) : qw;
        const float sa = 5f / 255f;
        const int zp = 102;

        var outputs = Int8Reference.OnEveryIsa(() =>
        {
            var plan = new TestPlan();
            int ia = plan.Input("A", transA ? [k, m] : [m, k]);
            int ib = plan.Weight("B", stored, transB ? [n, k] : [k, n], ElementType.Int8);
            int ic = plan.Weight("C", c, [n]);
            int isc = plan.Weight("B_scales", sw, [n]);
            int iy = plan.Arena("Y", [m, n]);
            plan.Output(iy);
            var attributes = new List<PlanAttribute>
            {
                PlanAttribute.Int("transA", transA ? 1 : 0), PlanAttribute.Int("transB", transB ? 1 : 0),
                PlanAttribute.String("quant", mode), PlanAttribute.Float("beta", 0.5f),
            };
            if (mode == "static") attributes.AddRange([PlanAttribute.Float("input_scale", sa), PlanAttribute.Int("input_zero_point", zp)]);
            if (activation != "") attributes.Add(PlanAttribute.String("activation", activation));
            if (activation == "Clip") attributes.AddRange([PlanAttribute.Float("activation_min", -0.5f), PlanAttribute.Float("activation_max", 0.5f)]);
            plan.Step("Gemm", [ia, ib, ic, isc], [iy], [.. attributes]);
            return plan.Run(transA ? Transpose(a, m, k) : a)[0];
        });

        var (scale, zeroPoint) = mode == "static" ? (sa, zp) : Int8Reference.DynamicParameters(a);
        var qa = a.Select(x => Int8Reference.QuantizeActivation(x, scale, zeroPoint)).ToArray();
        var acc = Int8Reference.Accumulate(qa, qw, m, k, n, zeroPoint);
        Func<float, float> act = Activation(activation);
        var expected = acc.Select((v, i) => Int8Reference.Epilogue(v, scale, sw[i % n], 0.5f * c[i % n], act)).ToArray();
        AssertSameOnEveryPath(outputs);
        Data.Close(expected, outputs[Int8IsaSelector.Best], Rel, Abs, "int8 Gemm");

        // Against fp32 with the original weights: per element, |x·w − x̂·ŵ| ≤ |x|·sw/2 + |ŵ|·sa/2 (for x in
        // the quantization range, which both modes cover here), summed over k.
        var fp32 = Reference.MatMul2D(a, w, m, k, n);
        var dqw = Int8Reference.Dequantize(qw, sw, channel);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double bound = 1e-4;
            for (int p = 0; p < k; p++) bound += MathF.Abs(a[i * k + p]) * sw[j] / 2 + MathF.Abs(dqw[p * n + j]) * scale / 2;
            float expectedFloat = act(fp32[i * n + j] + 0.5f * c[j]);
            float got = outputs[Int8IsaSelector.Best][i * n + j];
            Assert.True(Math.Abs(got - expectedFloat) <= bound, $"({i},{j}): int8 {got} vs fp32 {expectedFloat}, bound {bound}");
        }
    }

    [Theory]
    [InlineData("static")]
    [InlineData("dynamic")]
    public void BatchedMatMulFoldsLeadingDims(string mode)
    {
        const int k = 19, n = 21;
        int[] aShape = [2, 3, 5, k];
        var a = Data.Random(11, 2 * 3 * 5 * k);
        var w = Data.Random(12, k * n);
        var bias = Data.Random(13, n);
        var (qw, sw) = Int8Reference.QuantizeWeights(w, n, e => e % n);
        var outputs = Int8Reference.OnEveryIsa(() =>
        {
            var plan = new TestPlan();
            int ia = plan.Input("A", aShape);
            int ib = plan.Weight("B", qw, [k, n], ElementType.Int8);
            int ibias = plan.Weight("bias", bias, [n]);
            int isc = plan.Weight("B_scales", sw, [n]);
            int iy = plan.Arena("Y", [2, 3, 5, n]);
            plan.Output(iy);
            plan.Step("MatMul", [ia, ib, ibias, isc], [iy], mode == "static"
                ? [PlanAttribute.String("quant", mode), PlanAttribute.Float("input_scale", 2f / 255f), PlanAttribute.Int("input_zero_point", 128)]
                : [PlanAttribute.String("quant", mode)]);
            return plan.Run(a)[0];
        });
        var (scale, zp) = mode == "static" ? (2f / 255f, 128) : Int8Reference.DynamicParameters(a);
        var qa = a.Select(x => Int8Reference.QuantizeActivation(x, scale, zp)).ToArray();
        var acc = Int8Reference.Accumulate(qa, qw, 30, k, n, zp);
        var expected = acc.Select((v, i) => Int8Reference.Epilogue(v, scale, sw[i % n], bias[i % n], x => x)).ToArray();
        AssertSameOnEveryPath(outputs);
        Data.Close(expected, outputs[Int8IsaSelector.Best], Rel, Abs, "int8 MatMul");
    }

    public static TheoryData<int, int, int, int, int, int, int, int, string> ConvCases() => new()
    {
        // batch, c, m, h, w, kernel, stride, pad, mode (group 1 unless c == m == 4 below)
        { 1, 3, 5, 7, 9, 3, 1, 1, "static" },
        { 2, 4, 6, 8, 5, 3, 2, 0, "dynamic" },
        { 1, 5, 17, 6, 6, 1, 1, 0, "static" },  // 1x1: the direct (transposed-input) path
        { 1, 8, 8, 9, 7, 3, 1, 1, "dynamic" },  // grouped below
        { 1, 16, 32, 28, 28, 3, 1, 1, "static" }, // 3.6M multiply-adds: the worker pool
        { 3, 10, 16, 14, 14, 5, 1, 2, "static" }, // 5.9M over a batch of 3: images split over the pool, each part its own buffers
        { 1, 2, 3, 12, 12, 9, 1, 4, "dynamic" },  // window rows of 9 taps: the per-tap unfold (8-byte moves take up to 8)
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void ConvMatchesTheReferenceOnEveryPath(int batch, int c, int m, int h, int wd, int kernel, int stride, int pad, string mode)
    {
        int group = c == 8 ? 4 : 1;
        int cg = c / group, mg = m / group;
        int oh = (h + 2 * pad - kernel) / stride + 1, ow = (wd + 2 * pad - kernel) / stride + 1;
        int kSize = cg * kernel * kernel;
        var x = Data.Random(c * 100 + h, batch * c * h * wd, -1f, 2f);
        var w = Data.Random(m + 3, m * kSize);
        var bias = Data.Random(m + 4, m);
        var (qw, sw) = Int8Reference.QuantizeWeights(w, m, e => e / kSize);
        const float sa = 3f / 255f;
        const int zp = 85;
        var outputs = Int8Reference.OnEveryIsa(() =>
        {
            var plan = new TestPlan();
            int ix = plan.Input("X", [batch, c, h, wd]);
            int iw = plan.Weight("W", qw, [m, cg, kernel, kernel], ElementType.Int8);
            int ib = plan.Weight("B", bias, [m]);
            int isc = plan.Weight("W_scales", sw, [m]);
            int iy = plan.Arena("Y", [batch, m, oh, ow]);
            plan.Output(iy);
            var attributes = new List<PlanAttribute>
            {
                PlanAttribute.String("quant", mode), PlanAttribute.Int("group", group), PlanAttribute.String("activation", "Relu"),
                PlanAttribute.Ints("strides", stride, stride), PlanAttribute.Ints("pads", pad, pad, pad, pad),
            };
            if (mode == "static") attributes.AddRange([PlanAttribute.Float("input_scale", sa), PlanAttribute.Int("input_zero_point", zp)]);
            plan.Step("Conv", [ix, iw, ib, isc], [iy], [.. attributes]);
            return plan.Run(x)[0];
        });
        var (scale, zeroPoint) = mode == "static" ? (sa, zp) : Int8Reference.DynamicParameters(x);
        var expected = ConvReference(x, qw, sw, bias, scale, zeroPoint, batch, c, m, h, wd, kernel, stride, pad, group);
        AssertSameOnEveryPath(outputs);
        Data.Close(expected, outputs[Int8IsaSelector.Best], Rel, Abs, "int8 Conv");
    }

    /// <summary>The int8 Conv by its formula: x quantized with (scale, zeroPoint), integer sums, then the float epilogue with Relu.</summary>
    private static float[] ConvReference(float[] x, sbyte[] qw, float[] sw, float[] bias, float scale, int zeroPoint,
        int batch, int c, int m, int h, int wd, int kernel, int stride, int pad, int group)
    {
        int cg = c / group, mg = m / group, kSize = cg * kernel * kernel;
        int oh = (h + 2 * pad - kernel) / stride + 1, ow = (wd + 2 * pad - kernel) / stride + 1;
        var qx = x.Select(v => Int8Reference.QuantizeActivation(v, scale, zeroPoint)).ToArray();
        var expected = new float[batch * m * oh * ow];
        for (int n = 0; n < batch; n++)
        for (int o = 0; o < m; o++)
        for (int i = 0; i < oh; i++)
        for (int j = 0; j < ow; j++)
        {
            long acc = 0;
            int g = o / mg;
            for (int ci = 0; ci < cg; ci++)
            for (int u = 0; u < kernel; u++)
            for (int v = 0; v < kernel; v++)
            {
                int y0 = i * stride - pad + u, x0 = j * stride - pad + v;
                if (y0 < 0 || y0 >= h || x0 < 0 || x0 >= wd) continue; // padding quantizes to zp: contributes 0
                int q = qx[((n * c + g * cg + ci) * h + y0) * wd + x0];
                acc += (q - zeroPoint) * qw[o * kSize + (ci * kernel + u) * kernel + v];
            }
            expected[((n * m + o) * oh + i) * ow + j] = Int8Reference.Epilogue(acc, scale, sw[o], bias[o], f => MathF.Max(f, 0f));
        }
        return expected;
    }

    /// <summary>
    /// Dynamic quantization picks a new zero point per call: the bordered copy the unfold reads must hold the new one in
    /// its pads (it is refilled only when the zero point changes), so a second call on a differently ranged input still
    /// matches the formula.
    /// </summary>
    [Fact]
    public void PaddedDynamicConvFollowsTheZeroPointFromCallToCall()
    {
        const int c = 3, m = 4, h = 6, wd = 7, kernel = 3, pad = 1;
        int kSize = c * kernel * kernel;
        var w = Data.Random(11, m * kSize);
        var bias = Data.Random(12, m);
        var (qw, sw) = Int8Reference.QuantizeWeights(w, m, e => e / kSize);
        var plan = new TestPlan();
        int ix = plan.Input("X", [1, c, h, wd]);
        int iw = plan.Weight("W", qw, [m, c, kernel, kernel], ElementType.Int8);
        int ib = plan.Weight("B", bias, [m]);
        int isc = plan.Weight("W_scales", sw, [m]);
        int iy = plan.Arena("Y", [1, m, h, wd]);
        plan.Output(iy);
        plan.Step("Conv", [ix, iw, ib, isc], [iy], PlanAttribute.String("quant", "dynamic"), PlanAttribute.String("activation", "Relu"),
            PlanAttribute.Ints("pads", pad, pad, pad, pad));
        using var executor = plan.Executor(out var weights);
        using var _ = weights;
        int[] zeroPoints = new int[2];
        for (int call = 0; call < 2; call++)
        {
            // Inputs in [-1, 2] and then [-3, 0.5]: zero points near 85 and 218.
            var x = call == 0 ? Data.Random(13, c * h * wd, -1f, 2f) : Data.Random(14, c * h * wd, -3f, 0.5f);
            var (scale, zeroPoint) = Int8Reference.DynamicParameters(x);
            zeroPoints[call] = zeroPoint;
            executor.SetInput<float>(0, x);
            executor.Run();
            var y = new float[m * h * wd];
            executor.GetOutput<float>(0, y);
            Data.Close(ConvReference(x, qw, sw, bias, scale, zeroPoint, 1, c, m, h, wd, kernel, 1, pad, 1), y, Rel, Abs, $"call {call}");
        }
        Assert.NotEqual(zeroPoints[0], zeroPoints[1]);
    }

    [Theory]
    [InlineData("Gemm")]
    [InlineData("Conv")]
    public void AllocatesNothingOverAThousandCalls(string op)
    {
        var plan = new TestPlan();
        int input, output;
        if (op == "Gemm")
        {
            const int m = 64, k = 256, n = 128; // 2.1M multiply-adds: the worker pool runs inside the measured calls
            input = plan.Input("A", [m, k]);
            int ib = plan.Weight("B", Enumerable.Range(0, k * n).Select(i => (sbyte)(i % 255 - 127)).ToArray(), [k, n], ElementType.Int8);
            int isc = plan.Weight("s", Data.Random(1, n, 0.01f, 0.02f), [n]);
            output = plan.Arena("Y", [m, n]);
            plan.Step("Gemm", [input, ib, -1, isc], [output], PlanAttribute.String("quant", "dynamic"));
        }
        else
        {
            input = plan.Input("X", [1, 8, 16, 16]);
            int iw = plan.Weight("W", Enumerable.Range(0, 16 * 8 * 9).Select(i => (sbyte)(i % 200 - 100)).ToArray(), [16, 8, 3, 3], ElementType.Int8);
            int isc = plan.Weight("s", Data.Random(2, 16, 0.01f, 0.02f), [16]);
            output = plan.Arena("Y", [1, 16, 16, 16]);
            plan.Step("Conv", [input, iw, -1, isc], [output], PlanAttribute.String("quant", "static"), PlanAttribute.Float("input_scale", 0.01f),
                PlanAttribute.Int("input_zero_point", 100), PlanAttribute.Ints("pads", 1, 1, 1, 1));
        }
        plan.Output(output);
        using var executor = plan.Executor(out var weights);
        using var _ = weights;
        var x = Data.Random(3, plan.Slot(input).ElementCount);
        var y = new float[plan.Slot(output).ElementCount];
        for (int i = 0; i < 10; i++) Call(executor, x, y);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) Call(executor, x, y);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated == 0, $"{allocated} bytes allocated over 1000 calls");
    }

    private static void Call(PlanExecutor executor, float[] x, float[] y)
    {
        executor.SetInput<float>(0, x);
        executor.Run();
        executor.GetOutput<float>(0, y);
    }

    internal static Func<float, float> Activation(string name) => name switch
    {
        "" => x => x,
        "Relu" => x => MathF.Max(x, 0f),
        "LeakyRelu" => x => x < 0 ? 0.01f * x : x,
        "Sigmoid" => x => 1f / (1f + MathF.Exp(-x)),
        "Clip" => x => Math.Clamp(x, -0.5f, 0.5f),
        _ => throw new ArgumentException(name),
    };

    internal static T[] Transpose<T>(T[] a, int rows, int cols)
    {
        var t = new T[a.Length];
        for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        return t;
    }

    private static void AssertSameOnEveryPath(Dictionary<Int8Isa, float[]> outputs)
    {
        var scalar = outputs[Int8Isa.Scalar];
        foreach (var (isa, y) in outputs)
        {
            for (int i = 0; i < y.Length; i++)
            {
                if (BitConverter.SingleToInt32Bits(y[i]) != BitConverter.SingleToInt32Bits(scalar[i]))
                {
                    Assert.Fail($"{isa} element {i}: {y[i]}, scalar path {scalar[i]}");
                }
            }
        }
    }
}
