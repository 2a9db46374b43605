namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// The optional residual input of a float Conv step: a tensor of the output's shape that is added to the
/// convolution (after the bias, before the fused activation). The optimizer fuses ResNet's
/// Conv → Add/Sum(shortcut) → Relu into one step this way, so the sum and the activation happen while
/// the output tile is in registers instead of in two more passes over memory.
/// </summary>
internal static unsafe class ConvResidual
{
    /// <summary>
    /// The step attribute that marks a fused residual; its value is the index of the input that holds it. An
    /// attribute rather than a fixed position, because the inputs after ONNX Conv's X, W and B mean other things
    /// to other steps (int8/fp16 weight scales, sparse weight arrays).
    /// </summary>
    public const string Attribute = "residual";

    /// <summary>True when the step has a residual input.</summary>
    public static bool Present(BindContext context) => context.Step.Find(Attribute) is not null;

    /// <summary>The index of the step's residual input (see <see cref="Attribute"/>).</summary>
    public static int Input(BindContext context) => (int)context.Step.GetInt(Attribute, -1);

    /// <summary>The residual's data, checked against the output, or null when the step has none.</summary>
    public static float* Bind(BindContext context)
    {
        if (!Present(context)) return null;
        int input = Input(context);
        if (input < 3 || !context.HasInput(input)) throw context.Fail($"the '{Attribute}' attribute names input {input}, which the step does not have");
        var residual = context.Input(input);
        var y = context.Output(0);
        if (residual.Type != ElementType.Float) throw context.Fail($"the residual input is {residual.Type}; a fused residual must be float");
        if (!residual.Shape.AsSpan().SequenceEqual(y.Shape))
        {
            throw context.Fail($"the residual input has shape {BindContext.ShapeText(residual.Shape)}; it must have the output's shape {BindContext.ShapeText(y.Shape)}");
        }
        return context.FloatInput(input);
    }

    /// <summary>
    /// Has <paramref name="epilogue"/> add the step's residual, if it has one, to the output <paramref name="y"/>: the
    /// epilogue holds the residual's distance from the output, which also serves every unit (image, group) of a conv,
    /// since each unit's output and residual sit at the same offset in their tensors.
    /// </summary>
    public static void AddTo(BindContext context, ref Gemm.Epilogue epilogue, float* y)
    {
        float* residual = Bind(context);
        if (residual == null) return;
        epilogue.HasResidual = true;
        epilogue.ResidualOffset = residual - y;
    }
}
