namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// fp32 views of reduced-precision weights for the float kernels (docs/quantization.md, "Storage of
/// weights"): a float16 weight is widened, an int8 weight-only Conv/Gemm/MatMul weight is
/// dequantized with its per-channel scales (input 3). Either is done once per
/// <see cref="ModelWeights"/> and shared by every executor of the model.
/// </summary>
internal static unsafe class FloatWeights
{
    /// <summary>Input 3 of Conv, Gemm and MatMul: the per-output-channel scales of an int8 weight.</summary>
    public const int ScalesInput = 3;

    /// <summary>The fp32 conversion of weight input <paramref name="i"/> (float16 or int8).</summary>
    public static float* Get(BindContext context, int i)
    {
        var slot = context.Input(i);
        return slot.Type switch
        {
            ElementType.Float16 => Widened(context, slot),
            ElementType.Int8 => Dequantized(context, i, slot),
            _ => throw context.Fail($"input {i} ('{slot.Name}') is {slot.Type.ToOnnxName()}, but this kernel supports only float"),
        };
    }

    private static float* Widened(BindContext context, TensorSlot slot)
    {
        long count = slot.ElementCount;
        Half* source = (Half*)context.Address(slot);
        return (float*)context.Weights.Derived($"f16>f32@{slot.Offset}x{count}", count * sizeof(float), target =>
        {
            float* t = (float*)target;
            for (long e = 0; e < count; e++) t[e] = (float)source[e];
        });
    }

    private static float* Dequantized(BindContext context, int i, TensorSlot slot)
    {
        var layout = Int8WeightLayout.Bind(context, i);
        if (context.Step.Find("quant") is not null)
        {
            throw context.Fail("an int8-compute step (attribute quant) cannot read its int8 weight as float");
        }
        long count = slot.ElementCount;
        sbyte* source = (sbyte*)context.Address(slot);
        float* scales = layout.Scales;
        long inner = layout.Inner;
        int channels = layout.Channels;
        string key = $"s8>f32@{slot.Offset}x{count}/{context.Input(ScalesInput).Offset}:{channels}:{inner}";
        return (float*)context.Weights.Derived(key, count * sizeof(float), target =>
        {
            float* t = (float*)target;
            for (long e = 0; e < count; e++) t[e] = source[e] * scales[e / inner % channels];
        });
    }
}
