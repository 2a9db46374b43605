namespace ModelGen.Runtime.Tests.Quantized;

/// <summary>
/// float16 weights and int8 weight-only plans run the fp32 kernels on weights converted once per
/// <see cref="ModelWeights"/>: they must equal the fp32 plan given the converted weights exactly
/// (same kernels, same fp32 values), and every executor of one model must share the conversion.
/// </summary>
public class ReducedPrecisionWeightTests
{
    [Fact]
    public void Float16ConvGemmAndBatchNormEqualFp32WithWidenedWeights()
    {
        var w = Data.Random(1, 6 * 3 * 3 * 3).Select(v => (Half)v).ToArray();
        var b = Data.Random(2, 6).Select(v => (Half)v).ToArray();
        var scale = Data.Random(3, 6, 0.5f, 1.5f).Select(v => (Half)v).ToArray();
        var g = Data.Random(4, 6 * 5 * 5 * 10).Select(v => (Half)v).ToArray();
        var x = Data.Random(5, 2 * 3 * 7 * 7);
        var half = Build(ElementType.Float16, w, b, scale, g);
        var full = Build(ElementType.Float, Widen(w), Widen(b), Widen(scale), Widen(g));
        Assert.Equal(full.Run(x)[0], half.Run(x)[0]);
    }

    private static TestPlan Build<T>(ElementType type, T[] w, T[] b, T[] scale, T[] g) where T : unmanaged
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", [2, 3, 7, 7]);
        int iw = plan.Weight("W", w, [6, 3, 3, 3], type);
        int ib = plan.Weight("B", b, [6], type);
        int iconv = plan.Arena("conv", [2, 6, 5, 5]);
        plan.Step("Conv", [ix, iw, ib], [iconv], PlanAttribute.String("activation", "Relu"));
        int iscale = plan.Weight("scale", scale, [6], type);
        int ibias = plan.Weight("bias", b, [6], type);
        int imean = plan.Weight("mean", b, [6], type);
        int ivar = plan.Weight("var", scale, [6], type);
        int ibn = plan.Arena("bn", [2, 6, 5, 5]);
        plan.Step("BatchNormalization", [iconv, iscale, ibias, imean, ivar], [ibn]);
        int iflat = plan.Arena("flat", [2, 150]);
        plan.Step("Flatten", [ibn], [iflat]);
        int ig = plan.Weight("G", g, [150, 10], type);
        int iy = plan.Arena("Y", [2, 10]);
        plan.Step("Gemm", [iflat, ig], [iy]);
        plan.Output(iy);
        return plan;
    }

    private static float[] Widen(Half[] h) => h.Select(v => (float)v).ToArray();

    public static TheoryData<string, bool> WeightOnlyCases() => new()
    {
        { "Gemm", false }, { "Gemm", true }, { "MatMul", false }, { "Conv", false },
    };

    [Theory]
    [MemberData(nameof(WeightOnlyCases))]
    public void Int8WeightOnlyEqualsFp32WithDequantizedWeights(string op, bool transB)
    {
        const int k = 12, n = 10;
        var w = Data.Random(7, k * n);
        int[] wShape = op switch
        {
            "Conv" => [n, 3, 2, 2],
            _ => transB ? [n, k] : [k, n],
        };
        Func<int, int> channel = op == "Conv" || transB ? e => e / k : e => e % n;
        var (q, s) = Int8Reference.QuantizeWeights(w, n, channel);
        var dq = Int8Reference.Dequantize(q, s, channel);
        var bias = Data.Random(8, n);
        var x = Data.Random(9, op == "Conv" ? 2 * 3 * 4 * 4 : 5 * k);

        TestPlan Build(bool quantized)
        {
            var plan = new TestPlan();
            int ix = op == "Conv" ? plan.Input("X", [2, 3, 4, 4]) : plan.Input("A", [5, k]);
            int iw = quantized ? plan.Weight("W", q, wShape, ElementType.Int8) : plan.Weight("W", dq, wShape);
            int ib = plan.Weight("bias", bias, [n]);
            int iy = plan.Arena("Y", op == "Conv" ? [2, n, 3, 3] : [5, n]);
            int[] inputs = quantized ? [ix, iw, ib, plan.Weight("scales", s, [n])] : [ix, iw, ib];
            plan.Step(op, inputs, [iy], PlanAttribute.Int("transB", transB ? 1 : 0));
            plan.Output(iy);
            return plan;
        }
        Assert.Equal(Build(false).Run(x)[0], Build(true).Run(x)[0]);
    }

    [Fact]
    public void ExecutorsOfOneModelShareTheConvertedWeights()
    {
        var plan = new TestPlan();
        int ia = plan.Input("A", [2, 4]);
        int ib = plan.Weight("B", Data.Random(1, 12).Select(v => (Half)v).ToArray(), [4, 3], ElementType.Float16);
        int ic = plan.Weight("C", new sbyte[] { 1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12 }, [3, 4], ElementType.Int8);
        int isc = plan.Weight("C_scales", new[] { 0.1f, 0.2f, 0.3f, 0.4f }, [4]);
        int ih = plan.Arena("H", [2, 3]);
        int iy = plan.Arena("Y", [2, 4]);
        plan.Step("MatMul", [ia, ib], [ih]);
        plan.Step("MatMul", [ih, ic, -1, isc], [iy]);
        plan.Output(iy);
        using var weights = plan.Weights();
        var built = plan.Plan();
        var x = Data.Random(2, 8);
        var y1 = new float[8];
        var y2 = new float[8];
        using (var first = new PlanExecutor(built, weights))
        {
            Assert.Equal(2, weights.DerivedCount); // the float16 B and the dequantized C
            using var second = new PlanExecutor(built, weights);
            Assert.Equal(2, weights.DerivedCount); // reused, not converted again
            first.SetInput<float>(0, x);
            first.Run();
            first.GetOutput<float>(0, y1);
            second.SetInput<float>(0, x);
            second.Run();
            second.GetOutput<float>(0, y2);
        }
        Assert.Equal(y1, y2);
        var parallel = Enumerable.Range(0, 8).AsParallel().Select(_ => new PlanExecutor(built, weights)).ToList();
        Assert.Equal(2, weights.DerivedCount);
        parallel.ForEach(e => e.Dispose());
    }
}
