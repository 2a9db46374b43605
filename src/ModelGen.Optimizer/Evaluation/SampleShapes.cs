using ModelGen.Onnx.Ir;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// Matches the shape of user data to a model input's shape and yields the per-sample shape fed
/// to the model (always batch 1 when the input has a batch dimension). Unknown (symbolic)
/// dimensions of the input match any size; a leading one is the batch dimension and becomes 1.
/// </summary>
internal static class SampleShapes
{
    /// <summary>
    /// For an array holding S samples stacked along axis 0: the per-sample shape, or null when
    /// <paramref name="data"/> fits neither <c>(S, input[1:]...)</c> (stacked along the batch axis,
    /// for an input whose first dimension is 1 or symbolic) nor <c>(S, input...)</c> (a new axis).
    /// </summary>
    public static int[]? FromStacked(Dim[] input, int[] data)
    {
        // Stacked along the batch axis: [S, C, H, W] for an input [1, C, H, W].
        if (data.Length == input.Length && input.Length > 0 && IsBatch(input[0]) && Fits(input, 1, data, 1))
        {
            var shape = (int[])data.Clone();
            shape[0] = 1;
            return shape;
        }
        // A new leading axis: [S, C, H, W] for an input [C, H, W], or [S, 1, C, H, W] for [1, C, H, W].
        if (data.Length == input.Length + 1 && Fits(input, 0, data, 1))
        {
            // A symbolic batch dimension must still hold exactly one sample per entry.
            return input.Length > 0 && !input[0].IsKnown && data[1] != 1 ? null : data[1..];
        }
        return null;
    }

    /// <summary>
    /// For one sample's tensor: the shape fed to the model, or null when it does not fit. The
    /// tensor may have the input's full shape or lack its leading batch dimension.
    /// </summary>
    public static int[]? FromSingle(Dim[] input, int[] tensor)
    {
        if (tensor.Length == input.Length && Fits(input, 0, tensor, 0))
        {
            // A symbolic batch dimension must still hold exactly one sample.
            return input.Length > 0 && !input[0].IsKnown && tensor[0] != 1 ? null : tensor;
        }
        if (tensor.Length + 1 == input.Length && IsBatch(input[0]) && Fits(input, 1, tensor, 0))
        {
            return [1, .. tensor];
        }
        return null;
    }

    /// <summary>What the data should look like, for error messages: "(S, 1, 28, 28) or (S, 1, 1, 28, 28)".</summary>
    public static string ExpectedStacked(Dim[] input)
    {
        var full = "(" + string.Join(", ", new[] { "S" }.Concat(input.Select(D))) + ")";
        if (input.Length > 0 && IsBatch(input[0]))
        {
            var batched = "(" + string.Join(", ", new[] { "S" }.Concat(input.Skip(1).Select(D))) + ")";
            return $"{batched} or {full}";
        }
        return full;
    }

    private static string D(Dim d) => d.IsKnown ? d.Value!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : d.Param ?? "?";

    private static bool IsBatch(Dim d) => !d.IsKnown || d.Value == 1;

    private static bool Fits(Dim[] input, int inputFrom, int[] data, int dataFrom)
    {
        for (int i = inputFrom, j = dataFrom; i < input.Length; i++, j++)
        {
            if (input[i].IsKnown && input[i].Value != data[j]) return false;
        }
        return true;
    }
}
