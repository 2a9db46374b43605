namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// How an int8-compute step quantizes its fp32 input (attributes <c>quant</c>,
/// <c>input_scale</c>, <c>input_zero_point</c>): fixed from calibration (<c>static</c>), or from the
/// input's range on every call (<c>dynamic</c>).
/// </summary>
internal sealed unsafe class ActivationQuantization
{
    private ActivationQuantization(bool dynamic, float scale, int zeroPoint)
    {
        IsDynamic = dynamic;
        Scale = scale;
        ZeroPoint = zeroPoint;
    }

    /// <summary>True for <c>quant=dynamic</c>.</summary>
    public bool IsDynamic { get; }

    /// <summary>The activation scale (for dynamic steps, of the last call).</summary>
    public float Scale { get; private set; }

    /// <summary>The activation zero point, 0..255 (for dynamic steps, of the last call).</summary>
    public int ZeroPoint { get; private set; }

    /// <summary>Reads and checks the step's quantization attributes.</summary>
    public static ActivationQuantization FromStep(BindContext context)
    {
        var step = context.Step;
        string mode = step.GetString("quant", "");
        switch (mode)
        {
            case "dynamic":
                return new ActivationQuantization(true, 1f, 0);
            case "static":
            {
                var scale = step.Find("input_scale")
                    ?? throw context.Fail("quant=static needs attribute input_scale (the calibrated activation scale); re-run the optimizer's calibration");
                if (scale.Kind != PlanAttributeKind.Float || !float.IsFinite(scale.FloatValue) || scale.FloatValue <= 0f)
                {
                    throw context.Fail($"input_scale must be a finite positive float, not {(scale.Kind == PlanAttributeKind.Float ? scale.FloatValue : scale.Kind)}");
                }
                long zeroPoint = step.GetInt("input_zero_point", 0);
                if (zeroPoint is < 0 or > 255) throw context.Fail($"input_zero_point={zeroPoint} is outside 0..255 (activations are uint8)");
                return new ActivationQuantization(false, scale.FloatValue, (int)zeroPoint);
            }
            default:
                throw context.Fail($"quant='{mode}' is not supported (use 'static' or 'dynamic')");
        }
    }

    /// <summary>For dynamic steps, derives scale and zero point from the <paramref name="count"/> values at <paramref name="x"/>.</summary>
    public void Resolve(float* x, long count)
    {
        if (!IsDynamic) return;
        ActivationQuantizer.Range(x, count, out float min, out float max);
        ActivationQuantizer.Parameters(min, max, out float scale, out int zeroPoint);
        Scale = scale;
        ZeroPoint = zeroPoint;
    }
}
