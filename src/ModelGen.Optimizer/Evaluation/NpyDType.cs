using ModelGen.Runtime;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// Maps NumPy dtype strings (<c>descr</c>, e.g. <c>'&lt;f4'</c>, <c>'|u1'</c>, <c>'=i8'</c>) to and
/// from <see cref="ElementType"/>. Only little-endian (or byte-order-free single-byte) plain
/// numeric and boolean types are supported: those are what <c>np.save</c> writes on every common
/// machine, and they can be used without swapping bytes.
/// </summary>
internal static class NpyDType
{
    /// <summary>The element type for <paramref name="descr"/>, or an explanation why it is not supported.</summary>
    public static bool TryParse(string descr, out ElementType type, out string why)
    {
        type = default;
        why = "";
        string s = descr;
        char order = '=';
        if (s.Length > 0 && s[0] is '<' or '>' or '=' or '|')
        {
            order = s[0];
            s = s[1..];
        }
        if (s.Length < 2 || !int.TryParse(s.AsSpan(1), System.Globalization.NumberStyles.None,
                System.Globalization.CultureInfo.InvariantCulture, out int size))
        {
            why = $"dtype '{descr}' is not a plain numeric type (structured, string, object and datetime arrays are not supported)";
            return false;
        }
        ElementType? parsed = (s[0], size) switch
        {
            ('f', 2) => ElementType.Float16,
            ('f', 4) => ElementType.Float,
            ('f', 8) => ElementType.Double,
            ('i', 1) => ElementType.Int8,
            ('i', 2) => ElementType.Int16,
            ('i', 4) => ElementType.Int32,
            ('i', 8) => ElementType.Int64,
            ('u', 1) => ElementType.UInt8,
            ('u', 2) => ElementType.UInt16,
            ('u', 4) => ElementType.UInt32,
            ('u', 8) => ElementType.UInt64,
            ('b', 1) => ElementType.Bool,
            _ => null,
        };
        if (parsed is null)
        {
            why = $"dtype '{descr}' is not supported (supported: float16/32/64, int8/16/32/64, uint8/16/32/64, bool)";
            return false;
        }
        if (size > 1)
        {
            if (order == '>')
            {
                why = $"dtype '{descr}' is big-endian; only little-endian data is supported (convert with arr.astype(arr.dtype.newbyteorder('<')))";
                return false;
            }
            if (order == '=' && !BitConverter.IsLittleEndian)
            {
                why = $"dtype '{descr}' is native-order on a big-endian machine; save it with an explicit '<' byte order";
                return false;
            }
            if (order == '|')
            {
                why = $"dtype '{descr}' has no byte order although its elements have {size} bytes";
                return false;
            }
        }
        type = parsed.Value;
        return true;
    }

    /// <summary>The descr numpy writes for <paramref name="type"/> ('&lt;f4', '|u1', …).</summary>
    public static string ToDescr(ElementType type) => type switch
    {
        ElementType.Float16 => "<f2",
        ElementType.Float => "<f4",
        ElementType.Double => "<f8",
        ElementType.Int8 => "|i1",
        ElementType.Int16 => "<i2",
        ElementType.Int32 => "<i4",
        ElementType.Int64 => "<i8",
        ElementType.UInt8 => "|u1",
        ElementType.UInt16 => "<u2",
        ElementType.UInt32 => "<u4",
        ElementType.UInt64 => "<u8",
        ElementType.Bool => "|b1",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "no NumPy dtype for this element type"),
    };
}
