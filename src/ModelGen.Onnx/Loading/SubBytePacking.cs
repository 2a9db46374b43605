using ModelGen.Runtime;

namespace ModelGen.Onnx.Loading;

/// <summary>
/// ONNX stores the 4-bit types (int4, uint4, float4e2m1) two per byte and the 2-bit types (int2,
/// uint2) four per byte, the first element in the lowest bits; ModelGen holds them one per byte
/// (signed ones sign-extended) so kernels address them like int8. This converts between the two.
/// </summary>
public static class SubBytePacking
{
    /// <summary>True for the packed types.</summary>
    public static bool IsPacked(ElementType type) => type.BitsInFile() < 8;

    /// <summary>Bytes that <paramref name="count"/> elements take in an ONNX file.</summary>
    public static long FileBytes(ElementType type, long count) => (count * type.BitsInFile() + 7) / 8;

    /// <summary>One byte per element from the packed form.</summary>
    public static byte[] Unpack(ElementType type, ReadOnlySpan<byte> packed, long count)
    {
        int bits = type.BitsInFile();
        int perByte = 8 / bits;
        int mask = (1 << bits) - 1;
        bool signed = type is ElementType.Int4 or ElementType.Int2;
        var data = new byte[count];
        for (long i = 0; i < count; i++)
        {
            int v = (packed[(int)(i / perByte)] >> (int)(i % perByte * bits)) & mask;
            if (signed && (v & (1 << (bits - 1))) != 0) v -= 1 << bits;
            data[i] = (byte)v;
        }
        return data;
    }

    /// <summary>The packed form of one-byte-per-element data (padding bits zero).</summary>
    public static byte[] Pack(ElementType type, ReadOnlySpan<byte> data)
    {
        int bits = type.BitsInFile();
        int perByte = 8 / bits;
        int mask = (1 << bits) - 1;
        var packed = new byte[FileBytes(type, data.Length)];
        for (int i = 0; i < data.Length; i++)
        {
            packed[i / perByte] |= (byte)((data[i] & mask) << (i % perByte * bits));
        }
        return packed;
    }
}
