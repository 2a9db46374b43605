using System.Globalization;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>The score of one candidate against the reference.</summary>
/// <param name="Metric">The metric used.</param>
/// <param name="ReferenceScore">The reference model's own score (1 for Agreement/Cosine, 0 for the error metrics).</param>
/// <param name="CandidateScore">The candidate's score.</param>
/// <param name="Drop">How much worse the candidate is: reference − candidate for higher-is-better metrics,
/// candidate − reference for the error metrics; positive = worse.</param>
/// <param name="Samples">Number of samples evaluated.</param>
public sealed record EvaluationResult(MetricKind Metric, double ReferenceScore, double CandidateScore, double Drop, int Samples)
{
    /// <summary>Whether the drop is within <paramref name="budget"/> (an absolute drop from <see cref="AccuracyBudget.Parse"/>).</summary>
    public bool IsWithin(double budget) => !double.IsNaN(Drop) && Drop <= budget + 1e-12;

    /// <summary>One line for the build log, e.g. "Top1 98.90% -> 98.70% (drop 0.20 pp) on 10000 samples".</summary>
    public string Summary => Metric switch
    {
        MetricKind.Top1 or MetricKind.Agreement =>
            Format($"{Metric} {ReferenceScore * 100:F2}% -> {CandidateScore * 100:F2}% (drop {Drop * 100:F2} pp) on {Samples} samples"),
        MetricKind.Cosine =>
            Format($"{Metric} {ReferenceScore:F6} -> {CandidateScore:F6} (drop {Drop:G3}) on {Samples} samples"),
        _ => Format($"{Metric} {ReferenceScore:G3} -> {CandidateScore:G3} (increase {Drop:G3}) on {Samples} samples"),
    };

    /// <inheritdoc />
    public override string ToString() => Summary;

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
