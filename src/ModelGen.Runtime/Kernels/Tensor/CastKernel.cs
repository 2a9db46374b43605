using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Tensor;

/// <summary>
/// Cast between float, double, float16, the signed and unsigned integers and bool. The loop for
/// each (from, to) pair is a generic instantiation picked once at bind time through a function
/// pointer; values pass through double (exact for every pair except 64-bit integers above 2^53).
/// Float to integer truncates toward zero; anything to bool is "not zero".
/// </summary>
internal sealed unsafe class CastKernel : Kernel
{
    private readonly byte* _x, _y;
    private readonly long _count;
    private readonly delegate*<byte*, byte*, long, void> _convert;

    public CastKernel(BindContext context)
    {
        var x = context.Input(0);
        var y = context.Output(0);
        if (x.ElementCount != y.ElementCount) throw context.Fail("input and output sizes differ");
        _x = context.InputPtr(0);
        _y = context.OutputPtr(0);
        _count = x.ElementCount;
        long to = context.Step.GetInt("to", (long)y.Type);
        if (to != (long)y.Type) throw context.Fail($"attribute to={to} disagrees with the output type {y.Type.ToOnnxName()}");
        _convert = Pick(x.Type, y.Type, context);
        if (_x == _y && x.Type.SizeOf() != y.Type.SizeOf()) throw context.Fail("Cast between sizes cannot run in place");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute() => _convert(_x, _y, _count);

    private static delegate*<byte*, byte*, long, void> Pick(ElementType from, ElementType to, BindContext c) => from switch
    {
        ElementType.Float => PickTo<float>(to, c),
        ElementType.Double => PickTo<double>(to, c),
        ElementType.Float16 => PickTo<Half>(to, c),
        ElementType.Int64 => PickTo<long>(to, c),
        ElementType.Int32 => PickTo<int>(to, c),
        ElementType.Int16 => PickTo<short>(to, c),
        ElementType.Int8 => PickTo<sbyte>(to, c),
        ElementType.UInt8 => PickTo<byte>(to, c),
        ElementType.UInt16 => PickTo<ushort>(to, c),
        ElementType.UInt32 => PickTo<uint>(to, c),
        ElementType.UInt64 => PickTo<ulong>(to, c),
        ElementType.Bool => PickTo<bool>(to, c),
        _ => throw c.Fail($"cannot cast from {from.ToOnnxName()}"),
    };

    private static delegate*<byte*, byte*, long, void> PickTo<TFrom>(ElementType to, BindContext c) where TFrom : unmanaged => to switch
    {
        ElementType.Float => &Convert<TFrom, float>,
        ElementType.Double => &Convert<TFrom, double>,
        ElementType.Float16 => &Convert<TFrom, Half>,
        ElementType.Int64 => &Convert<TFrom, long>,
        ElementType.Int32 => &Convert<TFrom, int>,
        ElementType.Int16 => &Convert<TFrom, short>,
        ElementType.Int8 => &Convert<TFrom, sbyte>,
        ElementType.UInt8 => &Convert<TFrom, byte>,
        ElementType.UInt16 => &Convert<TFrom, ushort>,
        ElementType.UInt32 => &Convert<TFrom, uint>,
        ElementType.UInt64 => &Convert<TFrom, ulong>,
        ElementType.Bool => &Convert<TFrom, bool>,
        _ => throw c.Fail($"cannot cast to {to.ToOnnxName()}"),
    };

    private static void Convert<TFrom, TTo>(byte* x, byte* y, long n) where TFrom : unmanaged where TTo : unmanaged
    {
        TFrom* src = (TFrom*)x;
        TTo* dst = (TTo*)y;
        for (long i = 0; i < n; i++) dst[i] = FromDouble<TTo>(ToDouble(src[i]));
    }

    // Unsafe.As instead of (T)(object) casts: guaranteed free of boxing in every runtime.
    internal static double ToDouble<T>(T v) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) { var x = Unsafe.As<T, float>(ref v); return (double)x; }
        if (typeof(T) == typeof(double)) { var x = Unsafe.As<T, double>(ref v); return x; }
        if (typeof(T) == typeof(Half)) { var x = Unsafe.As<T, Half>(ref v); return (double)x; }
        if (typeof(T) == typeof(long)) { var x = Unsafe.As<T, long>(ref v); return x; }
        if (typeof(T) == typeof(int)) { var x = Unsafe.As<T, int>(ref v); return x; }
        if (typeof(T) == typeof(short)) { var x = Unsafe.As<T, short>(ref v); return x; }
        if (typeof(T) == typeof(sbyte)) { var x = Unsafe.As<T, sbyte>(ref v); return x; }
        if (typeof(T) == typeof(byte)) { var x = Unsafe.As<T, byte>(ref v); return x; }
        if (typeof(T) == typeof(ushort)) { var x = Unsafe.As<T, ushort>(ref v); return x; }
        if (typeof(T) == typeof(uint)) { var x = Unsafe.As<T, uint>(ref v); return x; }
        if (typeof(T) == typeof(ulong)) { var x = Unsafe.As<T, ulong>(ref v); return x; }
        return Unsafe.As<T, bool>(ref v) ? 1 : 0;
    }

    internal static T FromDouble<T>(double v) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) { var r = (float)v; return Unsafe.As<float, T>(ref r); }
        if (typeof(T) == typeof(double)) { var r = (double)v; return Unsafe.As<double, T>(ref r); }
        if (typeof(T) == typeof(Half)) { var r = (Half)v; return Unsafe.As<Half, T>(ref r); }
        if (typeof(T) == typeof(long)) { var r = (long)v; return Unsafe.As<long, T>(ref r); }
        if (typeof(T) == typeof(int)) { var r = (int)v; return Unsafe.As<int, T>(ref r); }
        if (typeof(T) == typeof(short)) { var r = (short)v; return Unsafe.As<short, T>(ref r); }
        if (typeof(T) == typeof(sbyte)) { var r = (sbyte)v; return Unsafe.As<sbyte, T>(ref r); }
        if (typeof(T) == typeof(byte)) { var r = (byte)v; return Unsafe.As<byte, T>(ref r); }
        if (typeof(T) == typeof(ushort)) { var r = (ushort)v; return Unsafe.As<ushort, T>(ref r); }
        if (typeof(T) == typeof(uint)) { var r = (uint)v; return Unsafe.As<uint, T>(ref r); }
        if (typeof(T) == typeof(ulong)) { var r = (ulong)v; return Unsafe.As<ulong, T>(ref r); }
        var b = v != 0;
        return Unsafe.As<bool, T>(ref b);
    }

    /// <summary>Writes <paramref name="value"/> as one element of <paramref name="type"/> at <paramref name="target"/>.</summary>
    internal static void WriteFromDouble(ElementType type, double value, byte* target, BindContext context)
    {
        switch (type)
        {
            case ElementType.Float: *(float*)target = (float)value; break;
            case ElementType.Double: *(double*)target = value; break;
            case ElementType.Float16: *(Half*)target = (Half)value; break;
            case ElementType.Int64: *(long*)target = (long)value; break;
            case ElementType.Int32: *(int*)target = (int)value; break;
            case ElementType.Int16: *(short*)target = (short)value; break;
            case ElementType.Int8: *(sbyte*)target = (sbyte)value; break;
            case ElementType.UInt8: *target = (byte)value; break;
            case ElementType.UInt16: *(ushort*)target = (ushort)value; break;
            case ElementType.UInt32: *(uint*)target = (uint)value; break;
            case ElementType.UInt64: *(ulong*)target = (ulong)value; break;
            case ElementType.Bool: *target = value != 0 ? (byte)1 : (byte)0; break;
            default: throw context.Fail($"unsupported element type {type}");
        }
    }
}
