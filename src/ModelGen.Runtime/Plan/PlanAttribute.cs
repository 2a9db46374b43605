namespace ModelGen.Runtime;

/// <summary>The kind of a <see cref="PlanAttribute"/>.</summary>
public enum PlanAttributeKind
{
    /// <summary>A 64-bit integer.</summary>
    Int,
    /// <summary>A 32-bit float.</summary>
    Float,
    /// <summary>A string.</summary>
    String,
    /// <summary>A list of 64-bit integers.</summary>
    Ints,
    /// <summary>A list of 32-bit floats.</summary>
    Floats,
}

/// <summary>
/// An operator attribute of a plan step. Names and meanings are ONNX's, plus the optimizer's
/// fusion attributes (<c>activation</c>, <c>activation_alpha</c>, …).
/// </summary>
public sealed class PlanAttribute
{
    private PlanAttribute(string name, PlanAttributeKind kind)
    {
        Name = name;
        Kind = kind;
    }

    /// <summary>Attribute name.</summary>
    public string Name { get; }

    /// <summary>Which value is set.</summary>
    public PlanAttributeKind Kind { get; }

    /// <summary>Value when <see cref="Kind"/> is Int.</summary>
    public long IntValue { get; private init; }

    /// <summary>Value when <see cref="Kind"/> is Float.</summary>
    public float FloatValue { get; private init; }

    /// <summary>Value when <see cref="Kind"/> is String.</summary>
    public string StringValue { get; private init; } = "";

    /// <summary>Value when <see cref="Kind"/> is Ints.</summary>
    public long[] IntsValue { get; private init; } = Array.Empty<long>();

    /// <summary>Value when <see cref="Kind"/> is Floats.</summary>
    public float[] FloatsValue { get; private init; } = Array.Empty<float>();

    /// <summary>An integer attribute.</summary>
    public static PlanAttribute Int(string name, long value) =>
        new(name, PlanAttributeKind.Int) { IntValue = value };

    /// <summary>A float attribute.</summary>
    public static PlanAttribute Float(string name, float value) =>
        new(name, PlanAttributeKind.Float) { FloatValue = value };

    /// <summary>A string attribute.</summary>
    public static PlanAttribute String(string name, string value) =>
        new(name, PlanAttributeKind.String) { StringValue = value };

    /// <summary>An integer-list attribute.</summary>
    public static PlanAttribute Ints(string name, params long[] values) =>
        new(name, PlanAttributeKind.Ints) { IntsValue = values };

    /// <summary>A float-list attribute.</summary>
    public static PlanAttribute Floats(string name, params float[] values) =>
        new(name, PlanAttributeKind.Floats) { FloatsValue = values };
}
