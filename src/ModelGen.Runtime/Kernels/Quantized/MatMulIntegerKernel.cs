using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// ONNX MatMulInteger (opset 10): int32 Y = (A − a_zero_point) × (B − b_zero_point) with numpy
/// matmul broadcasting, uint8/int8 operands, zero points scalar or per A row / per B column.
/// Exact integer arithmetic (<see cref="IntegerGemm"/>).
/// </summary>
internal sealed unsafe class MatMulIntegerKernel : Kernel
{
    private readonly byte* _a, _b, _aZero, _bZero;
    private readonly int* _y, _za, _zb;
    private readonly long _aZeroCount, _bZeroCount;
    private readonly delegate*<byte*, long, double> _readAZero, _readBZero;
    private readonly delegate*<byte*, long, byte*, long, int, int, int, int*, int*, int*, void> _multiply;
    private readonly MatMulBatches _batches;
    private readonly int _aSize, _bSize;

    public MatMulIntegerKernel(BindContext context)
    {
        context.RequireType(0, ElementType.Int32, input: false);
        var aType = context.Input(0).Type;
        var bType = context.Input(1).Type;
        _multiply = IntegerGemm.Pick(aType, bType, context);
        _batches = MatMulBatches.Create(context, 0, 1, context.Output(0).Shape);
        _a = context.InputPtr(0);
        _b = context.InputPtr(1);
        _aSize = aType.SizeOf();
        _bSize = bType.SizeOf();
        _y = (int*)context.OutputPtr(0);
        _za = (int*)context.Scratch(4L * _batches.M);
        _zb = (int*)context.Scratch(4L * _batches.N);
        nint p, r;
        (p, _aZeroCount, r) = ZeroPointRaw(context, 2, aType, _batches.M, "a_zero_point", "rows of A");
        _aZero = (byte*)p;
        _readAZero = (delegate*<byte*, long, double>)r;
        (p, _bZeroCount, r) = ZeroPointRaw(context, 3, bType, _batches.N, "b_zero_point", "columns of B");
        _bZero = (byte*)p;
        _readBZero = (delegate*<byte*, long, double>)r;
    }

    /// <summary>
    /// An optional zero point, checked to be a scalar or one per row/column (<paramref name="length"/>):
    /// its address, element count and reader (as nint, since pointers cannot be tuple elements).
    /// </summary>
    internal static (nint, long, nint) ZeroPointRaw(BindContext context, int input, ElementType type, int length, string name, string per)
    {
        if (!context.HasInput(input)) return (0, 0, 0);
        var slot = context.Input(input);
        context.RequireType(input, type, input: true);
        if (slot.ElementCount != 1 && (slot.ElementCount != length || slot.Shape.Length != 1))
        {
            throw context.Fail($"{name} must be a scalar or have one value per {per} ({length}), but its shape is {BindContext.ShapeText(slot.Shape)}");
        }
        return ((nint)context.InputPtr(input), slot.ElementCount, (nint)ElementAccess.Reader(type, context));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        var b = _batches;
        IntegerGemm.ZeroPoints(_aZero, _readAZero, _aZeroCount, _za, b.M);
        IntegerGemm.ZeroPoints(_bZero, _readBZero, _bZeroCount, _zb, b.N);
        for (int i = 0; i < b.AOffsets.Length; i++)
        {
            _multiply(_a + b.AOffsets[i] * _aSize, b.K, _b + b.BOffsets[i] * _bSize, b.N, b.M, b.K, b.N, _za, _zb, _y + (long)i * b.M * b.N);
        }
    }
}
