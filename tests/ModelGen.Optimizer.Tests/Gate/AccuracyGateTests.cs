using ModelGen.Onnx;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Gate;

namespace ModelGen.Optimizer.Tests.Gate;

/// <summary>The gate's decisions on a model whose per-layer damage is known (drops add up).</summary>
public class AccuracyGateTests
{
    private static readonly Dictionary<string, double> s_damage = new() { ["a"] = 0.001, ["b"] = 0.02, ["c"] = 0.002 };
    private static readonly string[] s_layers = { "a", "b", "c" };

    private static EvaluationResult Evaluate(IReadOnlySet<string> keep)
    {
        double drop = s_damage.Where(kv => !keep.Contains(kv.Key)).Sum(kv => kv.Value);
        return new EvaluationResult(MetricKind.Top1, 0.99, 0.99 - drop, drop, 1000);
    }

    private static double Remaining(IReadOnlySet<string> keep) => Evaluate(keep).Drop;

    [Fact]
    public void WithinBudget_PassesWithNothingReverted()
    {
        var r = AccuracyGate.Run(s_layers, Evaluate, Remaining, 0.05, "5%", fallback: true, "val.npz");
        Assert.Empty(r.Reverted);
        Assert.Equal(0.023, r.Final.Drop, 9);
    }

    [Fact]
    public void OverBudget_WithoutFallback_FailsWithTheNumbers()
    {
        var e = Assert.Throws<OnnxException>(() => AccuracyGate.Run(s_layers, Evaluate, Remaining, 0.005, "0.5%", fallback: false, "val.npz"));
        Assert.Equal(GateErrors.AccuracyDropTooLarge, e.Code);
        Assert.StartsWith("accuracy gate failed: Top1 dropped 2.30 pp (99.00% -> 96.70%) on 1000 samples of val.npz, more than MaxAccuracyDrop 0.5%", e.Message);
    }

    [Fact]
    public void OverBudget_WithFallback_RevertsTheMostHarmfulLayerFirst_AndPasses()
    {
        var r = AccuracyGate.Run(s_layers, Evaluate, Remaining, 0.005, "0.5%", fallback: true, "val.npz");
        Assert.Equal(new[] { "b" }, r.Reverted);
        Assert.Equal(0.003, r.Final.Drop, 9);
        Assert.Equal("b", r.Sensitivity[0].Layer);
    }

    [Fact]
    public void ABudgetThatCannotBeMet_FailsAfterRevertingEveryLayer()
    {
        // The all-fp32 model itself differs from the reference by 0.001 here.
        EvaluationResult Noisy(IReadOnlySet<string> keep) => Evaluate(keep) with { Drop = Evaluate(keep).Drop + 0.001 };
        var e = Assert.Throws<OnnxException>(() => AccuracyGate.Run(s_layers, Noisy, k => Noisy(k).Drop, 0, "0", fallback: true, "val.npz"));
        Assert.Equal(GateErrors.AccuracyDropTooLarge, e.Code);
        Assert.Contains("(0.10 pp after reverting 3 of 3 layers to fp32)", e.Message);
    }
}
