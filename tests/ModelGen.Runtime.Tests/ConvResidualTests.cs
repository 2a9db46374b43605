using ModelGen.Runtime;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// A Conv step with a fused residual (attribute <c>residual</c> naming input 4, what the optimizer makes of ResNet's Conv → Add/Sum → Relu):
/// y = act(conv(x) + bias + r), against the direct reference. The shapes reach every kernel's residual path:
/// the direct kernel (full and masked vectors, a 1×1, groups, an activation applied after the stores), the
/// channel-tile kernel (the residual added in its transpose, split by pixel tiles and by channel groups), and the
/// channel-major SGEMM kernel (1×1 in place with a packed remainder, K split into slices, im2col with an activation
/// applied in a pass over the block), and the Winograd kernel (the residual added by its output transform, with Relu
/// in registers and with an activation applied after the stores).
/// Each case also runs in place, the output in the residual's own bytes (what the memory planner does when the Conv is
/// the residual's last reader), where every kernel must read an element's residual before it stores that element, and a
/// product split into K slices must keep the residual as its starting sum. Each case runs on every tile path the CPU has
/// (<see cref="FloatPaths"/>: AVX-512 and AVX2 where both are there), twice on different inputs
/// (stale scratch cannot pass). Tolerance: rel 1e-4, abs 1e-4 (fp32 sums of up to 1100 terms vs double).
/// </summary>
public class ConvResidualTests
{
    private const float Rel = 1e-4f, Abs = 1e-4f;

    public static TheoryData<int[], int[], int, int, int, string> Cases() => new()
    {
        // x shape, w shape, stride, pad, group, activation
        { [1, 16, 20, 20], [24, 16, 3, 3], 1, 1, 1, "Relu" },       // direct: 20-wide rows, masked last vectors
        { [2, 32, 15, 15], [40, 32, 1, 1], 1, 0, 1, "LeakyRelu" },  // direct 1×1, batch 2, activation after the stores
        { [1, 8, 10, 10], [8, 1, 3, 3], 1, 1, 8, "Relu" },          // depthwise: the general kernels take it
        { [2, 96, 7, 7], [300, 96, 1, 1], 1, 0, 1, "Relu" },        // channel tiles (49 pixels), a partial channel group
        { [1, 72, 9, 9], [64, 72, 3, 3], 1, 1, 1, "Sigmoid" },      // channel tiles, one group (split by pixels), padded
        { [1, 128, 15, 15], [72, 128, 1, 1], 1, 0, 1, "Relu" },     // channel-major 1×1: in place plus a packed remainder
        { [1, 300, 15, 15], [70, 300, 1, 1], 1, 0, 1, "Relu" },     // channel-major 1×1, K = 300: in place in KC slices, packed whole
        { [1, 300, 15, 15], [264, 300, 1, 1], 1, 0, 1, "Relu" },    // channel-major 1×1 split by rows (each part packing all columns without AVX-512), K = 300 in KC slices
        { [1, 300, 7, 7], [264, 300, 1, 1], 1, 0, 1, "Relu" },      // channel-major 1×1 on 7×7 (4 panels), K = 300: on AVX2 row block by row block over all of K
        { [1, 1100, 15, 15], [40, 1100, 1, 1], 1, 0, 1, "" },       // channel-major 1×1, K = 1100: the packed columns group-major in two slices
        { [1, 32, 16, 16], [272, 32, 3, 3], 1, 1, 1, "Relu" },      // channel-major im2col, K = 288: row blocks in KC slices
        { [1, 8, 20, 20], [260, 8, 3, 3], 1, 1, 1, "LeakyRelu" },   // channel-major im2col, the activation in a pass
        { [1, 8, 20, 20], [260, 8, 3, 3], 1, 1, 1, "" },            // no activation: the residual alone
        { [1, 64, 27, 27], [72, 64, 3, 3], 1, 1, 1, "Relu" },       // Winograd (F(4×4) on AVX2): odd map, two parts, masked row ends
        { [1, 64, 14, 14], [32, 64, 3, 3], 1, 1, 1, "Sigmoid" },    // Winograd, the activation after the stores
        { [1, 64, 14, 14], [132, 64, 3, 3], 1, 1, 1, "Relu" },     // Winograd, on AVX2 split by output channels
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ResidualIsAddedBeforeTheActivation(int[] xs, int[] ws, int stride, int pad, int group, string activation) =>
        FloatPaths.OnEach(() => Check(xs, ws, stride, pad, group, activation, inPlace: false));

    [Theory]
    [MemberData(nameof(Cases))]
    public void ResidualInTheOutputsBytesIsAddedBeforeTheActivation(int[] xs, int[] ws, int stride, int pad, int group, string activation) =>
        FloatPaths.OnEach(() => Check(xs, ws, stride, pad, group, activation, inPlace: true));

    private static void Check(int[] xs, int[] ws, int stride, int pad, int group, string activation, bool inPlace)
    {
        int oh = (xs[2] + 2 * pad - ws[2]) / stride + 1, ow = (xs[3] + 2 * pad - ws[3]) / stride + 1;
        int[] ys = [xs[0], ws[0], oh, ow];
        var x = Data.Random(xs.Sum() + 1, Data.Count(xs));
        var w = Data.Random(ws.Sum() + 2, Data.Count(ws), -0.3f, 0.3f);
        var b = Data.Random(5, ws[0]);
        var r = Data.Random(ys.Sum() + 3, Data.Count(ys), -2f, 2f);
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int ir = plan.Input("R", ys);
        int iw = plan.Weight("W", w, ws);
        int ib = plan.Weight("B", b, [ws[0]]);
        // In place, the step writes its output over R: graph input R's slot is the output too.
        int iy = inPlace ? ir : plan.Arena("Y", ys);
        plan.Output(iy);
        var attributes = new List<PlanAttribute>
        {
            PlanAttribute.Ints("strides", stride, stride), PlanAttribute.Ints("pads", pad, pad, pad, pad), PlanAttribute.Int("group", group),
            PlanAttribute.Int("residual", 4),
        };
        if (activation != "") attributes.Add(PlanAttribute.String("activation", activation));
        plan.Step("Conv", [ix, iw, ib, -1, ir], [iy], [.. attributes]);

        using var executor = plan.Executor(out var weights);
        using (weights)
        {
            var y = new float[Data.Count(ys)];
            // Stale data first: a second call must not see the first call's scratch or output.
            executor.SetInput<float>(0, Data.Random(77, x.Length, -5f, 5f));
            executor.SetInput<float>(1, Data.Random(78, r.Length, -5f, 5f));
            executor.Run();
            executor.SetInput<float>(0, x);
            executor.SetInput<float>(1, r);
            executor.Run();
            executor.GetOutput<float>(0, y);

            var conv = Reference.Conv(x, xs, w, ws, b, group, [stride, stride], [pad, pad, pad, pad], [1, 1], ys);
            // LeakyRelu's alpha is the default, 0.01.
            var expected = conv.Select((v, i) => v + r[i]).Select(v => activation switch
            {
                "Relu" => Math.Max(v, 0f),
                "LeakyRelu" => v >= 0 ? v : 0.01f * v,
                "Sigmoid" => 1f / (1f + MathF.Exp(-v)),
                _ => v,
            }).ToArray();
            Data.Close(expected, y, Rel, Abs);
        }
    }

    [Fact]
    public void ResidualOfAnotherShapeIsRefusedWithTheShapes()
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", [1, 4, 6, 6]);
        int ir = plan.Input("R", [1, 4, 5, 5]);
        int iw = plan.Weight("W", Data.Random(2, 4 * 4 * 9), [4, 4, 3, 3]);
        int iy = plan.Arena("Y", [1, 4, 6, 6]);
        plan.Output(iy);
        plan.Step("Conv", [ix, iw, -1, -1, ir], [iy], PlanAttribute.Ints("pads", 1, 1, 1, 1), PlanAttribute.Int("residual", 4));
        var e = Assert.Throws<ModelGenException>(() => plan.Executor(out _));
        Assert.Contains("residual input has shape [1,4,5,5]", e.Message);
        Assert.Contains("[1,4,6,6]", e.Message);
    }
}
