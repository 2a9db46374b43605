using ModelGen.Runtime;

namespace ModelGen.Onnx.Loading;

/// <summary>Maps ONNX <c>TensorProto.DataType</c> codes to <see cref="ElementType"/>.</summary>
internal static class OnnxTypes
{
    /// <summary>
    /// The element type for an ONNX data-type code, or null when ModelGen cannot hold such data
    /// (string, complex). Our enum uses ONNX's numbering.
    /// </summary>
    public static ElementType? TryMap(int code) => code switch
    {
        1 or 2 or 3 or 4 or 5 or 6 or 7 or 9 or 10 or 11 or 12 or 13 => (ElementType)code,
        >= 16 and <= 26 => (ElementType)code,
        _ => null,
    };

    /// <summary>ONNX's spelling of any data-type code, for error messages.</summary>
    public static string Name(int code) => code switch
    {
        0 => "UNDEFINED",
        8 => "string",
        14 => "complex64",
        15 => "complex128",
        16 => "bfloat16",
        17 => "float8e4m3fn",
        18 => "float8e4m3fnuz",
        19 => "float8e5m2",
        20 => "float8e5m2fnuz",
        21 => "uint4",
        22 => "int4",
        23 => "float4e2m1",
        24 => "float8e8m0",
        25 => "uint2",
        26 => "int2",
        _ => TryMap(code) is { } t ? t.ToOnnxName() : $"data type {code}",
    };
}
