namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// The optional fifth input of a float Conv step: a tensor of the output's shape that is added to the
/// convolution (after the bias, before the fused activation). The optimizer fuses ResNet's
/// Conv → Add/Sum(shortcut) → Relu into one step this way, so the sum and the activation happen while
/// the output tile is in registers instead of in two more passes over memory.
/// </summary>
internal static unsafe class ConvResidual
{
    /// <summary>
    /// The step input that holds the residual: inputs 0–2 are ONNX Conv's X, W and optional B, and input 3 is
    /// taken by the per-channel scales of int8/fp16 weights.
    /// </summary>
    public const int Input = 4;

    /// <summary>True when the step has a residual input.</summary>
    public static bool Present(BindContext context) => context.HasInput(Input);

    /// <summary>The residual's data, checked against the output, or null when the step has none.</summary>
    public static float* Bind(BindContext context)
    {
        if (!Present(context)) return null;
        var residual = context.Input(Input);
        var y = context.Output(0);
        if (residual.Type != ElementType.Float) throw context.Fail($"the residual input is {residual.Type}; a fused residual must be float");
        if (!residual.Shape.AsSpan().SequenceEqual(y.Shape))
        {
            throw context.Fail($"the residual input has shape {BindContext.ShapeText(residual.Shape)}; it must have the output's shape {BindContext.ShapeText(y.Shape)}");
        }
        return context.FloatInput(Input);
    }
}
