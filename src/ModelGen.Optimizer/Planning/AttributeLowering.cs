using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Runtime;
using ModelGen.Spec;

namespace ModelGen.Optimizer.Planning;

/// <summary>Turns ONNX node attributes into spec attributes, the only form the runtime sees.</summary>
internal static class AttributeLowering
{
    /// <summary>
    /// The attribute every step carries so kernels can apply the operator version's semantics
    /// (Softmax's axis handling changed in opset 13, for example).
    /// </summary>
    public const string OpsetAttribute = "opset";

    public static List<AttributeSpec> Lower(OnnxNode node, long opset, string modelPath)
    {
        var result = new List<AttributeSpec>();
        foreach (var attr in node.Attributes.Values.OrderBy(a => a.Name, StringComparer.Ordinal))
        {
            result.Add(attr.Kind switch
            {
                OnnxAttributeKind.Int => AttributeSpec.OfInt(attr.Name, attr.Int),
                OnnxAttributeKind.Float => AttributeSpec.OfFloat(attr.Name, attr.Float),
                OnnxAttributeKind.String => AttributeSpec.OfString(attr.Name, attr.String),
                OnnxAttributeKind.Ints => AttributeSpec.OfInts(attr.Name, attr.Ints),
                OnnxAttributeKind.Floats => AttributeSpec.OfFloats(attr.Name, attr.Floats),
                OnnxAttributeKind.Tensor => LowerTensor(node, attr, modelPath),
                _ => throw new OnnxException(
                    ErrorCodes.UnsupportedOp,
                    $"node '{node.Name}' ({node.OpType}) has attribute '{attr.Name}' of kind {attr.Kind}, which ModelGen cannot compile.",
                    modelPath),
            });
        }
        if (node.Attr(OpsetAttribute) is null) result.Add(AttributeSpec.OfInt(OpsetAttribute, opset));
        return result;
    }

    /// <summary>A small tensor attribute (ConstantOfShape's value) becomes a list of numbers.</summary>
    private static AttributeSpec LowerTensor(OnnxNode node, OnnxAttribute attr, string modelPath)
    {
        var t = attr.Tensor!;
        if (t.ElementCount > 4096)
        {
            throw new OnnxException(
                ErrorCodes.UnsupportedOp,
                $"node '{node.Name}' ({node.OpType}) has a {t.ElementCount}-element tensor attribute '{attr.Name}'; only small ones are supported.",
                modelPath);
        }
        return t.Type switch
        {
            ElementType.Float or ElementType.Double or ElementType.Float16 => AttributeSpec.OfFloats(attr.Name, t.ToFloatArray()),
            ElementType.Int64 or ElementType.Int32 => AttributeSpec.OfInts(attr.Name, t.ToInt64Array()),
            ElementType.Bool or ElementType.UInt8 => AttributeSpec.OfInts(attr.Name, t.Data.Select(b => (long)b)),
            ElementType.Int8 => AttributeSpec.OfInts(attr.Name, t.Data.Select(b => (long)(sbyte)b)),
            _ => throw new OnnxException(
                ErrorCodes.UnsupportedType,
                $"node '{node.Name}' ({node.OpType}) has a {t.Type.ToOnnxName()} tensor attribute '{attr.Name}', which ModelGen cannot compile.",
                modelPath),
        };
    }
}
