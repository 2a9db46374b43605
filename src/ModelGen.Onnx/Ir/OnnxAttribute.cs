namespace ModelGen.Onnx.Ir;

/// <summary>The kinds of ONNX attributes the IR keeps.</summary>
public enum OnnxAttributeKind
{
    Float,
    Int,
    String,
    Tensor,
    Graph,
    Floats,
    Ints,
    Strings,
    Tensors,
    Graphs,
}

/// <summary>A node attribute. Only the value matching <see cref="Kind"/> is set.</summary>
public sealed class OnnxAttribute
{
    public OnnxAttribute(string name, OnnxAttributeKind kind)
    {
        Name = name;
        Kind = kind;
    }

    public string Name { get; }

    public OnnxAttributeKind Kind { get; }

    public float Float { get; init; }

    public long Int { get; init; }

    /// <summary>String value (ONNX strings are bytes; we keep them as UTF-8 text).</summary>
    public string String { get; init; } = "";

    public OnnxTensor? Tensor { get; init; }

    public OnnxGraph? Graph { get; init; }

    public float[] Floats { get; init; } = Array.Empty<float>();

    public long[] Ints { get; init; } = Array.Empty<long>();

    public string[] Strings { get; init; } = Array.Empty<string>();

    public OnnxTensor[] Tensors { get; init; } = Array.Empty<OnnxTensor>();

    public OnnxGraph[] Graphs { get; init; } = Array.Empty<OnnxGraph>();

    public static OnnxAttribute OfInt(string name, long value) => new(name, OnnxAttributeKind.Int) { Int = value };

    public static OnnxAttribute OfFloat(string name, float value) => new(name, OnnxAttributeKind.Float) { Float = value };

    public static OnnxAttribute OfString(string name, string value) => new(name, OnnxAttributeKind.String) { String = value };

    public static OnnxAttribute OfInts(string name, params long[] values) => new(name, OnnxAttributeKind.Ints) { Ints = values };

    public static OnnxAttribute OfFloats(string name, params float[] values) => new(name, OnnxAttributeKind.Floats) { Floats = values };

    public static OnnxAttribute OfTensor(string name, OnnxTensor value) => new(name, OnnxAttributeKind.Tensor) { Tensor = value };

    public override string ToString() => $"{Name} ({Kind})";
}
