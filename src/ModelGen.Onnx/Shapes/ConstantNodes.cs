using System.Runtime.InteropServices;
using ModelGen.Onnx.Ir;

namespace ModelGen.Onnx.Shapes;

/// <summary>The value of a Constant node, whichever attribute holds it.</summary>
internal static class ConstantNodes
{
    public static OnnxTensor Value(OnnxNode node)
    {
        string name = node.Outputs.Count > 0 ? node.Outputs[0] : node.Name;
        if (node.Attributes.Count != 1)
        {
            throw new OnnxException(ErrorCodes.InvalidGraph,
                $"Constant node {node} must have exactly one value attribute, it has {node.Attributes.Count} ({string.Join(", ", node.Attributes.Keys)}); re-export the model");
        }
        var a = node.Attributes.Values.First();
        return a.Name switch
        {
            "value" when a.Tensor is not null => Renamed(a.Tensor, name),
            "value_float" => OnnxTensor.FromFloats(name, [], [a.Float]),
            "value_floats" => OnnxTensor.FromFloats(name, [a.Floats.Length], a.Floats),
            "value_int" => OnnxTensor.FromInt64s(name, [], [a.Int]),
            "value_ints" => OnnxTensor.FromInt64s(name, [a.Ints.Length], a.Ints),
            "value_string" or "value_strings" or "sparse_value" => throw new OnnxException(ErrorCodes.UnsupportedType,
                $"Constant node {node} holds a {a.Name}, which ModelGen does not support"),
            _ => throw new OnnxException(ErrorCodes.InvalidGraph,
                $"Constant node {node} has attribute '{a.Name}' ({a.Kind}), which is not a Constant value; re-export the model"),
        };
    }

    private static OnnxTensor Renamed(OnnxTensor t, string name) =>
        t.Name == name ? t : new OnnxTensor(name, t.Type, t.Shape, t.Data);

    /// <summary>The int64 value of a Shape node whose input shape is static within [start, end).</summary>
    public static OnnxTensor? ShapeValue(OnnxNode node, TensorInfo input)
    {
        if (input.Shape is null) return null;
        var (start, end) = Rules.ShapeRange(node, input.Shape.Length);
        var dims = input.Shape[start..Math.Max(start, end)];
        if (!dims.All(d => d.IsKnown)) return null;
        var values = dims.Select(d => d.Value!.Value).ToArray();
        return OnnxTensor.FromInt64s(node.Outputs[0], [values.Length], MemoryMarshal.Cast<long, long>(values));
    }
}
