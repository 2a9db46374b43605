using ModelGen.Runtime;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// The pixel-major Conv (small maps, ≥ 64 output channels: Yᵀ = colᵀ·Wᵀ, then transposed) against the
/// direct reference: 1×1 and 3×3 on 7×7, strided and padded, batch 2, channel counts that are not whole
/// 64-column tiles, with and without bias. Each case runs twice on different inputs, so stale data in the
/// packed or transposed buffers cannot pass. Tolerance: rel 1e-4, abs 1e-4 (fp32 sums of up to 1,152 terms
/// vs double). On a machine without AVX-512 the channel-major kernel runs the same cases.
/// </summary>
public class PixelMajorConvTests
{
    private const float Rel = 1e-4f, Abs = 1e-4f;

    public static TheoryData<int[], int[], int, int, bool> Cases() => new()
    {
        // x shape, w shape, stride, pad, bias
        { [1, 96, 7, 7], [128, 96, 1, 1], 1, 0, true },   // ResNet's 7×7 1×1 shape, scaled down
        { [1, 128, 7, 7], [64, 128, 3, 3], 1, 1, true },  // 3×3 padded: im2col rows packed as A
        { [2, 40, 14, 14], [100, 40, 3, 3], 2, 1, false }, // strided, batch 2, 100 channels (a partial panel)
        { [1, 32, 13, 11], [70, 32, 3, 3], 1, 0, true },  // 99 pixels (a partial row block), unpadded
        { [1, 16, 5, 5], [64, 16, 1, 1], 1, 0, false },   // 25 pixels, one 64-column tile
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void PixelMajorConvMatchesReference(int[] xs, int[] ws, int stride, int pad, bool bias)
    {
        int oh = (xs[2] + 2 * pad - ws[2]) / stride + 1, ow = (xs[3] + 2 * pad - ws[3]) / stride + 1;
        int[] ys = [xs[0], ws[0], oh, ow];
        var x = Data.Random(xs.Sum() + 1, Data.Count(xs));
        var w = Data.Random(ws.Sum() + 2, Data.Count(ws));
        var b = Data.Random(5, ws[0]);
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iw = plan.Weight("W", w, ws);
        var inputs = new List<int> { ix, iw };
        if (bias) inputs.Add(plan.Weight("B", b, [ws[0]]));
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        plan.Step("Conv", inputs.ToArray(), [iy], PlanAttribute.Ints("strides", stride, stride),
            PlanAttribute.Ints("pads", pad, pad, pad, pad), PlanAttribute.String("activation", "Relu"));
        var y = plan.RunAfterStale(x, staleSeed: 77);
        var expected = Reference.Conv(x, xs, w, ws, bias ? b : null, 1, [stride, stride], [pad, pad, pad, pad], [1, 1], ys)
            .Select(v => Math.Max(v, 0f)).ToArray();
        Data.Close(expected, y, Rel, Abs);
    }
}
