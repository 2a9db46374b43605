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
    /// <summary>bfloat16: float32's sign and 8 exponent bits with 7 mantissa bits (2 bytes).</summary>
    BFloat16 = 16,
    /// <summary>float8 E4M3FN: 4 exponent bits (bias 7), 3 mantissa bits, no infinities, NaN = S.1111.111.</summary>
    Float8E4M3FN = 17,
    /// <summary>float8 E4M3FNUZ: bias 8, no infinities, no negative zero, NaN = 0x80.</summary>
    Float8E4M3FNUZ = 18,
    /// <summary>float8 E5M2: 5 exponent bits (bias 15), 2 mantissa bits, IEEE-style infinities and NaN.</summary>
    Float8E5M2 = 19,
    /// <summary>float8 E5M2FNUZ: bias 16, no infinities, no negative zero, NaN = 0x80.</summary>
    Float8E5M2FNUZ = 20,
    /// <summary>Unsigned 4-bit integer; one per byte in memory, two per byte in ONNX files.</summary>
    UInt4 = 21,
    /// <summary>Signed 4-bit integer; one per byte (sign-extended) in memory, two per byte in ONNX files.</summary>
    Int4 = 22,
    /// <summary>float4 E2M1 (bias 1, no infinities or NaN); one per byte in memory, two per byte in ONNX files.</summary>
    Float4E2M1 = 23,
    /// <summary>float8 E8M0: an unsigned power of two 2^(e−127), 0xFF = NaN (scales of microscaling formats).</summary>
    Float8E8M0 = 24,
    /// <summary>Unsigned 2-bit integer; one per byte in memory, four per byte in ONNX files.</summary>
    UInt2 = 25,
    /// <summary>Signed 2-bit integer; one per byte (sign-extended) in memory, four per byte in ONNX files.</summary>
    Int2 = 26,
}

/// <summary>Helpers over <see cref="ElementType"/>.</summary>
public static class ElementTypes
{
    /// <summary>
    /// Bytes per element in memory (slots, weights, <c>OnnxTensor.Data</c>). The 4-bit and 2-bit
    /// types take one byte per element there, so every kernel can address them like int8; only
    /// ONNX files hold them packed (<see cref="BitsInFile"/>).
    /// </summary>
    public static int SizeOf(this ElementType type) => type switch
    {
        ElementType.Double or ElementType.Int64 or ElementType.UInt64 => 8,
        ElementType.Float or ElementType.Int32 or ElementType.UInt32 => 4,
        ElementType.Float16 or ElementType.Int16 or ElementType.UInt16 or ElementType.BFloat16 => 2,
        ElementType.UInt8 or ElementType.Int8 or ElementType.Bool => 1,
        ElementType.Float8E4M3FN or ElementType.Float8E4M3FNUZ or ElementType.Float8E5M2 or ElementType.Float8E5M2FNUZ or ElementType.Float8E8M0 => 1,
        ElementType.UInt4 or ElementType.Int4 or ElementType.Float4E2M1 or ElementType.UInt2 or ElementType.Int2 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown element type"),
    };

    /// <summary>Bits per element in ONNX's serialized form (raw_data): 4 or 2 for the packed sub-byte types, else 8 × <see cref="SizeOf"/>.</summary>
    public static int BitsInFile(this ElementType type) => type switch
    {
        ElementType.UInt4 or ElementType.Int4 or ElementType.Float4E2M1 => 4,
        ElementType.UInt2 or ElementType.Int2 => 2,
        _ => 8 * type.SizeOf(),
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
        ElementType.BFloat16 => "bfloat16",
        ElementType.Float8E4M3FN => "float8e4m3fn",
        ElementType.Float8E4M3FNUZ => "float8e4m3fnuz",
        ElementType.Float8E5M2 => "float8e5m2",
        ElementType.Float8E5M2FNUZ => "float8e5m2fnuz",
        ElementType.UInt4 => "uint4",
        ElementType.Int4 => "int4",
        ElementType.Float4E2M1 => "float4e2m1",
        ElementType.Float8E8M0 => "float8e8m0",
        ElementType.UInt2 => "uint2",
        ElementType.Int2 => "int2",
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
