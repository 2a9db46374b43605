namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// The reference's first-output vector for every evaluated sample, computed once by
/// <see cref="AccuracyEvaluator.Compute"/> and reused for every candidate (the gate tries several).
/// </summary>
public sealed class ReferenceOutputs
{
    internal ReferenceOutputs(ValidationSet data, float[][] outputs, int[] outputShape, string outputName)
    {
        Data = data;
        Outputs = outputs;
        OutputShape = outputShape;
        OutputName = outputName;
    }

    /// <summary>The validation data the outputs were computed on.</summary>
    public ValidationSet Data { get; }

    /// <summary>Number of samples evaluated (the whole set, or the cap).</summary>
    public int Count => Outputs.Count;

    /// <summary>The reference's first output per sample, as float32.</summary>
    public IReadOnlyList<float[]> Outputs { get; }

    /// <summary>The shape of the first output (of the first sample).</summary>
    public int[] OutputShape { get; }

    /// <summary>The name of the first graph output.</summary>
    public string OutputName { get; }
}
