using System.Buffers.Binary;

namespace Digits.Trainer;

/// <summary>Reads MNIST's IDX files (big-endian header, then row-major bytes).</summary>
internal static class Mnist
{
    public static byte[][] ReadImages(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (BinaryPrimitives.ReadInt32BigEndian(bytes) != 0x803) throw new InvalidDataException($"{path} is not an IDX image file");
        int count = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(8));
        int cols = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(12));
        int size = rows * cols;
        var images = new byte[count][];
        for (int i = 0; i < count; i++) images[i] = bytes.AsSpan(16 + i * size, size).ToArray();
        return images;
    }

    public static byte[] ReadLabels(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (BinaryPrimitives.ReadInt32BigEndian(bytes) != 0x801) throw new InvalidDataException($"{path} is not an IDX label file");
        int count = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4));
        return bytes.AsSpan(8, count).ToArray();
    }
}
