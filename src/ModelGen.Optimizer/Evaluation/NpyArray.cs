using ModelGen.Runtime;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// One NumPy array as read from (or to be written to) a <c>.npy</c> file: element type, shape and
/// the raw little-endian element bytes in C (row-major) order. A 0-d array has an empty shape and
/// one element.
/// </summary>
public sealed class NpyArray
{
    /// <summary>Creates an array; <paramref name="data"/> must hold exactly product(shape) elements.</summary>
    public NpyArray(ElementType type, int[] shape, byte[] data)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        long expected = CountOf(shape) * type.SizeOf();
        if (data.LongLength != expected)
        {
            throw new ArgumentException(
                $"an array of {type.ToOnnxName()}[{string.Join(",", shape)}] needs {expected} bytes, got {data.LongLength}", nameof(data));
        }
        Type = type;
        Shape = shape;
        Data = data;
    }

    /// <summary>Element type (NumPy dtype mapped to the ONNX element type of the same kind and size).</summary>
    public ElementType Type { get; }

    /// <summary>Dimensions; empty for a 0-d (scalar) array.</summary>
    public int[] Shape { get; }

    /// <summary>Raw little-endian element bytes in C order.</summary>
    public byte[] Data { get; }

    /// <summary>Number of elements (1 for a 0-d array, 0 when any dimension is 0).</summary>
    public long ElementCount => CountOf(Shape);

    /// <summary>Wraps float32 values (copied).</summary>
    public static NpyArray FromFloats(int[] shape, ReadOnlySpan<float> values) =>
        new(ElementType.Float, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>Wraps values of any supported unmanaged element type (copied).</summary>
    public static NpyArray From<T>(ElementType type, int[] shape, ReadOnlySpan<T> values) where T : unmanaged =>
        new(type, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>"float[10,1,28,28]" style description for messages.</summary>
    public override string ToString() => $"{Type.ToOnnxName()}[{string.Join(",", Shape)}]";

    internal static long CountOf(int[] shape)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension {d} in shape [{string.Join(",", shape)}]");
            n *= d;
        }
        return n;
    }
}
