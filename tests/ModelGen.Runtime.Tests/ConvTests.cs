using ModelGen.Runtime;

namespace ModelGen.Runtime.Tests;

/// <summary>Conv (im2col + SGEMM) against the definition. Tolerance: rel 1e-4, abs 1e-5.</summary>
public class ConvTests
{
    private const float Rel = 1e-4f, Abs = 1e-5f;

    public static TheoryData<int[], int[], int, int[], int[], int[], bool> Cases() => new()
    {
        // x shape, w shape, group, strides, pads (begins..., ends...), dilations, bias
        { [1, 1, 5, 5], [1, 1, 3, 3], 1, [1, 1], [0, 0, 0, 0], [1, 1], false },
        { [2, 3, 17, 13], [8, 3, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1], true },
        { [1, 4, 33, 17], [6, 2, 3, 5], 2, [2, 1], [1, 2, 0, 2], [1, 1], true },
        { [1, 6, 15, 15], [6, 1, 3, 3], 6, [1, 1], [1, 1, 1, 1], [1, 1], true },   // depthwise
        { [1, 6, 16, 16], [12, 1, 3, 3], 6, [2, 2], [1, 1, 1, 1], [1, 1], false }, // depthwise multiplier 2 (GEMM path)
        { [2, 8, 17, 13], [8, 1, 3, 5], 8, [2, 1], [1, 2, 0, 2], [2, 1], true },   // depthwise direct: strides, asymmetric pads, dilation
        { [1, 5, 9, 9], [5, 1, 5, 5], 5, [3, 3], [4, 4, 4, 4], [1, 1], true },     // depthwise: pads wider than reach
        { [1, 4, 33], [4, 1, 3], 4, [1], [1, 1], [1], true },                      // depthwise 1-D
        { [1, 64, 56, 56], [64, 1, 3, 3], 64, [1, 1], [1, 1, 1, 1], [1, 1], true }, // depthwise 1.8M multiply-adds: worker pool
        { [1, 3, 20, 20], [5, 3, 3, 3], 1, [1, 1], [2, 2, 2, 2], [2, 2], true },   // dilation
        { [2, 16, 9, 7], [24, 16, 1, 1], 1, [1, 1], [0, 0, 0, 0], [1, 1], true },  // 1x1 direct path
        { [1, 8, 9, 7], [4, 8, 1, 1], 1, [2, 2], [0, 0, 0, 0], [1, 1], false },    // 1x1 strided: im2col
        { [1, 3, 100], [7, 3, 5], 1, [3], [2, 1], [1], true },                      // 1-D
        { [1, 2, 7, 6, 5], [3, 2, 3, 2, 3], 1, [1, 2, 1], [1, 0, 1, 1, 1, 1], [1, 1, 1], true }, // 3-D
        { [1, 12, 28, 28], [64, 12, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1], true }, // 5.4M multiply-adds: worker pool (12 input channels: the Winograd kernel, with its own tests and tolerance, takes 16 and more)
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ConvMatchesDefinition(int[] xs, int[] ws, int group, int[] strides, int[] pads, int[] dilations, bool withBias)
    {
        var ys = Data.ConvOutputShape(xs, ws, strides, pads, dilations);
        var x = Data.Random(1, Data.Count(xs));
        var w = Data.Random(2, Data.Count(ws));
        var b = Data.Random(3, ws[0]);
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iw = plan.Weight("W", w, ws);
        int ib = withBias ? plan.Weight("B", b, [ws[0]]) : -1;
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        plan.Step("Conv", [ix, iw, ib], [iy], PlanAttribute.Int("group", group), PlanAttribute.Ints("strides", Longs(strides)),
            PlanAttribute.Ints("pads", Longs(pads)), PlanAttribute.Ints("dilations", Longs(dilations)), PlanAttribute.Ints("kernel_shape", Longs(ws[2..])));
        var y = plan.Run(x)[0];
        Data.Close(Reference.Conv(x, xs, w, ws, withBias ? b : null, group, strides, pads, dilations, ys), y, Rel, Abs);
    }

    [Theory]
    [InlineData("SAME_UPPER", 1)]
    [InlineData("SAME_UPPER", 2)]
    [InlineData("SAME_LOWER", 2)]
    [InlineData("VALID", 2)]
    public void ConvHonorsAutoPad(string autoPad, int stride)
    {
        int[] xs = [1, 2, 10, 9], ws = [3, 2, 4, 3];
        int[] outDims = new int[2], pads = new int[4];
        for (int d = 0; d < 2; d++)
        {
            int input = xs[2 + d], k = ws[2 + d];
            if (autoPad == "VALID")
            {
                outDims[d] = (input - k) / stride + 1;
                continue;
            }
            outDims[d] = (input + stride - 1) / stride;
            int total = Math.Max(0, (outDims[d] - 1) * stride + k - input);
            pads[d] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
            pads[2 + d] = total - pads[d];
        }
        int[] ys = [1, 3, outDims[0], outDims[1]];
        var x = Data.Random(4, Data.Count(xs));
        var w = Data.Random(5, Data.Count(ws));
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iw = plan.Weight("W", w, ws);
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        plan.Step("Conv", [ix, iw], [iy], PlanAttribute.String("auto_pad", autoPad), PlanAttribute.Ints("strides", stride, stride));
        var y = plan.Run(x)[0];
        Data.Close(Reference.Conv(x, xs, w, ws, null, 1, [stride, stride], pads, [1, 1], ys), y, Rel, Abs);
    }

    [Fact]
    public void ConvWithRuntimeWeightsAndFusedClip()
    {
        int[] xs = [1, 3, 8, 8], ws = [4, 3, 3, 3], ys = [1, 4, 8, 8];
        var x = Data.Random(6, Data.Count(xs), -3, 3);
        var w = Data.Random(7, Data.Count(ws));
        var b = Data.Random(8, 4);
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iw = plan.Input("W", ws);
        int ib = plan.Input("B", [4]);
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        plan.Step("Conv", [ix, iw, ib], [iy], PlanAttribute.Ints("pads", 1, 1, 1, 1), PlanAttribute.String("activation", "Clip"),
            PlanAttribute.Float("activation_min", 0f), PlanAttribute.Float("activation_max", 0.5f));
        var y = plan.Run(x, w, b)[0];
        var expected = Reference.Conv(x, xs, w, ws, b, 1, [1, 1], [1, 1, 1, 1], [1, 1], ys).Select(v => Math.Clamp(v, 0f, 0.5f)).ToArray();
        Data.Close(expected, y, Rel, Abs);
    }

    [Fact]
    public void ConvRejectsWrongOutputShape()
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", [1, 1, 5, 5]);
        int iw = plan.Weight("W", new float[9], [1, 1, 3, 3]);
        int iy = plan.Arena("Y", [1, 1, 5, 5]);
        plan.Output(iy);
        plan.Step("Conv", [ix, iw], [iy]);
        var e = Assert.Throws<ModelGenException>(() => plan.Run(new float[25]));
        Assert.Contains("Conv 'conv_0'", e.Message);
        Assert.Contains("give 3", e.Message);
    }

    internal static long[] Longs(int[] a) => a.Select(v => (long)v).ToArray();
}
