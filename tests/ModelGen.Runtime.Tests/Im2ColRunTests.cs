using ModelGen.Runtime;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// im2col packed from runs of consecutive output pixels (one load, or two loads and an even-lane permute at
/// stride 2, per run and tap) against the direct reference, over output widths that give a panel 1 to 4 runs,
/// more than 4 (gathered instead), a partial last panel, pads, dilation and a 1-D conv. The convs have fewer
/// than 64 output channels so the channel-major kernel (the one with im2col panels) takes them.
/// Tolerance: rel 1e-4, abs 1e-4 (fp32 sums of up to 200 terms vs double).
/// </summary>
public class Im2ColRunTests
{
    private const float Rel = 1e-4f, Abs = 1e-4f;

    public static TheoryData<int[], int[], int, int, int> Cases() => new()
    {
        // x shape, w shape, stride, pad, dilation
        { [1, 3, 40, 40], [16, 3, 3, 3], 2, 1, 1 },   // stride 2, width 20: one or two runs per panel
        { [1, 4, 23, 37], [8, 4, 5, 5], 2, 0, 1 },    // stride 2, width 17, unpadded
        { [2, 8, 13, 13], [12, 8, 3, 3], 1, 1, 2 },   // dilation 2, width 11
        { [1, 5, 11, 9], [7, 5, 3, 3], 1, 1, 1 },     // width 9: up to 3 runs
        { [1, 6, 30, 6], [10, 6, 3, 3], 1, 1, 1 },    // width 6: 4 runs
        { [1, 6, 30, 4], [10, 6, 3, 3], 1, 1, 1 },    // width 4: 5 runs, gathered
        { [1, 3, 15, 15], [9, 3, 7, 7], 2, 3, 1 },    // ResNet's first-conv pattern at small size, width 8
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Im2ColRunsMatchReference(int[] xs, int[] ws, int stride, int pad, int dilation)
    {
        int reachH = dilation * (ws[2] - 1) + 1, reachW = dilation * (ws[3] - 1) + 1;
        int oh = (xs[2] + 2 * pad - reachH) / stride + 1, ow = (xs[3] + 2 * pad - reachW) / stride + 1;
        int[] ys = [xs[0], ws[0], oh, ow];
        var x = Data.Random(xs.Sum() + 3, Data.Count(xs));
        var w = Data.Random(ws.Sum() + 4, Data.Count(ws));
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iw = plan.Weight("W", w, ws);
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        plan.Step("Conv", [ix, iw], [iy], PlanAttribute.Ints("strides", stride, stride),
            PlanAttribute.Ints("pads", pad, pad, pad, pad), PlanAttribute.Ints("dilations", dilation, dilation));
        var y = plan.Run(x)[0];
        var expected = Reference.Conv(x, xs, w, ws, null, 1, [stride, stride], [pad, pad, pad, pad], [dilation, dilation], ys);
        Data.Close(expected, y, Rel, Abs);
    }

    [Fact]
    public void OneDimensionalStrideTwoConvMatchesReference()
    {
        int[] xs = [2, 3, 75], ws = [5, 3, 4], ys = [2, 5, 36];
        var x = Data.Random(1, Data.Count(xs));
        var w = Data.Random(2, Data.Count(ws));
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iw = plan.Weight("W", w, ws);
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        plan.Step("Conv", [ix, iw], [iy], PlanAttribute.Ints("strides", 2), PlanAttribute.Ints("pads", 0, 0));
        var y = plan.Run(x)[0];
        var expected = Reference.Conv(x, xs, w, ws, null, 1, [2], [0, 0], [1], ys);
        Data.Close(expected, y, Rel, Abs);
    }
}
