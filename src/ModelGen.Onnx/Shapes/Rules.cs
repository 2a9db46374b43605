using ModelGen.Onnx.Ir;

namespace ModelGen.Onnx.Shapes;

/// <summary>The inference rule of each supported default-domain operator.</summary>
internal static partial class Rules
{
    private static readonly Dictionary<string, Func<NodeContext, TensorInfo[]>> Table = Build();

    public static bool TryGet(string opType, out Func<NodeContext, TensorInfo[]> rule) => Table.TryGetValue(opType, out rule!);

    public static IReadOnlyCollection<string> Supported => Table.Keys;

    private static Dictionary<string, Func<NodeContext, TensorInfo[]>> Build()
    {
        var t = new Dictionary<string, Func<NodeContext, TensorInfo[]>>(StringComparer.Ordinal);
        AddElementwise(t);
        AddLinear(t);
        AddConvPool(t);
        AddNormalization(t);
        AddShapeOps(t);
        AddReductions(t);
        AddQuantization(t);
        return t;
    }
}
