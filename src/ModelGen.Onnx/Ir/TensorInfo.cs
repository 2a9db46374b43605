using ModelGen.Runtime;

namespace ModelGen.Onnx.Ir;

/// <summary>One dimension of a value's shape: a known size, or a symbolic name (dim_param), or unknown.</summary>
public readonly record struct Dim(long? Value, string? Param)
{
    public static Dim Of(long value) => new(value, null);

    public static Dim Symbolic(string param) => new(null, param);

    public static readonly Dim Unknown = new(null, null);

    public bool IsKnown => Value.HasValue;

    public override string ToString() => Value?.ToString() ?? Param ?? "?";
}

/// <summary>
/// A named value of the graph (input, output or intermediate) with its element type and shape.
/// <see cref="Shape"/> is null when the rank itself is unknown.
/// </summary>
public sealed class TensorInfo
{
    public TensorInfo(string name, ElementType type, Dim[]? shape, string doc = "")
    {
        Name = name;
        Type = type;
        Shape = shape;
        Doc = doc;
    }

    public string Name { get; set; }

    public ElementType Type { get; set; }

    public Dim[]? Shape { get; set; }

    public string Doc { get; set; }

    /// <summary>True when the rank and every dimension are known numbers.</summary>
    public bool IsStatic => Shape is not null && Shape.All(d => d.IsKnown);

    /// <summary>The static shape as ints; throws when <see cref="IsStatic"/> is false.</summary>
    public int[] StaticShape() =>
        IsStatic ? Shape!.Select(d => checked((int)d.Value!.Value)).ToArray()
                 : throw new InvalidOperationException($"value '{Name}' has no static shape ({this})");

    public static TensorInfo Static(string name, ElementType type, params int[] shape) =>
        new(name, type, shape.Select(d => Dim.Of(d)).ToArray());

    public override string ToString() =>
        $"{Name}: {Type.ToOnnxName()}[{(Shape is null ? "?" : string.Join(",", Shape))}]";
}
