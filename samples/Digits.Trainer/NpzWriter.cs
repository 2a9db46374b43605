using System.Buffers.Binary;
using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;

namespace Digits.Trainer;

/// <summary>
/// Writes a NumPy <c>.npz</c> (a zip of <c>name.npy</c> files, like <c>numpy.savez</c>) with
/// float32 and int64 arrays: the format of ModelGen's <c>ValidationData</c>. Kept local so the
/// trainer depends only on ModelGen.Onnx, like a user's own export script would.
/// </summary>
internal static class NpzWriter
{
    /// <summary>One named array: its NumPy dtype ("&lt;f4", "&lt;i8"), shape and little-endian bytes.</summary>
    public sealed record Array(string Name, string Descr, int[] Shape, byte[] Data)
    {
        public static Array Floats(string name, int[] shape, float[] values) => new(name, "<f4", shape, Bytes<float>(values));

        public static Array Longs(string name, int[] shape, long[] values) => new(name, "<i8", shape, Bytes<long>(values));

        private static byte[] Bytes<T>(T[] values) where T : unmanaged
        {
            // .npy data is little-endian; every machine .NET 10 runs on is too.
            if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("writing .npy needs a little-endian machine");
            return MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        }
    }

    public static void Write(string path, params Array[] arrays)
    {
        using var zip = new ZipArchive(File.Create(path), ZipArchiveMode.Create);
        foreach (var a in arrays)
        {
            using var stream = zip.CreateEntry(a.Name + ".npy", CompressionLevel.Optimal).Open();
            WriteNpy(stream, a);
        }
    }

    /// <summary>.npy version 1.0: magic, u16 header length, a Python dict padded to 64 bytes, then C-order data.</summary>
    private static void WriteNpy(Stream stream, Array a)
    {
        string shape = a.Shape.Length == 1 ? $"({a.Shape[0]},)" : "(" + string.Join(", ", a.Shape) + ")";
        string dict = $"{{'descr': '{a.Descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int unpadded = 10 + dict.Length + 1;
        string header = dict + new string(' ', (unpadded + 63) / 64 * 64 - unpadded) + "\n";
        Span<byte> prefix = stackalloc byte[10];
        // The magic's first byte is 0x93, not ASCII (a u8 string literal would encode it as two bytes).
        prefix[0] = 0x93;
        "NUMPY"u8.CopyTo(prefix[1..]);
        prefix[6] = 1;
        prefix[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(prefix[8..], (ushort)header.Length);
        stream.Write(prefix);
        stream.Write(Encoding.Latin1.GetBytes(header));
        stream.Write(a.Data);
    }
}
