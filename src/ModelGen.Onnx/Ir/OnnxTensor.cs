using System.Runtime.InteropServices;
using ModelGen.Runtime;

namespace ModelGen.Onnx.Ir;

/// <summary>
/// A constant tensor (initializer, Constant value or folded result) with its data as
/// little-endian bytes in C order.
/// </summary>
public sealed class OnnxTensor
{
    public OnnxTensor(string name, ElementType type, int[] shape, byte[] data)
    {
        Name = name;
        Type = type;
        Shape = shape;
        Data = data;
        long expected = ElementCount * type.SizeOf();
        if (data.LongLength != expected)
        {
            throw new ArgumentException(
                $"tensor '{name}' of shape [{string.Join(",", shape)}] needs {expected} bytes of {type.ToOnnxName()}, got {data.LongLength}");
        }
    }

    public string Name { get; set; }

    public ElementType Type { get; }

    public int[] Shape { get; }

    /// <summary>Raw little-endian element bytes.</summary>
    public byte[] Data { get; }

    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (int d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>The data viewed as <typeparamref name="T"/>; T must match <see cref="Type"/> in size.</summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged => MemoryMarshal.Cast<byte, T>(Data);

    /// <summary>Values converted to long, for int32/int64 shape-like tensors.</summary>
    public long[] ToInt64Array() => Type switch
    {
        ElementType.Int64 => AsSpan<long>().ToArray(),
        ElementType.Int32 => Array.ConvertAll(AsSpan<int>().ToArray(), v => (long)v),
        _ => throw new InvalidOperationException($"tensor '{Name}' is {Type.ToOnnxName()}, not an integer tensor"),
    };

    /// <summary>Values converted to float, for float/double tensors.</summary>
    public float[] ToFloatArray() => Type switch
    {
        ElementType.Float => AsSpan<float>().ToArray(),
        ElementType.Double => Array.ConvertAll(AsSpan<double>().ToArray(), v => (float)v),
        ElementType.Float16 => Array.ConvertAll(AsSpan<Half>().ToArray(), v => (float)v),
        _ => throw new InvalidOperationException($"tensor '{Name}' is {Type.ToOnnxName()}, not a float tensor"),
    };

    public static OnnxTensor FromFloats(string name, int[] shape, ReadOnlySpan<float> values) =>
        new(name, ElementType.Float, shape, MemoryMarshal.AsBytes(values).ToArray());

    public static OnnxTensor FromInt64s(string name, int[] shape, ReadOnlySpan<long> values) =>
        new(name, ElementType.Int64, shape, MemoryMarshal.AsBytes(values).ToArray());

    public override string ToString() => $"{Name}: {Type.ToOnnxName()}[{string.Join(",", Shape)}]";
}
