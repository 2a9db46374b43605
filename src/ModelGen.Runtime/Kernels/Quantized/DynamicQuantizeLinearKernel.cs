using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// ONNX DynamicQuantizeLinear (opset 11): uint8 quantization of a float tensor with a scale and zero
/// point computed from its range, which always includes 0:
/// scale = (max(0, max x) − min(0, min x)) / 255, zero_point = saturate(round(−min / scale)),
/// y = saturate(round(x / scale) + zero_point), rounding half to even, all in float32 as the
/// spec's reference computes. An all-zero input gives scale 0, zero point 0 and y = 0 (rather than
/// dividing by zero).
/// </summary>
internal sealed unsafe class DynamicQuantizeLinearKernel : Kernel
{
    private readonly float* _x, _scale;
    private readonly byte* _y, _zeroPoint;
    private readonly long _count;

    public DynamicQuantizeLinearKernel(BindContext context)
    {
        _x = context.FloatInput(0);
        context.RequireType(0, ElementType.UInt8, input: false);
        context.RequireType(2, ElementType.UInt8, input: false);
        _y = context.OutputPtr(0);
        _scale = context.FloatOutput(1);
        _zeroPoint = context.OutputPtr(2);
        _count = context.Input(0).ElementCount;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        float min = 0f, max = 0f;
        for (long i = 0; i < _count; i++)
        {
            min = MathF.Min(min, _x[i]);
            max = MathF.Max(max, _x[i]);
        }
        float scale = (max - min) / 255f;
        byte zeroPoint = scale == 0f ? (byte)0 : (byte)Math.Clamp(MathF.Round(-min / scale, MidpointRounding.ToEven), 0f, 255f);
        *_scale = scale;
        *_zeroPoint = zeroPoint;
        for (long i = 0; i < _count; i++)
        {
            float q = scale == 0f ? 0f : MathF.Round(_x[i] / scale, MidpointRounding.ToEven) + zeroPoint;
            _y[i] = (byte)Math.Clamp(q, 0f, 255f);
        }
    }
}
