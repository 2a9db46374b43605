namespace ModelGen.Onnx.Ir;

/// <summary>
/// A graph. <see cref="Inputs"/> holds only the real inputs (the loader drops initializers that
/// old models also list as inputs); <see cref="Initializers"/> holds the constants by name;
/// <see cref="ValueInfo"/> holds known type and shape information for every other value.
/// </summary>
public sealed class OnnxGraph
{
    public string Name { get; set; } = "";

    public string Doc { get; set; } = "";

    public List<TensorInfo> Inputs { get; } = new();

    public List<TensorInfo> Outputs { get; } = new();

    /// <summary>Nodes; after <see cref="GraphOrder.Sort"/>, in topological order.</summary>
    public List<OnnxNode> Nodes { get; } = new();

    public Dictionary<string, OnnxTensor> Initializers { get; } = new(StringComparer.Ordinal);

    /// <summary>Type and shape of intermediate values, filled by the loader and by shape inference.</summary>
    public Dictionary<string, TensorInfo> ValueInfo { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Inputs that old models (IR &lt; 4) listed although they are initializers; kept so the writer
    /// can round-trip them. They are never <c>Predict</c> parameters.
    /// </summary>
    public List<TensorInfo> InitializerInputs { get; } = new();

    /// <summary>Type and shape of any value: input, output, initializer or intermediate; null if unknown.</summary>
    public TensorInfo? Info(string name)
    {
        if (Initializers.TryGetValue(name, out var t))
        {
            return TensorInfo.Static(name, t.Type, t.Shape);
        }
        foreach (var i in Inputs) if (i.Name == name) return i;
        if (ValueInfo.TryGetValue(name, out var v)) return v;
        foreach (var o in Outputs) if (o.Name == name) return o;
        return null;
    }
}
