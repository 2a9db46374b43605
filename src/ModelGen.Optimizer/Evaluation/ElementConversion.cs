using System.Numerics;
using System.Runtime.InteropServices;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// Converts tensor data between element types without boxing (generic math, one loop per type pair).
/// The rules for feeding user data to a model input:
/// <list type="bullet">
/// <item>float, double and float16 inputs take any numeric or bool data, converted by value
/// (float64 → float32 rounds to nearest; integers become their value; no scaling is applied,
/// so uint8 pixels stay 0..255);</item>
/// <item>integer inputs take integer or bool data, range-checked (a value that does not fit is an
/// error, never silently wrapped); float data is refused, because it means the wrong array was saved;</item>
/// <item>bool inputs take bool or integer data (non-zero is true).</item>
/// </list>
/// </summary>
internal static class ElementConversion
{
    /// <summary>Whether data of type <paramref name="from"/> may feed an input of type <paramref name="to"/>.</summary>
    public static bool CanConvert(ElementType from, ElementType to) =>
        from == to || IsFloat(to) || !IsFloat(from);

    public static bool IsFloat(ElementType type) => type is ElementType.Float or ElementType.Double or ElementType.Float16;

    /// <summary>
    /// Converts <paramref name="src"/> (elements of <paramref name="from"/>) into <paramref name="dst"/>
    /// (elements of <paramref name="to"/>, same element count).
    /// </summary>
    /// <exception cref="OverflowException">A value does not fit an integer target type.</exception>
    public static void Convert(ElementType from, ReadOnlySpan<byte> src, ElementType to, Span<byte> dst)
    {
        if (from == to)
        {
            src.CopyTo(dst);
            return;
        }
        switch (from)
        {
            case ElementType.Float: From(MemoryMarshal.Cast<byte, float>(src), to, dst); break;
            case ElementType.Double: From(MemoryMarshal.Cast<byte, double>(src), to, dst); break;
            case ElementType.Float16: From(MemoryMarshal.Cast<byte, Half>(src), to, dst); break;
            case ElementType.Int8: From(MemoryMarshal.Cast<byte, sbyte>(src), to, dst); break;
            case ElementType.Int16: From(MemoryMarshal.Cast<byte, short>(src), to, dst); break;
            case ElementType.Int32: From(MemoryMarshal.Cast<byte, int>(src), to, dst); break;
            case ElementType.Int64: From(MemoryMarshal.Cast<byte, long>(src), to, dst); break;
            case ElementType.UInt8: From(src, to, dst); break;
            case ElementType.UInt16: From(MemoryMarshal.Cast<byte, ushort>(src), to, dst); break;
            case ElementType.UInt32: From(MemoryMarshal.Cast<byte, uint>(src), to, dst); break;
            case ElementType.UInt64: From(MemoryMarshal.Cast<byte, ulong>(src), to, dst); break;
            // bool is one byte holding 0 or 1: convert it as that byte value.
            case ElementType.Bool: From(src, to, dst); break;
            default: throw new ArgumentOutOfRangeException(nameof(from), from, "unknown element type");
        }
    }

    /// <summary>Any tensor's values as float32 (for metrics); allocates the result.</summary>
    public static float[] ToFloats(ElementType from, ReadOnlySpan<byte> src)
    {
        var result = new float[src.Length / from.SizeOf()];
        Convert(from, src, ElementType.Float, MemoryMarshal.AsBytes(result.AsSpan()));
        return result;
    }

    private static void From<TFrom>(ReadOnlySpan<TFrom> src, ElementType to, Span<byte> dst)
        where TFrom : unmanaged, INumberBase<TFrom>
    {
        switch (to)
        {
            case ElementType.Float: Cast(src, MemoryMarshal.Cast<byte, float>(dst)); break;
            case ElementType.Double: Cast(src, MemoryMarshal.Cast<byte, double>(dst)); break;
            case ElementType.Float16: Cast(src, MemoryMarshal.Cast<byte, Half>(dst)); break;
            case ElementType.Int8: Cast(src, MemoryMarshal.Cast<byte, sbyte>(dst)); break;
            case ElementType.Int16: Cast(src, MemoryMarshal.Cast<byte, short>(dst)); break;
            case ElementType.Int32: Cast(src, MemoryMarshal.Cast<byte, int>(dst)); break;
            case ElementType.Int64: Cast(src, MemoryMarshal.Cast<byte, long>(dst)); break;
            case ElementType.UInt8: Cast(src, dst); break;
            case ElementType.UInt16: Cast(src, MemoryMarshal.Cast<byte, ushort>(dst)); break;
            case ElementType.UInt32: Cast(src, MemoryMarshal.Cast<byte, uint>(dst)); break;
            case ElementType.UInt64: Cast(src, MemoryMarshal.Cast<byte, ulong>(dst)); break;
            case ElementType.Bool:
                for (int i = 0; i < src.Length; i++) dst[i] = TFrom.IsZero(src[i]) ? (byte)0 : (byte)1;
                break;
            default: throw new ArgumentOutOfRangeException(nameof(to), to, "unknown element type");
        }
    }

    // CreateChecked: float targets take the nearest value (never throw); integer targets throw
    // OverflowException for values out of range (callers refuse float → integer beforehand).
    private static void Cast<TFrom, TTo>(ReadOnlySpan<TFrom> src, Span<TTo> dst)
        where TFrom : unmanaged, INumberBase<TFrom>
        where TTo : unmanaged, INumberBase<TTo>
    {
        if (dst.Length != src.Length) throw new ArgumentException($"element counts differ: {src.Length} vs {dst.Length}");
        for (int i = 0; i < src.Length; i++) dst[i] = TTo.CreateChecked(src[i]);
    }
}
