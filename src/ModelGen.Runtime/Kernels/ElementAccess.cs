namespace ModelGen.Runtime.Kernels;

/// <summary>
/// Reads and writes single elements of any element type as <see cref="double"/>, through function
/// pointers picked once at bind time. For the kernels whose operands may be any of several types
/// (quantize/dequantize, mixed-type Pow, pools on integers): one loop serves every type, without a
/// type switch per element. Double holds every value of every type exactly except 64-bit
/// integers above 2^53.
/// </summary>
internal static unsafe class ElementAccess
{
    /// <summary>A reader of element <c>i</c> at <c>p</c>, or a failure naming the step when the type has none.</summary>
    public static delegate*<byte*, long, double> Reader(ElementType type, BindContext context) => type switch
    {
        ElementType.Float => &ReadFloat,
        ElementType.Double => &ReadDouble,
        ElementType.Float16 => &ReadHalf,
        ElementType.Int64 => &ReadInt64,
        ElementType.Int32 => &ReadInt32,
        ElementType.Int16 => &ReadInt16,
        ElementType.Int8 => &ReadInt8,
        ElementType.UInt8 or ElementType.Bool => &ReadUInt8,
        ElementType.UInt16 => &ReadUInt16,
        ElementType.UInt32 => &ReadUInt32,
        ElementType.UInt64 => &ReadUInt64,
        // The sub-byte integers sit one per byte in memory (signed ones sign-extended).
        ElementType.Int4 or ElementType.Int2 => &ReadInt8,
        ElementType.UInt4 or ElementType.UInt2 => &ReadUInt8,
        _ when SmallFloats.Handles(type) => SmallFloats.Reader(type, context),
        _ => throw context.Fail($"element type {type.ToOnnxName()} cannot be read here"),
    };

    /// <summary>
    /// A writer that stores a value as element <c>i</c>, converting as a C# cast does (floats round
    /// to nearest even, integers truncate toward zero and saturate), or a failure naming the step.
    /// </summary>
    public static delegate*<byte*, long, double, void> Writer(ElementType type, BindContext context) => type switch
    {
        ElementType.Float => &WriteFloat,
        ElementType.Double => &WriteDouble,
        ElementType.Float16 => &WriteHalf,
        ElementType.Int64 => &WriteInt64,
        ElementType.Int32 => &WriteInt32,
        ElementType.Int16 => &WriteInt16,
        ElementType.Int8 => &WriteInt8,
        ElementType.UInt8 => &WriteUInt8,
        ElementType.UInt16 => &WriteUInt16,
        ElementType.UInt32 => &WriteUInt32,
        ElementType.UInt64 => &WriteUInt64,
        ElementType.Int4 => &WriteInt4,
        ElementType.UInt4 => &WriteUInt4,
        ElementType.Int2 => &WriteInt2,
        ElementType.UInt2 => &WriteUInt2,
        _ => throw context.Fail($"element type {type.ToOnnxName()} cannot be written here"),
    };

    /// <summary>True for the integer types (the ones quantization saturates to a [min, max] range).</summary>
    public static bool TryIntegerRange(ElementType type, out long min, out long max)
    {
        (min, max) = type switch
        {
            ElementType.UInt8 => (byte.MinValue, byte.MaxValue),
            ElementType.Int8 => (sbyte.MinValue, sbyte.MaxValue),
            ElementType.UInt16 => (ushort.MinValue, ushort.MaxValue),
            ElementType.Int16 => (short.MinValue, short.MaxValue),
            ElementType.Int32 => (int.MinValue, int.MaxValue),
            ElementType.UInt32 => (uint.MinValue, uint.MaxValue),
            ElementType.Int4 => (-8L, 7L),
            ElementType.UInt4 => (0L, 15L),
            ElementType.Int2 => (-2L, 1L),
            ElementType.UInt2 => (0L, 3L),
            _ => (0L, -1L),
        };
        return min <= max;
    }

    private static double ReadFloat(byte* p, long i) => ((float*)p)[i];
    private static double ReadDouble(byte* p, long i) => ((double*)p)[i];
    private static double ReadHalf(byte* p, long i) => (double)((Half*)p)[i];
    private static double ReadInt64(byte* p, long i) => ((long*)p)[i];
    private static double ReadInt32(byte* p, long i) => ((int*)p)[i];
    private static double ReadInt16(byte* p, long i) => ((short*)p)[i];
    private static double ReadInt8(byte* p, long i) => ((sbyte*)p)[i];
    private static double ReadUInt8(byte* p, long i) => p[i];
    private static double ReadUInt16(byte* p, long i) => ((ushort*)p)[i];
    private static double ReadUInt32(byte* p, long i) => ((uint*)p)[i];
    private static double ReadUInt64(byte* p, long i) => ((ulong*)p)[i];

    private static void WriteFloat(byte* p, long i, double v) => ((float*)p)[i] = (float)v;
    private static void WriteDouble(byte* p, long i, double v) => ((double*)p)[i] = v;
    private static void WriteHalf(byte* p, long i, double v) => ((Half*)p)[i] = (Half)v;
    private static void WriteInt64(byte* p, long i, double v) => ((long*)p)[i] = (long)v;
    private static void WriteInt32(byte* p, long i, double v) => ((int*)p)[i] = (int)v;
    private static void WriteInt16(byte* p, long i, double v) => ((short*)p)[i] = (short)Math.Clamp(Math.Truncate(v), short.MinValue, short.MaxValue);
    private static void WriteInt8(byte* p, long i, double v) => ((sbyte*)p)[i] = (sbyte)Math.Clamp(Math.Truncate(v), sbyte.MinValue, sbyte.MaxValue);
    private static void WriteUInt8(byte* p, long i, double v) => p[i] = (byte)Math.Clamp(Math.Truncate(v), byte.MinValue, byte.MaxValue);
    private static void WriteUInt16(byte* p, long i, double v) => ((ushort*)p)[i] = (ushort)Math.Clamp(Math.Truncate(v), ushort.MinValue, ushort.MaxValue);
    private static void WriteInt4(byte* p, long i, double v) => ((sbyte*)p)[i] = (sbyte)Math.Clamp(Math.Truncate(v), -8, 7);
    private static void WriteUInt4(byte* p, long i, double v) => p[i] = (byte)Math.Clamp(Math.Truncate(v), 0, 15);
    private static void WriteInt2(byte* p, long i, double v) => ((sbyte*)p)[i] = (sbyte)Math.Clamp(Math.Truncate(v), -2, 1);
    private static void WriteUInt2(byte* p, long i, double v) => p[i] = (byte)Math.Clamp(Math.Truncate(v), 0, 3);
    private static void WriteUInt32(byte* p, long i, double v) => ((uint*)p)[i] = (uint)v;
    private static void WriteUInt64(byte* p, long i, double v) => ((ulong*)p)[i] = (ulong)v;
}
