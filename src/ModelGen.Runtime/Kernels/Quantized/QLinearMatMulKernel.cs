using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// ONNX QLinearMatMul (opsets 10, 21): y = saturate(round(((a − a_zp) × (b − b_zp)) · a_scale · b_scale
/// / y_scale) + y_zp) with numpy matmul broadcasting. The product is exact int32
/// (<see cref="IntegerGemm"/>); the requantizing multiplier a_scale · b_scale / y_scale is formed in
/// the scales' own precision (float or float16, as ONNX's reference does) and applied in double,
/// rounding half to even. Scales and zero points are per tensor.
/// </summary>
internal sealed unsafe class QLinearMatMulKernel : Kernel
{
    private readonly byte* _a, _b, _aZero, _bZero, _yZero, _y;
    private readonly byte* _aScale, _bScale, _yScale;
    private readonly delegate*<byte*, long, double> _readScale, _readAZero, _readBZero, _readYZero;
    private readonly delegate*<byte*, long, double, void> _write;
    private readonly delegate*<byte*, long, byte*, long, int, int, int, int*, int*, int*, void> _multiply;
    private readonly bool _halfScales;
    private readonly int* _za, _zb, _c;
    private readonly long _aZeroCount, _bZeroCount;
    private readonly MatMulBatches _batches;
    private readonly int _aSize, _bSize;
    private readonly double _min, _max;

    public QLinearMatMulKernel(BindContext context)
    {
        var aType = context.Input(0).Type;
        var bType = context.Input(3).Type;
        var yType = context.Output(0).Type;
        _multiply = IntegerGemm.Pick(aType, bType, context);
        if (!ElementAccess.TryIntegerRange(yType, out long min, out long max) || yType is not (ElementType.UInt8 or ElementType.Int8))
        {
            throw context.Fail($"output type {yType.ToOnnxName()} is not uint8 or int8");
        }
        (_min, _max) = (min, max);
        _write = ElementAccess.Writer(yType, context);
        _batches = MatMulBatches.Create(context, 0, 3, context.Output(0).Shape);
        var scaleType = context.Input(1).Type;
        if (scaleType is not (ElementType.Float or ElementType.Float16)) throw context.Fail($"scales must be float or float16, not {scaleType.ToOnnxName()}");
        foreach (int s in new[] { 1, 4, 6 })
        {
            context.RequireType(s, scaleType, input: true);
            if (context.Input(s).ElementCount != 1) throw context.Fail($"input {s} ('{context.Input(s).Name}') must be a per-tensor (one-value) scale");
        }
        _halfScales = scaleType == ElementType.Float16;
        _readScale = ElementAccess.Reader(scaleType, context);
        _aScale = context.InputPtr(1);
        _bScale = context.InputPtr(4);
        _yScale = context.InputPtr(6);
        _a = context.InputPtr(0);
        _b = context.InputPtr(3);
        _y = context.OutputPtr(0);
        _aSize = aType.SizeOf();
        _bSize = bType.SizeOf();
        _za = (int*)context.Scratch(4L * _batches.M);
        _zb = (int*)context.Scratch(4L * _batches.N);
        _c = (int*)context.Scratch(4L * _batches.M * _batches.N);
        nint p, r;
        (p, _aZeroCount, r) = MatMulIntegerKernel.ZeroPointRaw(context, 2, aType, _batches.M, "a_zero_point", "rows of A");
        _aZero = (byte*)p;
        _readAZero = (delegate*<byte*, long, double>)r;
        (p, _bZeroCount, r) = MatMulIntegerKernel.ZeroPointRaw(context, 5, bType, _batches.N, "b_zero_point", "columns of B");
        _bZero = (byte*)p;
        _readBZero = (delegate*<byte*, long, double>)r;
        if (context.HasInput(7))
        {
            context.RequireType(7, yType, input: true);
            _yZero = context.InputPtr(7);
            _readYZero = ElementAccess.Reader(yType, context);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        var b = _batches;
        IntegerGemm.ZeroPoints(_aZero, _readAZero, _aZeroCount, _za, b.M);
        IntegerGemm.ZeroPoints(_bZero, _readBZero, _bZeroCount, _zb, b.N);
        double multiplier = Multiplier(_readScale(_aScale, 0), _readScale(_bScale, 0), _readScale(_yScale, 0), _halfScales);
        double zero = _yZero == null ? 0 : _readYZero(_yZero, 0);
        long mn = (long)b.M * b.N;
        for (int i = 0; i < b.AOffsets.Length; i++)
        {
            _multiply(_a + b.AOffsets[i] * _aSize, b.K, _b + b.BOffsets[i] * _bSize, b.N, b.M, b.K, b.N, _za, _zb, _c);
            for (long j = 0; j < mn; j++)
            {
                double v = Math.Round(_c[j] * multiplier, MidpointRounding.ToEven) + zero;
                _write(_y, i * mn + j, Math.Clamp(v, _min, _max));
            }
        }
    }

    /// <summary>x_scale · w_scale / y_scale in the scales' precision: float32, or float16 rounded after each operation.</summary>
    internal static double Multiplier(double xScale, double wScale, double yScale, bool half)
    {
        if (half) return (double)(Half)((double)(Half)(xScale * wScale) / yScale);
        return (float)((float)xScale * (float)wScale) / (float)yScale;
    }
}
