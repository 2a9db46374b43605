using ModelGen.Onnx;
using ModelGen.Onnx.Ir;

namespace ModelGen.Optimizer.Validation;

/// <summary>
/// Attributes that ONNX marks required for the operators we compile, by the opset range in which
/// they are required. A node without one is bad input (MG1015), reported before shape inference
/// or a kernel would trip over it with a less useful message.
/// </summary>
internal static class RequiredAttributes
{
    private sealed record Rule(string Op, string[] AnyOf, long FromOpset = 1, long UntilOpset = long.MaxValue);

    private static readonly Rule[] Rules =
    {
        new("Cast", new[] { "to" }),
        new("Concat", new[] { "axis" }),
        new("MaxPool", new[] { "kernel_shape" }),
        new("AveragePool", new[] { "kernel_shape" }),
        new("LpPool", new[] { "kernel_shape" }),
        new("LRN", new[] { "size" }),
        new("Constant", new[] { "value", "value_float", "value_floats", "value_int", "value_ints", "value_string", "value_strings", "sparse_value" }),
        // Attributes that later opsets moved to inputs are required only before the move.
        new("Unsqueeze", new[] { "axes" }, UntilOpset: 12),
        new("Pad", new[] { "pads" }, UntilOpset: 10),
        new("Slice", new[] { "starts" }, UntilOpset: 9),
        new("Slice", new[] { "ends" }, UntilOpset: 9),
    };

    public static void Check(OnnxModel model, string path)
    {
        long opset = model.DefaultOpset;
        foreach (var node in model.Graph.Nodes)
        {
            foreach (var rule in Rules)
            {
                if (rule.Op != node.OpType || opset < rule.FromOpset || opset > rule.UntilOpset) continue;
                if (rule.AnyOf.Any(a => node.Attr(a) is not null)) continue;
                string what = rule.AnyOf.Length == 1 ? $"attribute '{rule.AnyOf[0]}'" : $"one of the attributes {string.Join(", ", rule.AnyOf)}";
                throw new OnnxException(ErrorCodes.MissingAttribute,
                    $"node '{node.Name}' ({node.OpType}, opset {opset}) has no {what}, which ONNX requires. Fix or re-export the model.",
                    path);
            }
        }
    }
}
