namespace ModelGen.Onnx.Ir;

/// <summary>
/// A node of the graph. Inputs and outputs are value names; an empty input name marks an
/// omitted optional input, as in ONNX.
/// </summary>
public sealed class OnnxNode
{
    public OnnxNode(string opType, string name, IEnumerable<string> inputs, IEnumerable<string> outputs, string domain = "")
    {
        OpType = opType;
        Name = name;
        Domain = domain;
        Inputs = inputs.ToList();
        Outputs = outputs.ToList();
    }

    public string OpType { get; set; }

    public string Name { get; set; }

    /// <summary>Operator domain; "" (or "ai.onnx") is the default ONNX domain.</summary>
    public string Domain { get; set; }

    public List<string> Inputs { get; }

    public List<string> Outputs { get; }

    /// <summary>Attributes by name, in the model's order.</summary>
    public Dictionary<string, OnnxAttribute> Attributes { get; } = new(StringComparer.Ordinal);

    public string Doc { get; set; } = "";

    public OnnxAttribute? Attr(string name) => Attributes.TryGetValue(name, out var a) ? a : null;

    public long GetInt(string name, long fallback) => Attr(name)?.Int ?? fallback;

    public float GetFloat(string name, float fallback) => Attr(name)?.Float ?? fallback;

    public string GetString(string name, string fallback) => Attr(name)?.String ?? fallback;

    public long[]? GetInts(string name) => Attr(name)?.Ints;

    public OnnxNode Set(OnnxAttribute attribute)
    {
        Attributes[attribute.Name] = attribute;
        return this;
    }

    /// <summary>The input name at <paramref name="index"/>, or "" when absent or omitted.</summary>
    public string InputOrEmpty(int index) => index < Inputs.Count ? Inputs[index] : "";

    public override string ToString() => $"{OpType} '{Name}'";
}
