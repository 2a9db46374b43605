using System.Buffers.Binary;
using System.IO.Compression;
using ModelGen.Tests;

namespace ModelGen.Optimizer.Tests;

/// <summary>The real MNIST test set from ../shared/testdata/real (IDX, gzipped).</summary>
internal static class MnistData
{
    private static readonly Lazy<(byte[][] Images, byte[] Labels)> s_data = new(Load);

    public static byte[][] Images => s_data.Value.Images;

    public static byte[] Labels => s_data.Value.Labels;

    private static (byte[][], byte[]) Load()
    {
        var images = Gunzip(TestData.Require("real/t10k-images-idx3-ubyte.gz"));
        var labels = Gunzip(TestData.Require("real/t10k-labels-idx1-ubyte.gz"));
        Assert.Equal(0x803, BinaryPrimitives.ReadInt32BigEndian(images));
        Assert.Equal(0x801, BinaryPrimitives.ReadInt32BigEndian(labels));
        int count = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(4));
        var list = new byte[count][];
        for (int i = 0; i < count; i++) list[i] = images.AsSpan(16 + i * 784, 784).ToArray();
        return (list, labels.AsSpan(8, count).ToArray());
    }

    private static byte[] Gunzip(string path)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var ms = new MemoryStream();
        gz.CopyTo(ms);
        return ms.ToArray();
    }
}
