using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Tensor;

/// <summary>
/// Cast (and CastLike) where either side is one of ONNX's narrow types: bfloat16, float8
/// (E4M3FN/E4M3FNUZ/E5M2/E5M2FNUZ, with the <c>saturate</c> attribute), float8 E8M0 (with
/// <c>round_mode</c>), float4 E2M1, or the 4-bit and 2-bit integers. Values pass through double,
/// which holds every narrow value exactly. To the narrow floats: round to nearest even
/// (<see cref="SmallFloats"/>); to the 4-bit and 2-bit integers: truncate toward zero and keep
/// the low bits (wrap), as ONNX's reference does; to the ordinary types: as
/// <see cref="CastKernel"/> (truncation toward zero for integers).
/// </summary>
internal sealed unsafe class NarrowCastKernel : Kernel
{
    private readonly byte* _x, _y;
    private readonly long _count;
    private readonly delegate*<byte*, long, double> _read;
    private readonly delegate*<byte*, long, double, void> _write;
    private readonly bool _wrapToInteger, _e8m0, _saturate;
    private readonly double _min, _max;
    private readonly string _roundMode = "up";

    /// <summary>True when a Cast from <paramref name="from"/> to <paramref name="to"/> needs this kernel.</summary>
    public static bool Applies(ElementType from, ElementType to) => IsNarrow(from) || IsNarrow(to);

    private static bool IsNarrow(ElementType t) =>
        SmallFloats.Handles(t) || t is ElementType.Int4 or ElementType.UInt4 or ElementType.Int2 or ElementType.UInt2;

    public NarrowCastKernel(BindContext context)
    {
        var x = context.Input(0);
        var y = context.Output(0);
        if (x.ElementCount != y.ElementCount) throw context.Fail("input and output sizes differ");
        if (context.Step.Op == "Cast" && context.Step.GetInt("to", (long)y.Type) != (long)y.Type)
        {
            throw context.Fail($"attribute to={context.Step.GetInt("to", 0)} disagrees with the output type {y.Type.ToOnnxName()}");
        }
        _x = context.InputPtr(0);
        _y = context.OutputPtr(0);
        if (_x == _y && x.Type.SizeOf() != y.Type.SizeOf()) throw context.Fail("Cast between sizes cannot run in place");
        _count = x.ElementCount;
        _read = ElementAccess.Reader(x.Type, context);
        _saturate = context.Step.GetInt("saturate", 1) != 0;
        if (y.Type == ElementType.Float8E8M0)
        {
            _e8m0 = true;
            _roundMode = context.Step.GetString("round_mode", "up");
            if (_roundMode is not ("up" or "down" or "nearest")) throw context.Fail($"round_mode '{_roundMode}' is not one of up, down, nearest");
        }
        else if (SmallFloats.Handles(y.Type))
        {
            _write = SmallFloats.Writer(y.Type, _saturate, context);
        }
        else
        {
            _write = ElementAccess.Writer(y.Type, context);
            _wrapToInteger = y.Type is ElementType.Int4 or ElementType.UInt4 or ElementType.Int2 or ElementType.UInt2;
            ElementAccess.TryIntegerRange(y.Type, out long min, out long max);
            (_min, _max) = (min, max);
        }
    }

    /// <summary>Truncates toward zero and keeps the low bits, as a C cast to a narrow integer does (−9 → int4 7).</summary>
    private double Wrap(double v)
    {
        long bits = double.IsNaN(v) ? 0 : (long)Math.Truncate(v);
        long span = (long)(_max - _min) + 1;
        long wrapped = bits & (span - 1);
        return _min < 0 && wrapped > _max ? wrapped - span : wrapped;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        if (_e8m0)
        {
            for (long i = 0; i < _count; i++) _y[i] = SmallFloats.EncodeE8M0((float)_read(_x, i), _roundMode, _saturate);
            return;
        }
        for (long i = 0; i < _count; i++)
        {
            double v = _read(_x, i);
            if (_wrapToInteger) v = Wrap(v);
            _write(_y, i, v);
        }
    }
}
