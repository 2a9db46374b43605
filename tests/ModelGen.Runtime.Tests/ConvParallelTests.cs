using ModelGen.Runtime;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// Conv paths that spread (image, group) units over the worker pool, each part with its own packed-B
/// buffer that im2col writes directly, or (batch 1) column panels of one unit: batched, grouped, padded, strided and 1×1 cases, large enough
/// (over 1M multiply-adds) to take the parallel path, against the direct reference.
/// Tolerance: rel 1e-4, abs 1e-4 (fp32 FMA sums of up to 72 terms vs double).
/// </summary>
public class ConvParallelTests
{
    private const float Rel = 1e-4f, Abs = 1e-4f;

    public static TheoryData<int[], int[], int, int, int> Cases() => new()
    {
        // x shape, w shape, group, stride, pad
        { [4, 8, 24, 24], [16, 4, 3, 3], 2, 1, 1 },  // 8 units, padded 3x3, grouped
        { [3, 6, 31, 29], [12, 6, 3, 3], 1, 2, 1 },  // odd unit count, strided: partial last panel
        { [5, 32, 20, 20], [24, 32, 1, 1], 1, 1, 0 }, // 1x1: the input is packed directly
        { [2, 8, 28, 28], [16, 8, 5, 5], 1, 1, 0 },  // the small CNN's second layer shape, batched
        // Batch 1: each part packs and multiplies its own column panels.
        { [1, 16, 33, 33], [40, 16, 3, 3], 1, 1, 1 }, // padded 3x3
        { [1, 32, 17, 19], [20, 32, 3, 3], 1, 1, 1 }, // K = 288: the K-sliced GEMM on split panels
        { [1, 64, 30, 30], [24, 64, 1, 1], 1, 1, 0 }, // 1x1: panels of the input packed directly
        { [1, 3, 64, 64], [16, 3, 3, 3], 1, 2, 0 },   // strided, unpadded: the input is read in place
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BatchedConvMatchesReference(int[] xs, int[] ws, int group, int stride, int pad)
    {
        int oh = (xs[2] + 2 * pad - ws[2]) / stride + 1, ow = (xs[3] + 2 * pad - ws[3]) / stride + 1;
        int[] ys = [xs[0], ws[0], oh, ow];
        var x = Data.Random(xs.Sum(), Data.Count(xs));
        var w = Data.Random(ws.Sum(), Data.Count(ws));
        var b = Data.Random(3, ws[0]);
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iw = plan.Weight("W", w, ws);
        int ib = plan.Weight("B", b, [ws[0]]);
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        plan.Step("Conv", [ix, iw, ib], [iy], PlanAttribute.Int("group", group), PlanAttribute.Ints("strides", stride, stride),
            PlanAttribute.Ints("pads", pad, pad, pad, pad), PlanAttribute.String("activation", "Relu"));
        var y = plan.RunAfterStale(x, staleSeed: 99);
        var expected = Reference.Conv(x, xs, w, ws, b, group, [stride, stride], [pad, pad, pad, pad], [1, 1], ys)
            .Select(v => Math.Max(v, 0f)).ToArray();
        Data.Close(expected, y, Rel, Abs);
    }
}
