using System.Globalization;
using System.Text;
using System.Text.Json;
using ModelGen.Optimizer.Gate;

namespace ModelGen.Optimizer.Pruning;

/// <summary>One layer's line in the pruning report.</summary>
/// <param name="Name">The node.</param>
/// <param name="Op">Conv, Gemm or MatMul.</param>
/// <param name="Change">What was done ("filters 16 -> 8", "magnitude", "2:4", "rank 32 of 128", "inputs cut", or "none").</param>
/// <param name="Sparsity">The fraction of zero weights in the layer after (of its remaining weights).</param>
/// <param name="Rank">The rank kept by factorization (null: not factorized).</param>
/// <param name="ParamsBefore">Weights before (non-zero and zero).</param>
/// <param name="ParamsAfter">Weights after that are stored: the non-zeros of a compressed layer, all of a dense one.</param>
/// <param name="FlopsBefore">Floating-point operations per inference before (2 per multiply-add).</param>
/// <param name="FlopsAfter">The same, after, as the shipped kernels execute them.</param>
/// <param name="Format">How the weight is stored in the plan: dense, csr or nm.</param>
/// <param name="Recovery">The recovery applied and the layer's calibration output error before and after it (null: none).</param>
/// <param name="KeptWhole">Why the layer was not changed (null when it was).</param>
public sealed record PrunedLayerReport(string Name, string Op, string Change, double Sparsity, int? Rank, long ParamsBefore, long ParamsAfter,
    long FlopsBefore, long FlopsAfter, string Format, string? Recovery, string? KeptWhole);

/// <summary>What pruning and factorization did (a section of <c>Name.report.md</c> and <c>.json</c>).</summary>
public sealed class PruningReport
{
    /// <summary>The settings.</summary>
    public required PruneOptions Options { get; init; }

    /// <summary>The recovery used.</summary>
    public required RecoverMode Recover { get; init; }

    /// <summary>Every Conv, Gemm and MatMul, in graph order.</summary>
    public required IReadOnlyList<PrunedLayerReport> Layers { get; init; }

    /// <summary>The weights blob before pruning (after the lossless passes).</summary>
    public required long WeightsBytesBefore { get; init; }

    /// <summary>The weights blob after pruning (before any quantization).</summary>
    public required long WeightsBytesAfter { get; init; }

    /// <summary>The pruning gate's outcome (null: no ValidationData).</summary>
    public GateResult? Gate { get; init; }

    /// <summary>Calibration samples recovery used.</summary>
    public int CalibrationSamples { get; init; }

    /// <summary>Total weights before.</summary>
    public long ParamsBefore => Layers.Sum(l => l.ParamsBefore);

    /// <summary>Total stored weights after.</summary>
    public long ParamsAfter => Layers.Sum(l => l.ParamsAfter);

    /// <summary>Total FLOPs before.</summary>
    public long FlopsBefore => Layers.Sum(l => l.FlopsBefore);

    /// <summary>Total FLOPs after.</summary>
    public long FlopsAfter => Layers.Sum(l => l.FlopsAfter);

    /// <summary>The section as Markdown.</summary>
    public string ToMarkdown()
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append("## Pruning and factorization\n\n| | |\n|---|---|\n");
        sb.Append(c, $"| Prune | {Options.MethodText}{(Options.Method == PruneMethod.None ? "" : $", Sparsity {Options.Sparsity.ToString(c)}, {Options.Scope}")} |\n");
        sb.Append(c, $"| LowRank | {Options.LowRankText} |\n");
        sb.Append(c, $"| Recover | {Recover}{(CalibrationSamples > 0 ? $" on {CalibrationSamples} calibration samples" : "")} |\n");
        double ratio = WeightsBytesBefore == 0 ? 1 : (double)WeightsBytesAfter / WeightsBytesBefore;
        sb.Append(c, $"| Weights file | {WeightsBytesBefore:N0} B -> {WeightsBytesAfter:N0} B ({ratio * 100:F1}%) |\n");
        sb.Append(c, $"| Parameters | {ParamsBefore:N0} -> {ParamsAfter:N0} |\n");
        sb.Append(c, $"| FLOPs | {FlopsBefore:N0} -> {FlopsAfter:N0} |\n");
        if (Gate is { } g)
        {
            sb.Append(c, $"| Pruning gate | {g.Final.Summary}{(g.Reverted.Count > 0 ? $"; left whole by the fallback: {string.Join(", ", g.Reverted.Select(r => $"`{r}`"))}" : "")} |\n");
        }
        sb.Append("\n| Layer | Op | Change | Sparsity | Rank | Params | FLOPs | Format | Recovery (output error) | Left whole because |\n|---|---|---|---|---|---|---|---|---|---|\n");
        foreach (var l in Layers)
        {
            sb.Append(c, $"| `{l.Name}` | {l.Op} | {l.Change} | {l.Sparsity * 100:F1}% | {(l.Rank is { } r ? r.ToString(c) : "")} | {l.ParamsBefore:N0} -> {l.ParamsAfter:N0} | {l.FlopsBefore:N0} -> {l.FlopsAfter:N0} | {l.Format} | {l.Recovery ?? ""} | {l.KeptWhole ?? ""} |\n");
        }
        return sb.ToString();
    }

    /// <summary>Writes the section as a JSON object property <c>pruning</c>.</summary>
    public void WriteJson(Utf8JsonWriter w)
    {
        w.WriteStartObject("pruning");
        w.WriteString("prune", Options.MethodText);
        w.WriteNumber("sparsity", Options.Sparsity);
        w.WriteString("scope", Options.Scope.ToString());
        w.WriteString("lowRank", Options.LowRankText);
        w.WriteString("recover", Recover.ToString());
        w.WriteNumber("weightsBytesBefore", WeightsBytesBefore);
        w.WriteNumber("weightsBytesAfter", WeightsBytesAfter);
        w.WriteNumber("paramsBefore", ParamsBefore);
        w.WriteNumber("paramsAfter", ParamsAfter);
        w.WriteNumber("flopsBefore", FlopsBefore);
        w.WriteNumber("flopsAfter", FlopsAfter);
        w.WriteStartArray("layers");
        foreach (var l in Layers)
        {
            w.WriteStartObject();
            w.WriteString("name", l.Name);
            w.WriteString("op", l.Op);
            w.WriteString("change", l.Change);
            w.WriteNumber("sparsity", Math.Round(l.Sparsity, 6));
            if (l.Rank is { } r) w.WriteNumber("rank", r);
            else w.WriteNull("rank");
            w.WriteNumber("paramsBefore", l.ParamsBefore);
            w.WriteNumber("paramsAfter", l.ParamsAfter);
            w.WriteNumber("flopsBefore", l.FlopsBefore);
            w.WriteNumber("flopsAfter", l.FlopsAfter);
            w.WriteString("format", l.Format);
            if (l.Recovery is null) w.WriteNull("recovery");
            else w.WriteString("recovery", l.Recovery);
            if (l.KeptWhole is null) w.WriteNull("keptWhole");
            else w.WriteString("keptWhole", l.KeptWhole);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }
}
