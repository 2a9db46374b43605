namespace ModelGen.Runtime;

/// <summary>Tensor element types. The values are ONNX's <c>TensorProto.DataType</c> codes.</summary>
public enum ElementType
{
    /// <summary>32-bit IEEE float (<c>float</c>).</summary>
    Float = 1,
    /// <summary>Unsigned byte (<c>byte</c>).</summary>
    UInt8 = 2,
    /// <summary>Signed byte (<c>sbyte</c>).</summary>
    Int8 = 3,
    /// <summary>Unsigned 16-bit integer.</summary>
    UInt16 = 4,
    /// <summary>Signed 16-bit integer.</summary>
    Int16 = 5,
    /// <summary>Signed 32-bit integer (<c>int</c>).</summary>
    Int32 = 6,
    /// <summary>Signed 64-bit integer (<c>long</c>).</summary>
    Int64 = 7,
    /// <summary>Boolean, one byte per element (<c>bool</c>).</summary>
    Bool = 9,
    /// <summary>16-bit IEEE float (<c>Half</c>).</summary>
    Float16 = 10,
    /// <summary>64-bit IEEE float (<c>double</c>).</summary>
    Double = 11,
    /// <summary>Unsigned 32-bit integer.</summary>
    UInt32 = 12,
    /// <summary>Unsigned 64-bit integer.</summary>
    UInt64 = 13,
}

/// <summary>Helpers over <see cref="ElementType"/>.</summary>
public static class ElementTypes
{
    /// <summary>Bytes per element.</summary>
    public static int SizeOf(this ElementType type) => type switch
    {
        ElementType.Double or ElementType.Int64 or ElementType.UInt64 => 8,
        ElementType.Float or ElementType.Int32 or ElementType.UInt32 => 4,
        ElementType.Float16 or ElementType.Int16 or ElementType.UInt16 => 2,
        ElementType.UInt8 or ElementType.Int8 or ElementType.Bool => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown element type"),
    };

    /// <summary>The ONNX spelling used in model specs (float, int64, …).</summary>
    public static string ToOnnxName(this ElementType type) => type switch
    {
        ElementType.Float => "float",
        ElementType.UInt8 => "uint8",
        ElementType.Int8 => "int8",
        ElementType.UInt16 => "uint16",
        ElementType.Int16 => "int16",
        ElementType.Int32 => "int32",
        ElementType.Int64 => "int64",
        ElementType.Bool => "bool",
        ElementType.Float16 => "float16",
        ElementType.Double => "double",
        ElementType.UInt32 => "uint32",
        ElementType.UInt64 => "uint64",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown element type"),
    };

    /// <summary>Parses the ONNX spelling back; returns false for anything unknown.</summary>
    public static bool TryParse(string name, out ElementType type)
    {
        foreach (ElementType t in Enum.GetValues<ElementType>())
        {
            if (t.ToOnnxName() == name)
            {
                type = t;
                return true;
            }
        }
        type = default;
        return false;
    }
}
