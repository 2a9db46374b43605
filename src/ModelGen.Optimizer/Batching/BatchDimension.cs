using ModelGen.Onnx.Ir;

namespace ModelGen.Optimizer.Batching;

/// <summary>
/// The batch dimension of a model: the first dimension of a graph input when it is symbolic
/// (<c>dim_param</c> such as <c>N</c> or <c>batch</c>, or left unknown).
/// </summary>
internal static class BatchDimension
{
    /// <summary>True when some graph input's first dimension is symbolic.</summary>
    public static bool IsSymbolic(OnnxModel model) =>
        model.Graph.Inputs.Any(i => i.Shape is { Length: > 0 } shape && !shape[0].IsKnown);

    /// <summary>True when dimension <paramref name="axis"/> of <paramref name="input"/> is the batch.</summary>
    public static bool IsBatch(TensorInfo input, int axis) => axis == 0 && input.Shape is { Length: > 0 } shape && !shape[0].IsKnown;

    /// <summary>The name of the batch dimension (the first input's <c>dim_param</c>), or <c>N</c> when it has none.</summary>
    public static string Param(OnnxModel model) =>
        model.Graph.Inputs.Where(i => IsBatch(i, 0)).Select(i => i.Shape![0].Param).FirstOrDefault(p => !string.IsNullOrEmpty(p)) ?? "N";

    /// <summary>Gives every input's symbolic first dimension the size <paramref name="batch"/>.</summary>
    public static void Fix(OnnxModel model, int batch)
    {
        foreach (var input in model.Graph.Inputs)
        {
            if (IsBatch(input, 0)) input.Shape![0] = Dim.Of(batch);
        }
    }
}
