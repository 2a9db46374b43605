namespace ModelGen.Runtime.Tests.Quantized;

/// <summary>Malformed quantized steps fail at bind time with a ModelGenException that names the step and says what is wrong.</summary>
public class QuantizedErrorTests
{
    public static TheoryData<string, string> Cases() => new()
    {
        { "no-scales", "has no scales" },
        { "no-scales-quant", "has no scales" },
        { "short-scales", "have 3 values" },
        { "int-scales", "must be float" },
        { "zero-scale", "finite and positive" },
        { "no-input-scale", "needs attribute input_scale" },
        { "bad-zero-point", "outside 0..255" },
        { "bad-mode", "quant='int4' is not supported" },
        { "quant-on-add", "only supported on Conv, Gemm and MatMul" },
        { "batched-weight", "2-D weight B" },
        { "int8-bias", "only the weight (input 1)" },
        { "gemm-full-c", "C as a scalar, [N] or [1,N]" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BadStepFailsNamingIt(string what, string message)
    {
        var plan = new TestPlan();
        int ia = plan.Input("A", [2, 4]);
        int ib = plan.Weight("B", new sbyte[20], what == "batched-weight" ? [1, 4, 5] : [4, 5], ElementType.Int8);
        int isc = what switch
        {
            "short-scales" => plan.Weight("s", new[] { 1f, 1f, 1f }, [3]),
            "int-scales" => plan.Weight("s", new int[5], [5], ElementType.Int32),
            "zero-scale" => plan.Weight("s", new[] { 1f, 0f, 1f, 1f, 1f }, [5]),
            _ => plan.Weight("s", new[] { 1f, 1f, 1f, 1f, 1f }, [5]),
        };
        int iy = plan.Arena("Y", what == "batched-weight" ? [1, 2, 5] : [2, 5]);
        plan.Output(iy);
        var quant = PlanAttribute.String("quant", what == "bad-mode" ? "int4" : what == "no-input-scale" ? "static" : "dynamic");
        switch (what)
        {
            case "no-scales": plan.Step("Gemm", [ia, ib], [iy]); break;
            case "no-scales-quant": plan.Step("Gemm", [ia, ib], [iy], quant); break;
            case "bad-zero-point":
                plan.Step("Gemm", [ia, ib, -1, isc], [iy], PlanAttribute.String("quant", "static"), PlanAttribute.Float("input_scale", 0.1f), PlanAttribute.Int("input_zero_point", 300));
                break;
            case "quant-on-add": plan.Step("Add", [ia, ia], [plan.Arena("Z", [2, 4])], quant); break;
            case "int8-bias": plan.Step("Gemm", [ia, plan.Weight("W", Data.Random(1, 20), [4, 5]), ib, isc], [iy]); break;
            case "gemm-full-c": plan.Step("Gemm", [ia, ib, plan.Weight("C", new float[10], [2, 5]), isc], [iy], quant); break;
            case "short-scales" or "int-scales" or "zero-scale": plan.Step("Gemm", [ia, ib, -1, isc], [iy]); break;
            case "batched-weight": plan.Step("MatMul", [ia, ib, -1, isc], [iy], quant); break;
            default: plan.Step("Gemm", [ia, ib, -1, isc], [iy], quant); break;
        }
        using var weights = plan.Weights();
        var e = Assert.Throws<ModelGenException>(() => new PlanExecutor(plan.Plan(), weights));
        Assert.Contains("Step 0 (", e.Message);
        Assert.Contains(message, e.Message);
    }
}
