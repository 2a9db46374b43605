namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// Where the per-channel scales of an int8 weight apply (docs/quantization.md): Conv W
/// <c>[M, C/g, k…]</c> along axis 0, Gemm B along its N axis (0 when transB=1, else 1), MatMul B
/// <c>[…, K, N]</c> along the last axis. Checks the scales input (3) and the weight's values.
/// </summary>
internal sealed unsafe class Int8WeightLayout
{
    private Int8WeightLayout(float* scales, int channels, long inner)
    {
        Scales = scales;
        Channels = channels;
        Inner = inner;
    }

    /// <summary>The scales, one per output channel.</summary>
    public float* Scales { get; }

    /// <summary>The number of output channels (the length of <see cref="Scales"/>).</summary>
    public int Channels { get; }

    /// <summary>Elements after the channel axis: element e belongs to channel <c>e / Inner % Channels</c>.</summary>
    public long Inner { get; }

    /// <summary>Checks the int8 weight at input <paramref name="i"/> and its scales; fails naming the step.</summary>
    public static Int8WeightLayout Bind(BindContext context, int i)
    {
        var slot = context.Input(i);
        string op = context.Step.Op;
        if (slot.Type != ElementType.Int8) throw context.Fail($"input {i} ('{slot.Name}') must be int8, not {slot.Type.ToOnnxName()}");
        if (i != 1 || op is not ("Conv" or "Gemm" or "MatMul"))
        {
            throw context.Fail($"input {i} ('{slot.Name}') is an int8 weight, but only the weight (input 1) of Conv, Gemm and MatMul may be int8");
        }
        if (slot.Storage != SlotStorage.Weights) throw context.Fail($"the int8 weight '{slot.Name}' must be a constant (in the weights blob)");
        if (!context.HasInput(FloatWeights.ScalesInput))
        {
            throw context.Fail($"the int8 weight '{slot.Name}' has no scales: input {FloatWeights.ScalesInput} must be the float per-channel scales (re-run the optimizer's quantization pass)");
        }
        int[] shape = slot.Shape;
        int axis = op switch
        {
            "Conv" => 0,
            "Gemm" => context.Step.GetInt("transB", 0) != 0 ? 0 : 1,
            _ => shape.Length - 1,
        };
        if (shape.Length == 0 || (op != "MatMul" && shape.Length < 2)) throw context.Fail($"the int8 weight '{slot.Name}' has shape {BindContext.ShapeText(shape)}, which has no channel axis");
        int channels = op == "MatMul" && shape.Length == 1 ? 1 : shape[axis];
        long inner = 1;
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        if (op == "MatMul" && shape.Length == 1) inner = shape[0];

        var scalesSlot = context.Input(FloatWeights.ScalesInput);
        if (scalesSlot.Type != ElementType.Float) throw context.Fail($"the scales '{scalesSlot.Name}' (input {FloatWeights.ScalesInput}) must be float, not {scalesSlot.Type.ToOnnxName()}");
        if (scalesSlot.Storage != SlotStorage.Weights) throw context.Fail($"the scales '{scalesSlot.Name}' (input {FloatWeights.ScalesInput}) must be a constant (in the weights blob)");
        if (scalesSlot.ElementCount != channels)
        {
            throw context.Fail($"the scales '{scalesSlot.Name}' have {scalesSlot.ElementCount} values, but the int8 weight '{slot.Name}' {BindContext.ShapeText(shape)} has {channels} output channels (axis {axis})");
        }
        float* scales = (float*)context.Address(scalesSlot);
        for (int c = 0; c < channels; c++)
        {
            if (!float.IsFinite(scales[c]) || scales[c] <= 0f) throw context.Fail($"scale {c} of '{scalesSlot.Name}' is {scales[c]}; scales must be finite and positive");
        }
        return new Int8WeightLayout(scales, channels, inner);
    }
}
