using System.Globalization;
using ModelGen.Onnx;
using ModelGen.Optimizer.Evaluation;

namespace ModelGen.Optimizer.Gate;

/// <summary>
/// Decides whether a lossy model may ship: its metric on the validation data may drop by at most
/// the budget. With the fallback on, layers are ranked by sensitivity — for each layer alone
/// returned to fp32, how much output error (MSE against the reference, a finer signal than an
/// argmax metric on a subset) remains; the least remaining error marks the most harmful layer —
/// and returned to fp32 in that order, re-evaluating after each, until the drop fits.
/// The model is built and scored by the caller's functions, so the gate is independent of how.
/// </summary>
internal static class AccuracyGate
{
    /// <param name="layers">The quantized layers, in graph order.</param>
    /// <param name="evaluate">Scores the model with the given layers kept in fp32.</param>
    /// <param name="remainingError">The output error of the model with the given layers kept in fp32 (for ranking).</param>
    /// <param name="budget">MaxAccuracyDrop as an absolute drop.</param>
    /// <param name="budgetText">MaxAccuracyDrop as the user wrote it.</param>
    /// <param name="fallback">AccuracyFallback.</param>
    /// <param name="dataName">The validation data, for the message.</param>
    /// <exception cref="OnnxException">MG1032 when the drop does not fit.</exception>
    public static GateResult Run(IReadOnlyList<string> layers, Func<IReadOnlySet<string>, EvaluationResult> evaluate,
        Func<IReadOnlySet<string>, double> remainingError, double budget, string budgetText, bool fallback, string dataName, Action<string>? log = null)
    {
        var none = new HashSet<string>(StringComparer.Ordinal);
        var initial = evaluate(none);
        log?.Invoke($"accuracy gate: all {layers.Count} layers quantized: {initial.Summary}");
        if (initial.IsWithin(budget)) return new GateResult(initial, initial, budget, Array.Empty<string>(), Array.Empty<(string, double)>());
        if (!fallback || layers.Count == 0) throw Failure(initial, initial, budget, budgetText, dataName, 0, layers.Count, fallback);

        var ranking = layers
            .Select(l => (Layer: l, RemainingMse: remainingError(new HashSet<string>(StringComparer.Ordinal) { l })))
            .OrderBy(p => double.IsNaN(p.RemainingMse) ? double.PositiveInfinity : p.RemainingMse)
            .ToList();
        var reverted = new List<string>();
        var current = initial;
        foreach (var (layer, _) in ranking)
        {
            reverted.Add(layer);
            current = evaluate(new HashSet<string>(reverted, StringComparer.Ordinal));
            log?.Invoke($"accuracy gate: {layer} back to fp32 ({reverted.Count}/{layers.Count}): {current.Summary}");
            if (current.IsWithin(budget)) return new GateResult(initial, current, budget, reverted, ranking);
        }
        throw Failure(initial, current, budget, budgetText, dataName, reverted.Count, layers.Count, fallback);
    }

    private static OnnxException Failure(EvaluationResult initial, EvaluationResult last, double budget, string budgetText, string dataName,
        int reverted, int total, bool fallback)
    {
        string after = fallback
            ? $" ({Drop(last)} after reverting {reverted} of {total} layers to fp32)"
            : " (AccuracyFallback is off)";
        string message = string.Create(CultureInfo.InvariantCulture,
            $"accuracy gate failed: {initial.Metric} {(Metric.HigherIsBetter(initial.Metric) ? "dropped" : "rose")} {Drop(initial)} " +
            $"({Score(initial, initial.ReferenceScore)} -> {Score(initial, initial.CandidateScore)}) on {initial.Samples} samples of {dataName}, " +
            $"more than MaxAccuracyDrop {budgetText}{after}. Raise MaxAccuracyDrop, use Int8Weights, or add calibration data.");
        return new OnnxException(GateErrors.AccuracyDropTooLarge, message);
    }

    /// <summary>A drop in the metric's units: percentage points for the argmax metrics.</summary>
    internal static string Drop(EvaluationResult r) => r.Metric is MetricKind.Top1 or MetricKind.Agreement
        ? string.Create(CultureInfo.InvariantCulture, $"{r.Drop * 100:F2} pp")
        : string.Create(CultureInfo.InvariantCulture, $"{r.Drop:G4}");

    internal static string Score(EvaluationResult r, double value) => r.Metric is MetricKind.Top1 or MetricKind.Agreement
        ? string.Create(CultureInfo.InvariantCulture, $"{value * 100:F2}%")
        : string.Create(CultureInfo.InvariantCulture, $"{value:G6}");
}
