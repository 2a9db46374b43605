namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// Which scale (and zero point) applies to each element of QuantizeLinear's or DequantizeLinear's
/// x: one for the whole tensor, one per index along <c>axis</c>, or (opset 21+) one per
/// <c>block_size</c> consecutive indices along <c>axis</c>, where the scale has x's rank. x is
/// viewed as [outer, axis, inner]; the scale index of element (o, a, i) is
/// <c>o·OuterStride + (a / Block)·AxisStride + i·InnerStride</c>, the strides picked at bind time
/// so one loop serves the three granularities.
/// </summary>
internal sealed class QuantAxis
{
    public long Outer { get; private init; } = 1;
    public long AxisLength { get; private init; } = 1;
    public long Inner { get; private init; } = 1;
    public long Block { get; private init; } = 1;
    public long OuterStride { get; private init; }
    public long AxisStride { get; private init; }
    public long InnerStride { get; private init; }

    /// <summary>Reads axis and block_size and checks the scale's shape against x's.</summary>
    /// <param name="context">The step (attributes, errors).</param>
    /// <param name="scaleInput">The operand index of the scale.</param>
    /// <param name="zeroPointInput">The operand index of the (optional) zero point, which must have the scale's shape.</param>
    public static QuantAxis Create(BindContext context, int scaleInput, int zeroPointInput)
    {
        int[] x = context.Input(0).Shape;
        var scale = context.Input(scaleInput);
        // A one-element zero point may be [1] beside a scalar scale (ONNX's own cases do this).
        if (context.HasInput(zeroPointInput) && !context.Input(zeroPointInput).Shape.SequenceEqual(scale.Shape)
            && !(context.Input(zeroPointInput).ElementCount == 1 && scale.ElementCount == 1))
        {
            throw context.Fail($"zero point shape {BindContext.ShapeText(context.Input(zeroPointInput).Shape)} differs from the scale's {BindContext.ShapeText(scale.Shape)}");
        }
        long count = 1;
        foreach (int d in x) count *= d;
        long block = context.Step.GetInt("block_size", 0);
        if (block < 0) throw context.Fail($"block_size={block} must not be negative");
        if (block == 0 && scale.ElementCount == 1 && scale.Shape.Length <= 1)
        {
            return new QuantAxis { Inner = count };
        }
        if (x.Length == 0) throw context.Fail("a scalar x needs a scalar scale");
        int axis = context.Axis(context.Step.GetInt("axis", 1), x.Length);
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= x[d];
        for (int d = axis + 1; d < x.Length; d++) inner *= x[d];
        if (block == 0)
        {
            if (scale.Shape.Length != 1 || scale.Shape[0] != x[axis])
            {
                throw context.Fail($"a per-axis scale must be 1-D with x's axis {axis} length {x[axis]}, but it is {BindContext.ShapeText(scale.Shape)}; use a scalar scale, or block_size for blocked quantization");
            }
            return new QuantAxis { Outer = outer, AxisLength = x[axis], Inner = inner, AxisStride = 1 };
        }
        int blocks = (int)((x[axis] + block - 1) / block);
        bool fits = scale.Shape.Length == x.Length;
        for (int d = 0; fits && d < x.Length; d++) fits = scale.Shape[d] == (d == axis ? blocks : x[d]);
        if (!fits)
        {
            throw context.Fail($"with block_size={block} the scale must have x's shape {BindContext.ShapeText(x)} with dim {axis} = {blocks}, but it is {BindContext.ShapeText(scale.Shape)}");
        }
        return new QuantAxis
        {
            Outer = outer, AxisLength = x[axis], Inner = inner, Block = block,
            OuterStride = blocks * inner, AxisStride = inner, InnerStride = 1,
        };
    }
}
