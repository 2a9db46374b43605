using System.Globalization;
using System.Text;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Gate;

namespace ModelGen.Optimizer.Quantization;

/// <summary>One layer's line in the report.</summary>
/// <param name="Name">The node.</param>
/// <param name="Op">Conv, Gemm or MatMul.</param>
/// <param name="WeightBefore">The weight's element type before (float).</param>
/// <param name="WeightAfter">The weight's element type in the plan that ships.</param>
/// <param name="Activation">Static int8: the activation range, scale and zero point; dynamic: "per call".</param>
/// <param name="KeptFp32">Why the layer stayed fp32 (null when it was quantized).</param>
/// <param name="BiasCorrected">Whether the bias was corrected.</param>
public sealed record LayerReport(string Name, string Op, string WeightBefore, string WeightAfter, string? Activation, string? KeptFp32, bool BiasCorrected);

/// <summary>What the quantization did and what the accuracy gate measured (also written as <c>Name.report.md</c>).</summary>
public sealed class QuantizationReport
{
    /// <summary>The mode.</summary>
    public required QuantizeMode Mode { get; init; }

    /// <summary>The calibration method (static int8 only).</summary>
    public CalibrationMethod? Calibration { get; init; }

    /// <summary>The clipping percentile (Percentile calibration only).</summary>
    public double? Percentile { get; init; }

    /// <summary>The layers considered, in graph order.</summary>
    public required IReadOnlyList<LayerReport> Layers { get; init; }

    /// <summary>The fp32 weights blob's size.</summary>
    public required long WeightsBytesBefore { get; init; }

    /// <summary>The shipped weights blob's size.</summary>
    public required long WeightsBytesAfter { get; init; }

    /// <summary>The gate's outcome; null when built without a gate (AllowUngated).</summary>
    public GateResult? Gate { get; init; }

    /// <summary>MaxAccuracyDrop as written.</summary>
    public required string BudgetText { get; init; }

    /// <summary>The validation data (null: none).</summary>
    public string? ValidationData { get; init; }

    /// <summary>The calibration data (null: none).</summary>
    public string? CalibrationData { get; init; }

    /// <summary>Samples calibration ran on.</summary>
    public int CalibrationSamples { get; init; }

    /// <summary>Time spent calibrating.</summary>
    public TimeSpan CalibrationTime { get; init; }

    /// <summary>Time spent evaluating (reference and candidates, fallback included).</summary>
    public TimeSpan EvaluationTime { get; init; }

    /// <summary>What pruning and factorization did, when they ran (a section of its own in both forms of the report).</summary>
    public Pruning.PruningReport? Pruning { get; internal set; }

    /// <summary>
    /// The report as indented JSON (UTF-8 text), the schema of docs/quantization.md:
    /// <paramref name="name"/> is the model's name, <paramref name="source"/> the source model's file name.
    /// </summary>
    public string ToJson(string name, string source) =>
        System.Text.Encoding.UTF8.GetString(QuantizationReportJson.ToUtf8(this, name, source));

    /// <summary>The report as Markdown (fits a CI job summary).</summary>
    public string ToMarkdown(string name)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(c, $"# ModelGen: {name} ({Mode})\n\n");
        sb.Append(c, $"| | |\n|---|---|\n");
        sb.Append(c, $"| Quantize | {Mode} |\n");
        if (Calibration is { } m)
        {
            sb.Append(c, $"| Calibration | {m}{(Percentile is { } p ? $" ({p.ToString(c)}th percentile)" : "")} on {CalibrationSamples} samples of `{CalibrationData}` |\n");
        }
        double ratio = WeightsBytesBefore == 0 ? 1 : (double)WeightsBytesAfter / WeightsBytesBefore;
        sb.Append(c, $"| Weights | {WeightsBytesBefore:N0} B -> {WeightsBytesAfter:N0} B ({ratio * 100:F1}%) |\n");
        if (Gate is { } g)
        {
            sb.Append(c, $"| Metric | {g.Final.Metric} on {g.Final.Samples} samples of `{ValidationData}` |\n");
            sb.Append(c, $"| Reference (ONNX Runtime, original) | {AccuracyGate.Score(g.Final, g.Final.ReferenceScore)} |\n");
            sb.Append(c, $"| Candidate (ModelGen, shipped plan) | {AccuracyGate.Score(g.Final, g.Final.CandidateScore)} |\n");
            sb.Append(c, $"| Drop / budget | {AccuracyGate.Drop(g.Final)} / {BudgetText} |\n");
            if (g.Reverted.Count > 0)
            {
                sb.Append(c, $"| All layers quantized | {AccuracyGate.Score(g.Initial, g.Initial.CandidateScore)} (drop {AccuracyGate.Drop(g.Initial)}) |\n");
                sb.Append(c, $"| Returned to fp32 by the fallback | {string.Join(", ", g.Reverted.Select(r => $"`{r}`"))} |\n");
            }
        }
        else
        {
            sb.Append("| Accuracy gate | **none** (AllowUngated): the accuracy of this model was not checked |\n");
        }
        sb.Append(c, $"| Time | calibration {CalibrationTime.TotalSeconds:F2} s, evaluation {EvaluationTime.TotalSeconds:F2} s |\n\n");
        // A report made only for pruning (Quantize=None) has no quantized layers to list.
        if (Layers.Count > 0 || Pruning is null) sb.Append("| Layer | Op | Weight | Activation | Bias corrected | Kept fp32 because |\n|---|---|---|---|---|---|\n");
        foreach (var l in Layers)
        {
            sb.Append(c, $"| `{l.Name}` | {l.Op} | {l.WeightBefore} -> {l.WeightAfter} | {l.Activation ?? "fp32"} | {(l.BiasCorrected ? "yes" : "no")} | {l.KeptFp32 ?? ""} |\n");
        }
        if (Pruning is not null) sb.Append('\n').Append(Pruning.ToMarkdown());
        return sb.ToString();
    }
}
