using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using ModelGen.Onnx;

namespace ModelGen.Optimizer.Tests.Evaluation;

/// <summary>
/// Hand-built .npy / .npz bytes, independent of our writer: the header text, version and zip
/// compression method are exactly what the test says, so the reader is checked against the
/// format, not against itself.
/// </summary>
internal static class NpyFixtures
{
    /// <summary>A .npy file with the given header dict text, version and data (no padding added unless asked).</summary>
    public static byte[] NpyBytes(string header, byte[] data, int major = 1, bool pad = true)
    {
        int prefix = major == 1 ? 10 : 12;
        if (pad)
        {
            int total = prefix + header.Length + 1;
            header += new string(' ', (64 - total % 64) % 64) + "\n";
        }
        var headerBytes = major == 3 ? Encoding.UTF8.GetBytes(header) : Encoding.Latin1.GetBytes(header);
        var ms = new MemoryStream();
        ms.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0]);
        Span<byte> len = stackalloc byte[4];
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(len, (ushort)headerBytes.Length);
            ms.Write(len[..2]);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(len, (uint)headerBytes.Length);
            ms.Write(len);
        }
        ms.Write(headerBytes);
        ms.Write(data);
        return ms.ToArray();
    }

    /// <summary>An .npz (zip) with the given raw entries, stored or deflated.</summary>
    public static void Zip(string path, bool deflate, params (string Entry, byte[] Bytes)[] entries)
    {
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        foreach (var (name, bytes) in entries)
        {
            var entry = zip.CreateEntry(name, deflate ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
            using var s = entry.Open();
            s.Write(bytes);
        }
    }

    /// <summary>The compression method of the first local file header (0 stored, 8 deflate).</summary>
    public static int FirstEntryMethod(string path) => BinaryPrimitives.ReadUInt16LittleEndian(File.ReadAllBytes(path).AsSpan(8));

    public static byte[] Floats(params float[] values) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()).ToArray();

    public static OnnxException Fails(string code, Action action)
    {
        var e = Assert.Throws<OnnxException>(action);
        Assert.True(e.Code == code, $"expected {code}, got {e.Code}: {e.Message}");
        return e;
    }
}
