using ModelGen.Runtime;

namespace ModelGen.Runtime.Tests;

/// <summary>Gemm and MatMul against a double-accumulating reference. Tolerance: rel 1e-4, abs 1e-5 (fp32 FMA vs double sums).</summary>
public class GemmTests
{
    private const float Rel = 1e-4f, Abs = 1e-5f;

    public static TheoryData<int, int, int, bool, bool, bool> GemmCases() => new()
    {
        { 1, 1, 1, false, false, false },
        { 3, 17, 33, false, false, true },
        { 3, 17, 33, true, false, false },
        { 7, 5, 16, false, true, true },
        { 17, 100, 3, true, true, false },
        { 33, 64, 17, false, true, true },
        { 100, 33, 47, true, true, true },
        { 128, 256, 130, false, true, true }, // 4.2M multiply-adds: runs on the worker pool
    };

    [Theory]
    [MemberData(nameof(GemmCases))]
    public void GemmMatchesReference(int m, int k, int n, bool transA, bool transB, bool weightB)
    {
        var a = Data.Random(m * 31 + k, m * k);
        var b = Data.Random(n * 17 + k, k * n);
        var c = Data.Random(5, n);
        var plan = new TestPlan();
        int ia = plan.Input("A", transA ? [k, m] : [m, k]);
        int ib = weightB ? plan.Weight("B", b, transB ? [n, k] : [k, n]) : plan.Input("B", transB ? [n, k] : [k, n]);
        int ic = plan.Weight("C", c, [n]);
        int iy = plan.Arena("Y", [m, n]);
        plan.Output(iy);
        plan.Step("Gemm", [ia, ib, ic], [iy], PlanAttribute.Int("transA", transA ? 1 : 0), PlanAttribute.Int("transB", transB ? 1 : 0),
            PlanAttribute.Float("alpha", 0.5f), PlanAttribute.Float("beta", 2f));
        var y = weightB ? plan.Run(a)[0] : plan.Run(a, b)[0];
        var expected = Reference.MatMul2D(a, b, m, k, n, transA, transB);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) expected[i * n + j] = 0.5f * expected[i * n + j] + 2f * c[j];
        Data.Close(expected, y, Rel, Abs);
    }

    public static TheoryData<int[], bool> CShapes() => new()
    {
        { [], true }, { [1], false }, { [19], true }, { [1, 19], false }, { [11, 1], true }, { [11, 19], false }, { [11, 19], true },
    };

    [Theory]
    [MemberData(nameof(CShapes))]
    public void GemmBroadcastsC(int[] cShape, bool cIsWeight)
    {
        const int m = 11, k = 9, n = 19;
        var a = Data.Random(1, m * k);
        var b = Data.Random(2, k * n);
        var c = Data.Random(3, Data.Count(cShape));
        var plan = new TestPlan();
        int ia = plan.Input("A", [m, k]);
        int ic = cIsWeight ? plan.Weight("C", c, cShape) : plan.Input("C", cShape);
        int ib = plan.Weight("B", b, [k, n]);
        int iy = plan.Arena("Y", [m, n]);
        plan.Output(iy);
        plan.Step("Gemm", [ia, ib, ic], [iy], PlanAttribute.Float("beta", 0.25f));
        var y = cIsWeight ? plan.Run(a)[0] : plan.Run(a, c)[0];
        var ab = Reference.MatMul2D(a, b, m, k, n);
        var expected = Reference.Broadcast(ab, [m, n], c, cShape, [m, n], (x, cv) => x + 0.25f * cv);
        Data.Close(expected, y, Rel, Abs);
    }

    [Theory]
    [InlineData("Relu")]
    [InlineData("LeakyRelu")]
    [InlineData("Sigmoid")]
    [InlineData("Clip")]
    [InlineData("Tanh")]
    public void GemmAppliesFusedActivation(string activation)
    {
        const int m = 13, k = 21, n = 35;
        var a = Data.Random(7, m * k, -2, 2);
        var b = Data.Random(8, k * n);
        var plan = new TestPlan();
        int ia = plan.Input("A", [m, k]);
        int ib = plan.Weight("B", b, [k, n]);
        int iy = plan.Arena("Y", [m, n]);
        plan.Output(iy);
        plan.Step("Gemm", [ia, ib], [iy], PlanAttribute.String("activation", activation), PlanAttribute.Float("activation_alpha", 0.2f),
            PlanAttribute.Float("activation_min", -0.5f), PlanAttribute.Float("activation_max", 0.75f));
        var y = plan.Run(a)[0];
        Func<float, float> f = activation switch
        {
            "Relu" => v => Math.Max(v, 0),
            "LeakyRelu" => v => v >= 0 ? v : 0.2f * v,
            "Sigmoid" => v => 1f / (1f + MathF.Exp(-v)),
            "Clip" => v => Math.Clamp(v, -0.5f, 0.75f),
            _ => MathF.Tanh,
        };
        var expected = Reference.MatMul2D(a, b, m, k, n).Select(f).ToArray();
        Data.Close(expected, y, Rel, Abs);
    }

    public static TheoryData<int[], int[], int[], bool> MatMulCases() => new()
    {
        { [3, 5], [5, 7], [3, 7], false },
        { [5], [5, 7], [7], true },
        { [3, 5], [5], [3], false },
        { [5], [5], [], false },
        { [2, 3, 17, 33], [33, 9], [2, 3, 17, 9], true },
        { [2, 1, 4, 6], [3, 6, 5], [2, 3, 4, 5], false },
        { [2, 1, 4, 6], [3, 6, 5], [2, 3, 4, 5], true },
        { [4, 6], [2, 6, 5], [2, 4, 5], true },
        { [1, 100, 130], [130, 100], [1, 100, 100], true }, // 1.3M multiply-adds: worker pool
    };

    [Theory]
    [MemberData(nameof(MatMulCases))]
    public void MatMulMatchesNumpyRules(int[] aShape, int[] bShape, int[] yShape, bool weightB)
    {
        var a = Data.Random(11, Data.Count(aShape));
        var b = Data.Random(12, Data.Count(bShape));
        var plan = new TestPlan();
        int ia = plan.Input("A", aShape);
        int ib = weightB ? plan.Weight("B", b, bShape) : plan.Input("B", bShape);
        int iy = plan.Arena("Y", yShape);
        plan.Output(iy);
        plan.Step("MatMul", [ia, ib], [iy]);
        var y = weightB ? plan.Run(a)[0] : plan.Run(a, b)[0];
        Data.Close(MatMulReference(a, aShape, b, bShape, yShape), y, Rel, Abs);
    }

    [Fact]
    public void MatMulAddsFusedBiasAndActivation()
    {
        const int m = 9, k = 23, n = 18;
        var a = Data.Random(1, 2 * m * k, -2, 2);
        var b = Data.Random(2, k * n);
        var bias = Data.Random(3, n);
        var plan = new TestPlan();
        int ia = plan.Input("A", [2, m, k]);
        int ib = plan.Weight("B", b, [k, n]);
        int ibias = plan.Weight("bias", bias, [n]);
        int iy = plan.Arena("Y", [2, m, n]);
        plan.Output(iy);
        plan.Step("MatMul", [ia, ib, ibias], [iy], PlanAttribute.String("activation", "Relu"));
        var y = plan.Run(a)[0];
        var expected = MatMulReference(a, [2, m, k], b, [k, n], [2, m, n]);
        for (int i = 0; i < expected.Length; i++) expected[i] = Math.Max(0, expected[i] + bias[i % n]);
        Data.Close(expected, y, Rel, Abs);
    }

    /// <summary>numpy.matmul from the definition: promote 1-D, broadcast batches, drop promoted dims.</summary>
    private static float[] MatMulReference(float[] a, int[] aShape, float[] b, int[] bShape, int[] yShape)
    {
        int[] a2 = aShape.Length == 1 ? [1, aShape[0]] : aShape;
        int[] b2 = bShape.Length == 1 ? [bShape[0], 1] : bShape;
        int m = a2[^2], k = a2[^1], n = b2[^1];
        int batchRank = Math.Max(a2.Length, b2.Length) - 2;
        var batch = new int[batchRank];
        for (int d = 0; d < batchRank; d++)
        {
            int ia = d - (batchRank - (a2.Length - 2)), ib = d - (batchRank - (b2.Length - 2));
            batch[d] = Math.Max(ia >= 0 ? a2[ia] : 1, ib >= 0 ? b2[ib] : 1);
        }
        int batches = Data.Count(batch);
        var y = new float[batches * m * n];
        for (int t = 0; t < batches; t++)
        {
            var index = batchRank == 0 ? [] : Reference.Unravel(t, batch);
            int oa = Reference.BroadcastOffset(index, a2[..^2]) * m * k;
            int ob = Reference.BroadcastOffset(index, b2[..^2]) * k * n;
            var r = Reference.MatMul2D(a[oa..(oa + m * k)], b[ob..(ob + k * n)], m, k, n);
            r.CopyTo(y, t * m * n);
        }
        Assert.Equal(Data.Count(yShape), y.Length);
        return y;
    }
}
