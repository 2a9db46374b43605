using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using ModelGen.Onnx;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// Reads and writes NumPy <c>.npy</c> arrays (format versions 1.0, 2.0 and 3.0): the magic
/// <c>\x93NUMPY</c>, a version, a header length (u16 for 1.0, u32 after), a Python dict literal
/// header (<c>descr</c>, <c>fortran_order</c>, <c>shape</c>), then the raw data.
/// See https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html.
/// </summary>
public static class Npy
{
    private static readonly byte[] s_magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    // A real header is ~128 bytes; numpy itself refuses headers over 10,000 bytes by default.
    // The limit keeps a corrupt length field from allocating gigabytes.
    private const int MaxHeaderBytes = 1 << 20;

    // numpy pads the header so the data starts on a 64-byte boundary (memory-mapping friendly).
    private const int Alignment = 64;

    /// <summary>
    /// Reads one array from <paramref name="stream"/>, which must hold exactly one .npy file.
    /// <paramref name="file"/> and <paramref name="arrayName"/> only name the source in error messages.
    /// </summary>
    /// <exception cref="OnnxException">MG1021: bad magic or header, unsupported dtype or order, truncated or overlong data.</exception>
    public static NpyArray Read(Stream stream, string file, string? arrayName = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        string where = arrayName is null ? $"'{file}'" : $"array '{arrayName}' in '{file}'";

        Span<byte> prefix = stackalloc byte[8];
        int got = ReadUpTo(stream, prefix);
        if (got < 8 || !prefix[..6].SequenceEqual(s_magic))
        {
            throw Malformed(file, $"{where} is not a .npy array (it does not start with the \\x93NUMPY magic); save it with numpy.save or numpy.savez");
        }
        int major = prefix[6];
        int headerLength;
        if (major == 1)
        {
            Span<byte> len = stackalloc byte[2];
            if (ReadUpTo(stream, len) < 2) throw Truncated(file, where, "in its header length");
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(len);
        }
        else if (major is 2 or 3)
        {
            Span<byte> len = stackalloc byte[4];
            if (ReadUpTo(stream, len) < 4) throw Truncated(file, where, "in its header length");
            uint value = BinaryPrimitives.ReadUInt32LittleEndian(len);
            if (value > MaxHeaderBytes) throw Malformed(file, $"{where} claims a {value}-byte header, which is not plausible; the file is corrupt");
            headerLength = (int)value;
        }
        else
        {
            throw Malformed(file, $"{where} uses .npy format version {major}.{prefix[7]}; only versions 1.0, 2.0 and 3.0 are supported");
        }

        var headerBytes = new byte[headerLength];
        if (ReadUpTo(stream, headerBytes) < headerLength) throw Truncated(file, where, "in its header");
        // Versions 1 and 2 store the header in latin-1, version 3 in UTF-8.
        string header = major == 3 ? Encoding.UTF8.GetString(headerBytes) : Encoding.Latin1.GetString(headerBytes);
        var (type, shape) = ParseHeader(header, file, where);

        long count = NpyArray.CountOf(shape);
        long bytes = count * type.SizeOf();
        if (bytes > Array.MaxLength)
        {
            throw Malformed(file, $"{where} holds {bytes} bytes, more than one array can hold here ({Array.MaxLength}); split it into smaller files");
        }
        var data = new byte[bytes];
        int read = ReadUpTo(stream, data);
        if (read < bytes)
        {
            throw Truncated(file, where, $"after {read} of its {bytes} data bytes (shape ({string.Join(", ", shape)}), {type.ToOnnxName()})");
        }
        Span<byte> extra = stackalloc byte[1];
        if (ReadUpTo(stream, extra) != 0)
        {
            throw Malformed(file, $"{where} has more data than its header's shape ({string.Join(", ", shape)}) and dtype allow; the file is corrupt");
        }
        return new NpyArray(type, shape, data);
    }

    /// <summary>Writes <paramref name="array"/> as a version 1.0 .npy file (2.0 when the header would not fit).</summary>
    public static void Write(Stream stream, NpyArray array)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(array);
        string shape = array.Shape.Length == 1
            ? $"({array.Shape[0]},)"
            : "(" + string.Join(", ", array.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        string dict = $"{{'descr': '{NpyDType.ToDescr(array.Type)}', 'fortran_order': False, 'shape': {shape}, }}";
        int major = dict.Length + 1 + 10 > ushort.MaxValue ? 2 : 1;
        int prefixLength = major == 1 ? 10 : 12;
        int total = prefixLength + dict.Length + 1;
        int padded = (total + Alignment - 1) / Alignment * Alignment;
        string header = dict + new string(' ', padded - total) + "\n";

        Span<byte> prefix = stackalloc byte[12];
        s_magic.CopyTo(prefix);
        prefix[6] = (byte)major;
        prefix[7] = 0;
        if (major == 1) BinaryPrimitives.WriteUInt16LittleEndian(prefix[8..], (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(prefix[8..], (uint)header.Length);
        stream.Write(prefix[..prefixLength]);
        stream.Write(Encoding.Latin1.GetBytes(header));
        stream.Write(array.Data);
    }

    private static (ElementType, int[]) ParseHeader(string header, string file, string where)
    {
        Dictionary<string, object> dict;
        try
        {
            dict = PyLiteral.ParseDict(header);
        }
        catch (FormatException e)
        {
            throw Malformed(file, $"{where} has a malformed header: {e.Message}");
        }
        if (!dict.TryGetValue("descr", out var descrValue) || !dict.TryGetValue("fortran_order", out var fortranValue)
            || !dict.TryGetValue("shape", out var shapeValue))
        {
            throw Malformed(file, $"{where} has a header without the 'descr', 'fortran_order' and 'shape' keys");
        }
        if (descrValue is not string descr)
        {
            throw Malformed(file, $"{where} has a structured (record) dtype; save each field as its own array");
        }
        if (!NpyDType.TryParse(descr, out var type, out string why)) throw Malformed(file, $"{where}: {why}");
        if (fortranValue is not bool fortran) throw Malformed(file, $"{where} has a header whose 'fortran_order' is not True or False");
        if (shapeValue is not PyLiteral.Tuple dims) throw Malformed(file, $"{where} has a header whose 'shape' is not a tuple");
        var shape = new int[dims.Count];
        for (int i = 0; i < dims.Count; i++)
        {
            if (dims[i] is not long d || d < 0 || d > int.MaxValue)
            {
                throw Malformed(file, $"{where} has a header whose shape has a bad dimension {dims[i]}");
            }
            shape[i] = (int)d;
        }
        // A Fortran-ordered array of rank <= 1 has the same layout as a C-ordered one.
        if (fortran && shape.Count(d => d != 1) > 1)
        {
            throw Malformed(file, $"{where} is stored in Fortran (column-major) order; save it in C order (np.ascontiguousarray(arr))");
        }
        return (type, shape);
    }

    // Reads until the buffer is full or the stream ends; returns the count read.
    private static int ReadUpTo(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int n = stream.Read(buffer[total..]);
            if (n == 0) break;
            total += n;
        }
        return total;
    }

    private static OnnxException Truncated(string file, string where, string when) =>
        Malformed(file, $"{where} is truncated: it ends {when}; write the file again");

    private static OnnxException Malformed(string file, string message) =>
        new(EvaluationErrors.DataFileMalformed, message, file);
}
