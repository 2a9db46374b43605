using System.Buffers.Binary;
using System.Runtime.InteropServices;
using ModelGen.Onnx.Ir;
using ModelGen.Onnx.Protos;
using ModelGen.Runtime;

namespace ModelGen.Onnx.Loading;

/// <summary>
/// Turns a <see cref="TensorProto"/> into an <see cref="OnnxTensor"/> with little-endian raw
/// bytes, whichever of ONNX's storage forms it uses: raw_data, the typed repeated fields, or
/// external data.
/// </summary>
internal static class TensorDecoder
{
    /// <summary>Tensors larger than this cannot be held in one array; such models need external tooling.</summary>
    private const long MaxBytes = int.MaxValue;

    public static OnnxTensor Decode(TensorProto proto, string context, string? baseDirectory, string? file)
    {
        string name = proto.Name;
        string what = string.IsNullOrEmpty(name) ? context : $"tensor '{name}'";
        var type = OnnxTypes.TryMap(proto.DataType)
            ?? throw new OnnxException(ErrorCodes.UnsupportedType,
                $"{what} has element type {OnnxTypes.Name(proto.DataType)}, which ModelGen does not support; convert it to float32 (or another plain numeric type) before building",
                file);
        if (proto.Segment is not null)
        {
            throw new OnnxException(ErrorCodes.UnsupportedType,
                $"{what} is a segment of a larger tensor (TensorProto.segment), which ModelGen does not support; re-save the model without segmented tensors",
                file);
        }
        var shape = new int[proto.Dims.Count];
        long count = 1;
        for (int i = 0; i < shape.Length; i++)
        {
            long d = proto.Dims[i];
            if (d < 0 || d > int.MaxValue)
            {
                throw Corrupt($"{what} has dimension {i} = {d}, which is not a valid size", file);
            }
            shape[i] = (int)d;
            count = count == 0 || d == 0 ? 0 : count > MaxBytes / d ? MaxBytes + 1 : count * d;
        }
        int size = type.SizeOf();
        if (count > MaxBytes / size)
        {
            throw Corrupt($"{what} of shape [{string.Join(",", shape)}] is larger than 2 GiB, which ModelGen cannot hold", file);
        }
        if (SubBytePacking.IsPacked(type))
        {
            // Packed in the file (2 or 4 per byte); one byte per element in memory.
            long fileBytes = SubBytePacking.FileBytes(type, count);
            byte[] packed = proto.DataLocation == TensorProto.Types.DataLocation.External
                ? ExternalData.Read(proto, string.IsNullOrEmpty(name) ? context : name, fileBytes, baseDirectory, file)
                : proto.HasRawData ? RawBytes(proto, fileBytes, $"{count} × {type.ToOnnxName()}, packed", what, file)
                : Narrow(proto.Int32Data, fileBytes, "int32_data", what, file, (int v, Span<byte> d) => d[0] = (byte)v, 1);
            return new OnnxTensor(name, type, shape, SubBytePacking.Unpack(type, packed, count));
        }
        long bytes = count * size;
        byte[] data = proto.DataLocation == TensorProto.Types.DataLocation.External
            ? ExternalData.Read(proto, string.IsNullOrEmpty(name) ? context : name, bytes, baseDirectory, file)
            : ReadInline(proto, type, count, what, file);
        return new OnnxTensor(name, type, shape, data);
    }

    private static byte[] RawBytes(TensorProto proto, long bytes, string holds, string what, string? file)
    {
        if (proto.RawData.Length != bytes)
        {
            throw Mismatch($"{what} needs {bytes} bytes ({holds}) but its raw_data holds {proto.RawData.Length}", file);
        }
        return proto.RawData.ToByteArray();
    }

    private static byte[] ReadInline(TensorProto proto, ElementType type, long count, string what, string? file)
    {
        int size = type.SizeOf();
        if (proto.HasRawData)
        {
            var raw = proto.RawData;
            if (raw.Length != count * size)
            {
                throw Mismatch($"{what} needs {count * size} bytes ({count} × {type.ToOnnxName()}) but its raw_data holds {raw.Length}", file);
            }
            var data = raw.ToByteArray();
            if (!BitConverter.IsLittleEndian) SwapInPlace(data, size);
            return data;
        }
        return type switch
        {
            ElementType.Float => Pack<float>(proto.FloatData, count, "float_data", what, file),
            ElementType.Double => Pack<double>(proto.DoubleData, count, "double_data", what, file),
            ElementType.Int64 => Pack<long>(proto.Int64Data, count, "int64_data", what, file),
            ElementType.UInt64 => Pack<ulong>(proto.Uint64Data, count, "uint64_data", what, file),
            ElementType.UInt32 => Narrow(proto.Uint64Data, count, "uint64_data", what, file, (ulong v, Span<byte> d) => BinaryPrimitives.WriteUInt32LittleEndian(d, (uint)v), 4),
            ElementType.Int32 => Pack<int>(proto.Int32Data, count, "int32_data", what, file),
            // ONNX stores these small types one per int32_data entry (float16 as its bit pattern).
            ElementType.Int16 or ElementType.UInt16 or ElementType.Float16 or ElementType.BFloat16 =>
                Narrow(proto.Int32Data, count, "int32_data", what, file, (int v, Span<byte> d) => BinaryPrimitives.WriteUInt16LittleEndian(d, (ushort)v), 2),
            ElementType.Int8 or ElementType.UInt8 or ElementType.Float8E4M3FN or ElementType.Float8E4M3FNUZ
                or ElementType.Float8E5M2 or ElementType.Float8E5M2FNUZ or ElementType.Float8E8M0 =>
                Narrow(proto.Int32Data, count, "int32_data", what, file, (int v, Span<byte> d) => d[0] = (byte)v, 1),
            ElementType.Bool =>
                Narrow(proto.Int32Data, count, "int32_data", what, file, (int v, Span<byte> d) => d[0] = v != 0 ? (byte)1 : (byte)0, 1),
            _ => throw new OnnxException(ErrorCodes.UnsupportedType, $"{what} has element type {type.ToOnnxName()}, which has no typed data field", file),
        };
    }

    private static byte[] Pack<T>(IList<T> values, long count, string field, string what, string? file) where T : unmanaged
    {
        CheckCount(values.Count, count, field, what, file);
        var array = new T[values.Count];
        values.CopyTo(array, 0);
        var data = MemoryMarshal.AsBytes(array.AsSpan()).ToArray();
        if (!BitConverter.IsLittleEndian) SwapInPlace(data, Marshal.SizeOf<T>());
        return data;
    }

    private delegate void Writer<T>(T value, Span<byte> destination);

    private static byte[] Narrow<T>(IList<T> values, long count, string field, string what, string? file, Writer<T> write, int size)
    {
        CheckCount(values.Count, count, field, what, file);
        var data = new byte[count * size];
        for (int i = 0; i < values.Count; i++) write(values[i], data.AsSpan(i * size, size));
        return data;
    }

    private static void CheckCount(int actual, long expected, string field, string what, string? file)
    {
        if (actual != expected)
        {
            throw Mismatch($"{what} has {expected} elements but its {field} holds {actual} values", file);
        }
    }

    private static void SwapInPlace(byte[] data, int size)
    {
        if (size == 1) return;
        for (int i = 0; i + size <= data.Length; i += size) data.AsSpan(i, size).Reverse();
    }

    /// <summary>Data that holds more or fewer elements than the dims say: its own code, MG1016.</summary>
    private static OnnxException Mismatch(string message, string? file) =>
        new(ErrorCodes.TensorDataMismatch, message + "; the tensor's data and dims disagree, so re-export the model", file);

    private static OnnxException Corrupt(string message, string? file) =>
        new(ErrorCodes.CorruptModel, message + "; re-export the model", file);
}
