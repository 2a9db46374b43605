using ModelGen.Onnx;
using ModelGen.Onnx.Ir;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// Scores candidate models (the optimized, later quantized or pruned, model run by our
/// interpreter) against the reference (ONNX Runtime on the original model) on validation data.
/// The reference is run once (<see cref="Compute"/>); each candidate is then scored with
/// <see cref="Evaluate"/> on the same samples. Metrics use the first graph output.
/// </summary>
public static class AccuracyEvaluator
{
    /// <summary>
    /// Runs the reference on the first <paramref name="maxSamples"/> samples of
    /// <paramref name="data"/> (all when null) and keeps each sample's first output.
    /// </summary>
    /// <exception cref="OnnxException">MG1023 when ONNX Runtime fails.</exception>
    public static ReferenceOutputs Compute(ValidationSet data, ReferenceRunner reference, int? maxSamples = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(reference);
        if (maxSamples is < 1) throw new ArgumentOutOfRangeException(nameof(maxSamples), maxSamples, "the sample cap must be at least 1");
        int count = Math.Min(data.Count, maxSamples ?? int.MaxValue);
        var outputs = new float[count][];
        var shapes = new int[reference.OutputNames.Count][];
        int[]? firstShape = null;
        for (int i = 0; i < count; i++)
        {
            var result = reference.Run(data.Sample(i), firstShape is null ? shapes : null);
            if (result.Length == 0)
            {
                throw new OnnxException(EvaluationErrors.ReferenceRuntimeFailed, "the model has no outputs to compare", data.Path);
            }
            outputs[i] = result[0];
            firstShape ??= shapes[0];
        }
        return new ReferenceOutputs(data, outputs, firstShape!, reference.OutputNames[0]);
    }

    /// <summary>
    /// Runs <paramref name="candidate"/> (inputs in graph order → outputs in graph order as float32)
    /// on the samples of <paramref name="reference"/> and scores it with <paramref name="metric"/>.
    /// </summary>
    /// <exception cref="OnnxException">
    /// MG1027 when Top1 is asked for data without labels or with a label outside the output's
    /// classes; MG1022 when an argmax metric is asked for an output that is not a batch-1
    /// classifier output; MG1099 when the candidate's outputs do not match the reference's.
    /// </exception>
    public static EvaluationResult Evaluate(ReferenceOutputs reference, Func<OnnxTensor[], float[][]> candidate, MetricKind metric)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(candidate);
        if (metric is MetricKind.Top1 or MetricKind.Agreement && reference.OutputShape.Count(d => d != 1) > 1)
        {
            throw new OnnxException(EvaluationErrors.DataMismatch,
                $"the {metric} metric takes the argmax of a classifier output of shape (1, K) or (K,), but the first output '{reference.OutputName}' " +
                $"has shape {ValidationSet.Describe(reference.OutputShape)}; use the Cosine, MaxAbsError or Mse metric", reference.Data.Path);
        }
        if (metric == MetricKind.Top1) CheckLabelRange(reference);
        var outputs = new float[reference.Count][];
        for (int i = 0; i < outputs.Length; i++)
        {
            var result = candidate(reference.Data.Sample(i));
            if (result.Length == 0)
            {
                throw new OnnxException(ErrorCodes.InternalError, "the candidate model returned no outputs; this is a ModelGen bug, please report it with the model");
            }
            outputs[i] = result[0];
        }
        var labels = reference.Data.Labels;
        double referenceScore = Metric.Compute(metric, reference.Outputs, reference.Outputs, labels);
        double candidateScore = Metric.Compute(metric, outputs, reference.Outputs, labels);
        double drop = Metric.HigherIsBetter(metric) ? referenceScore - candidateScore : candidateScore - referenceScore;
        return new EvaluationResult(metric, referenceScore, candidateScore, drop, outputs.Length);
    }

    /// <summary>
    /// A label at or above the classifier's class count can never be the argmax, so Top1 would
    /// silently count that sample as wrong; it means the labels belong to other data (or are
    /// 1-based). Negative labels are refused on load.
    /// </summary>
    private static void CheckLabelRange(ReferenceOutputs reference)
    {
        if (reference.Data.Labels is not { } labels) return; // Metric.Compute reports the missing labels
        long classes = reference.OutputShape.Aggregate(1L, (a, d) => a * d);
        for (int i = 0; i < reference.Count; i++)
        {
            if (labels[i] >= classes)
            {
                throw new OnnxException(EvaluationErrors.BadLabels,
                    $"label {labels[i]} of sample {i} in '{reference.Data.Path}' is out of range: the first output '{reference.OutputName}' " +
                    $"has {classes} classes (shape {ValidationSet.Describe(reference.OutputShape)}), so labels must be 0..{classes - 1}; " +
                    "check that the labels belong to this data and are 0-based", reference.Data.Path);
            }
        }
    }

    /// <summary>The candidate function for a compiled model: runs it and returns every output as float32.</summary>
    public static Func<OnnxTensor[], float[][]> Candidate(ModelInterpreter interpreter)
    {
        ArgumentNullException.ThrowIfNull(interpreter);
        return inputs =>
        {
            var outputs = interpreter.Run(inputs);
            var result = new float[outputs.Length][];
            for (int i = 0; i < outputs.Length; i++) result[i] = ElementConversion.ToFloats(outputs[i].Type, outputs[i].Data);
            return result;
        };
    }
}
