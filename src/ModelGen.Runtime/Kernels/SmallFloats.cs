namespace ModelGen.Runtime.Kernels;

/// <summary>
/// Conversions between double and ONNX's narrow float formats: bfloat16, the float8 family
/// (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ), float4 E2M1 and float8 E8M0. Encoding rounds to nearest,
/// ties to even, as the ONNX spec requires; out-of-range values saturate to the largest finite
/// value when <c>saturate</c> is set, else become infinity (E5M2) or NaN (the formats without
/// infinities). Codes are stored one per byte (bfloat16 in two).
/// </summary>
internal static unsafe class SmallFloats
{
    /// <summary>A sign/exponent/mantissa format; the sign is the bit above the exponent.</summary>
    private sealed record Format(int ExponentBits, int MantissaBits, int Bias, bool HasInfinity, bool UnsignedZero, bool HasNaN, double Max)
    {
        public int SignBit => 1 << (ExponentBits + MantissaBits);
        public int MinExponent => 1 - Bias;
    }

    private static readonly Format E4M3FN = new(4, 3, 7, HasInfinity: false, UnsignedZero: false, HasNaN: true, Max: 448);
    private static readonly Format E4M3FNUZ = new(4, 3, 8, HasInfinity: false, UnsignedZero: true, HasNaN: true, Max: 240);
    private static readonly Format E5M2 = new(5, 2, 15, HasInfinity: true, UnsignedZero: false, HasNaN: true, Max: 57344);
    private static readonly Format E5M2FNUZ = new(5, 2, 16, HasInfinity: false, UnsignedZero: true, HasNaN: true, Max: 57344);
    private static readonly Format E2M1 = new(2, 1, 1, HasInfinity: false, UnsignedZero: false, HasNaN: false, Max: 6);

    /// <summary>True for the types this class converts.</summary>
    public static bool Handles(ElementType type) => type is ElementType.BFloat16 or ElementType.Float8E4M3FN
        or ElementType.Float8E4M3FNUZ or ElementType.Float8E5M2 or ElementType.Float8E5M2FNUZ
        or ElementType.Float4E2M1 or ElementType.Float8E8M0;

    /// <summary>A reader that decodes element <c>i</c> to double.</summary>
    public static delegate*<byte*, long, double> Reader(ElementType type, BindContext context) => type switch
    {
        ElementType.BFloat16 => &ReadBFloat16,
        ElementType.Float8E4M3FN => &ReadE4M3FN,
        ElementType.Float8E4M3FNUZ => &ReadE4M3FNUZ,
        ElementType.Float8E5M2 => &ReadE5M2,
        ElementType.Float8E5M2FNUZ => &ReadE5M2FNUZ,
        ElementType.Float4E2M1 => &ReadE2M1,
        ElementType.Float8E8M0 => &ReadE8M0,
        _ => throw context.Fail($"element type {type.ToOnnxName()} is not a narrow float format"),
    };

    /// <summary>A writer that encodes a value into element <c>i</c>, saturating or not (bfloat16 has float32's range and ignores it).</summary>
    public static delegate*<byte*, long, double, void> Writer(ElementType type, bool saturate, BindContext context) => (type, saturate) switch
    {
        (ElementType.BFloat16, _) => &WriteBFloat16,
        (ElementType.Float8E4M3FN, true) => &WriteE4M3FNSat,
        (ElementType.Float8E4M3FN, false) => &WriteE4M3FN,
        (ElementType.Float8E4M3FNUZ, true) => &WriteE4M3FNUZSat,
        (ElementType.Float8E4M3FNUZ, false) => &WriteE4M3FNUZ,
        (ElementType.Float8E5M2, true) => &WriteE5M2Sat,
        (ElementType.Float8E5M2, false) => &WriteE5M2,
        (ElementType.Float8E5M2FNUZ, true) => &WriteE5M2FNUZSat,
        (ElementType.Float8E5M2FNUZ, false) => &WriteE5M2FNUZ,
        // float4 has neither infinity nor NaN, so out-of-range values always saturate.
        (ElementType.Float4E2M1, _) => &WriteE2M1,
        _ => throw context.Fail($"element type {type.ToOnnxName()} cannot be written here"),
    };

    /// <summary>Encodes <paramref name="value"/> in <paramref name="f"/>, rounding to nearest even.</summary>
    private static byte Encode(double value, Format f, bool saturate)
    {
        int sign = double.IsNegative(value) ? f.SignBit : 0;
        int maxCode = MaxCode(f);
        if (double.IsNaN(value)) return NaNCode(f, sign, maxCode);
        double a = Math.Abs(value);
        if (double.IsInfinity(a))
        {
            if (saturate) return (byte)(sign | maxCode);
            return f.HasInfinity ? (byte)(sign | (((1 << f.ExponentBits) - 1) << f.MantissaBits)) : NaNCode(f, sign, maxCode);
        }
        // The spacing of representable values around a: 2^(e - mantissa bits), e at least the smallest normal exponent.
        int e = a == 0 ? f.MinExponent : Math.Max(Math.ILogB(a), f.MinExponent);
        double quantum = Math.ScaleB(1.0, e - f.MantissaBits);
        double rounded = Math.Round(a / quantum, MidpointRounding.ToEven) * quantum;
        if (rounded > f.Max)
        {
            if (saturate || !f.HasNaN) return (byte)(sign | maxCode);
            return f.HasInfinity ? (byte)(sign | (((1 << f.ExponentBits) - 1) << f.MantissaBits)) : NaNCode(f, sign, maxCode);
        }
        if (rounded == 0) return f.UnsignedZero ? (byte)0 : (byte)sign;
        int exponent = Math.ILogB(rounded);
        int code;
        if (exponent < f.MinExponent)
        {
            code = (int)(rounded / Math.ScaleB(1.0, f.MinExponent - f.MantissaBits));
        }
        else
        {
            int mantissa = (int)(rounded / Math.ScaleB(1.0, exponent - f.MantissaBits)) - (1 << f.MantissaBits);
            code = ((exponent + f.Bias) << f.MantissaBits) | mantissa;
        }
        return (byte)(sign | code);
    }

    /// <summary>The code of the largest finite value.</summary>
    private static int MaxCode(Format f)
    {
        int allOnes = (1 << (f.ExponentBits + f.MantissaBits)) - 1;
        // IEEE-style formats reserve the whole top exponent for infinity and NaN.
        if (f.HasInfinity) return (((1 << f.ExponentBits) - 2) << f.MantissaBits) | ((1 << f.MantissaBits) - 1);
        // E4M3FN spends only the all-ones code on NaN; the FNUZ formats and E2M1 use every code for numbers.
        return f.HasNaN && !f.UnsignedZero ? allOnes - 1 : allOnes;
    }

    /// <summary>
    /// NaN's code, as ONNX's reference (ml_dtypes) writes it: 0x80 for the FNUZ formats, S.11111.10
    /// for E5M2, S.1111.111 for E4M3FN; float4 E2M1 has no NaN and its reference gives the
    /// negative-zero code 0x8.
    /// </summary>
    private static byte NaNCode(Format f, int sign, int maxCode) =>
        f.UnsignedZero ? (byte)0x80 : f.HasInfinity ? (byte)(sign | 0x7E) : f.HasNaN ? (byte)(sign | (maxCode + 1)) : (byte)f.SignBit;

    /// <summary>Decodes a code of <paramref name="f"/>.</summary>
    private static double Decode(int code, Format f)
    {
        int sign = code & f.SignBit;
        int body = code & (f.SignBit - 1);
        int exponent = body >> f.MantissaBits;
        int mantissa = body & ((1 << f.MantissaBits) - 1);
        int topExponent = (1 << f.ExponentBits) - 1;
        if (f.UnsignedZero && code == 0x80) return double.NaN;
        if (f.HasInfinity && exponent == topExponent) return mantissa == 0 ? (sign != 0 ? double.NegativeInfinity : double.PositiveInfinity) : double.NaN;
        if (f.HasNaN && !f.UnsignedZero && !f.HasInfinity && body == (1 << (f.ExponentBits + f.MantissaBits)) - 1) return double.NaN;
        double magnitude = exponent == 0
            ? Math.ScaleB(mantissa, f.MinExponent - f.MantissaBits)
            : Math.ScaleB((1 << f.MantissaBits) + mantissa, exponent - f.Bias - f.MantissaBits);
        return sign != 0 ? -magnitude : magnitude;
    }

    private static double ReadE4M3FN(byte* p, long i) => Decode(p[i], E4M3FN);
    private static double ReadE4M3FNUZ(byte* p, long i) => Decode(p[i], E4M3FNUZ);
    private static double ReadE5M2(byte* p, long i) => Decode(p[i], E5M2);
    private static double ReadE5M2FNUZ(byte* p, long i) => Decode(p[i], E5M2FNUZ);
    private static double ReadE2M1(byte* p, long i) => Decode(p[i] & 0x0F, E2M1);
    private static double ReadE8M0(byte* p, long i) => p[i] == 0xFF ? double.NaN : Math.ScaleB(1.0, p[i] - 127);
    private static double ReadBFloat16(byte* p, long i) => BitConverter.UInt32BitsToSingle((uint)((ushort*)p)[i] << 16);

    private static void WriteE4M3FNSat(byte* p, long i, double v) => p[i] = Encode(v, E4M3FN, true);
    private static void WriteE4M3FN(byte* p, long i, double v) => p[i] = Encode(v, E4M3FN, false);
    private static void WriteE4M3FNUZSat(byte* p, long i, double v) => p[i] = Encode(v, E4M3FNUZ, true);
    private static void WriteE4M3FNUZ(byte* p, long i, double v) => p[i] = Encode(v, E4M3FNUZ, false);
    private static void WriteE5M2Sat(byte* p, long i, double v) => p[i] = Encode(v, E5M2, true);
    private static void WriteE5M2(byte* p, long i, double v) => p[i] = Encode(v, E5M2, false);
    private static void WriteE5M2FNUZSat(byte* p, long i, double v) => p[i] = Encode(v, E5M2FNUZ, true);
    private static void WriteE5M2FNUZ(byte* p, long i, double v) => p[i] = Encode(v, E5M2FNUZ, false);
    private static void WriteE2M1(byte* p, long i, double v) => p[i] = Encode(v, E2M1, true);

    /// <summary>float32 → bfloat16, rounding to nearest even; NaN stays a quiet NaN of the same sign.</summary>
    private static void WriteBFloat16(byte* p, long i, double v)
    {
        uint bits = BitConverter.SingleToUInt32Bits((float)v);
        ushort code = float.IsNaN((float)v)
            ? (ushort)((bits >> 16) | 0x0040)
            : (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
        ((ushort*)p)[i] = code;
    }

    /// <summary>
    /// float → float8 E8M0 (a biased power-of-two exponent; the sign is dropped): the float32 exponent
    /// field, rounded up, down or to nearest by the mantissa per Cast's round_mode; NaN → 0xFF, and
    /// values past 2^127 → 0xFE when saturating, else 0xFF.
    /// </summary>
    public static byte EncodeE8M0(float value, string roundMode, bool saturate)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        uint exponent = (bits >> 23) & 0xFF;
        uint mantissa = bits & 0x7FFFFF;
        if (exponent == 0xFF) return mantissa != 0 || !saturate ? (byte)0xFF : (byte)0xFE;
        bool up = roundMode switch
        {
            "up" => mantissa != 0,
            "down" => false,
            // nearest: ties (mantissa exactly one half) round up, since 2^e and 2^(e+1) have no "even" between them.
            _ => mantissa >= 0x400000,
        };
        if (up) exponent++;
        if (exponent == 0xFF) return saturate ? (byte)0xFE : (byte)0xFF;
        return (byte)exponent;
    }
}
