using ModelGen.Onnx;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>The metric computations (see <see cref="MetricKind"/>), on per-sample first-output vectors.</summary>
public static class Metric
{
    /// <summary>Top1 when the data has labels, otherwise Agreement with the reference.</summary>
    public static MetricKind Default(bool hasLabels) => hasLabels ? MetricKind.Top1 : MetricKind.Agreement;

    /// <summary>True for Top1, Agreement and Cosine; false for the error metrics.</summary>
    public static bool HigherIsBetter(MetricKind kind) => kind is MetricKind.Top1 or MetricKind.Agreement or MetricKind.Cosine;

    /// <summary>Parses a metric name, case-insensitively ("top1", "agreement", "cosine", "maxabserror", "mse").</summary>
    /// <exception cref="OnnxException">MG1028 for an unknown (or empty) name.</exception>
    public static MetricKind Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string name = text.Trim();
        // Enum.TryParse also takes numbers ("2") and comma lists ("Top1,Mse"); neither names a metric.
        if (name.Length > 0 && char.IsAsciiLetter(name[0]) && !name.Contains(',')
            && Enum.TryParse<MetricKind>(name, ignoreCase: true, out var kind) && Enum.IsDefined(kind))
        {
            return kind;
        }
        throw new OnnxException(EvaluationErrors.UnknownMetric,
            $"unknown accuracy metric '{text}'; set Metric to one of {string.Join(", ", Enum.GetNames<MetricKind>())} (or leave it out: Top1 with labels, else Agreement)");
    }

    /// <summary>
    /// Scores <paramref name="outputs"/> (one first-output vector per sample). Top1 needs
    /// <paramref name="labels"/>; the other metrics compare with <paramref name="reference"/>.
    /// </summary>
    /// <exception cref="OnnxException">MG1027 when Top1 has no labels; MG1099 when vector lengths differ (a ModelGen bug).</exception>
    public static double Compute(MetricKind kind, IReadOnlyList<float[]> outputs, IReadOnlyList<float[]> reference, int[]? labels)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(reference);
        int n = outputs.Count;
        if (n == 0) throw new ArgumentException("no samples to score", nameof(outputs));
        if (reference.Count != n) throw new ArgumentException($"{n} outputs but {reference.Count} reference outputs", nameof(reference));
        for (int i = 0; i < n; i++)
        {
            if (outputs[i].Length != reference[i].Length)
            {
                throw new OnnxException(ErrorCodes.InternalError,
                    $"sample {i}: the candidate's first output has {outputs[i].Length} values, the reference's has {reference[i].Length}; " +
                    "this is a ModelGen bug, please report it with the model");
            }
        }
        switch (kind)
        {
            case MetricKind.Top1:
                if (labels is null)
                {
                    throw new OnnxException(EvaluationErrors.BadLabels,
                        "the Top1 metric needs labels: add an integer array 'labels' (one class per sample) to the validation data, or use the Agreement metric");
                }
                if (labels.Length < n) throw new ArgumentException($"{labels.Length} labels for {n} samples", nameof(labels));
                int correct = 0;
                for (int i = 0; i < n; i++) if (ArgMax(outputs[i]) == labels[i]) correct++;
                return (double)correct / n;
            case MetricKind.Agreement:
                int agree = 0;
                for (int i = 0; i < n; i++) if (ArgMax(outputs[i]) == ArgMax(reference[i])) agree++;
                return (double)agree / n;
            case MetricKind.Cosine:
                double sum = 0;
                for (int i = 0; i < n; i++) sum += Cosine(outputs[i], reference[i]);
                return sum / n;
            case MetricKind.MaxAbsError:
                double max = 0;
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < outputs[i].Length; j++)
                    {
                        double d = Math.Abs((double)outputs[i][j] - reference[i][j]);
                        // NaN must not hide: Math.Max propagates it.
                        max = Math.Max(max, d);
                    }
                }
                return max;
            case MetricKind.Mse:
                double squares = 0;
                long count = 0;
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < outputs[i].Length; j++)
                    {
                        double d = (double)outputs[i][j] - reference[i][j];
                        squares += d * d;
                    }
                    count += outputs[i].Length;
                }
                return count == 0 ? 0 : squares / count;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, "unknown metric");
        }
    }

    /// <summary>
    /// Index of the largest value of a batch-1 classifier output (<c>[K]</c> or <c>[1,K]</c>, so the
    /// flat vector is the last axis); the first one on ties; NaN never wins.
    /// </summary>
    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = -1;
        for (int i = 0; i < values.Length; i++)
        {
            if (float.IsNaN(values[i])) continue;
            if (best < 0 || values[i] > values[best]) best = i;
        }
        return best;
    }

    /// <summary>
    /// Cosine similarity in double precision. Two all-zero vectors are identical (1); one
    /// all-zero vector against a non-zero one shares no direction (0).
    /// </summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            dot += (double)a[i] * b[i];
            na += (double)a[i] * a[i];
            nb += (double)b[i] * b[i];
        }
        if (na == 0 && nb == 0) return 1;
        if (na == 0 || nb == 0) return 0;
        return dot / (Math.Sqrt(na) * Math.Sqrt(nb));
    }
}
