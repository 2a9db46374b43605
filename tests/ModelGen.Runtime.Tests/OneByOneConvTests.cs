using ModelGen.Runtime;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// 1×1 convs, whose B operand is the input itself: whole 64-column groups are multiplied reading it in place
/// (AVX-512), the remaining columns from a packed copy; without AVX-512, maps of whole 16-column panels are read in place. Output maps of exactly one group, groups plus a tail,
/// only a tail, K long enough to be split into slices, batch 2 over the pool, and a map large enough for
/// batch-1 column-range parts, and small batch-1 maps whose parts take row blocks (on a machine with two or more
/// cores). Fewer than 64 output channels or more than 64 pixels, so the channel-major
/// kernel takes them. Each case runs twice on different inputs. Tolerance: rel 1e-4, abs 1e-4 (sums of up
/// to 600 terms vs double).
/// </summary>
public class OneByOneConvTests
{
    private const float Rel = 1e-4f, Abs = 1e-4f;

    public static TheoryData<int[], int> Cases() => new()
    {
        // x shape, output channels
        { [1, 20, 8, 8], 7 },      // 64 pixels: exactly one group
        { [1, 33, 10, 13], 12 },   // 130 pixels: two groups and a 2-column tail
        { [1, 16, 7, 9], 30 },     // 63 pixels: a tail only
        { [1, 600, 9, 15], 13 },   // K = 600: three slices over in-place B
        { [2, 24, 17, 17], 50 },   // batch 2: images over the pool
        { [1, 64, 56, 56], 40 },   // 3136 pixels, 8M multiply-adds: column ranges on the pool
        { [2, 512, 20, 20], 8 },   // K = 512: an image's 25 panels span two L2-sized panel groups of 16
        { [1, 256, 13, 13], 100 }, // batch 1, 11 panels: row blocks over the pool, two in-place groups and a 41-column tail
        { [1, 320, 14, 14], 64 },  // the same with K = 320 in two slices and a 4-column tail
        // Without AVX-512, more than 64 input and output channels on a map of whole 16-pixel panels: B read in place.
        { [1, 600, 8, 16], 70 },   // 128 pixels, K = 600 in two slices; column ranges on the pool
        { [1, 96, 28, 28], 300 },  // 784 pixels, K = 96 whole, 50 row blocks
        { [1, 200, 12, 16], 260 }, // 192 pixels, 260 output channels: row blocks over the pool, every panel in place
        { [2, 80, 8, 8], 72 },     // batch 2: each image's 4 panels in place
        // Without AVX-512, batch-1 maps of partial panels, packed, split by panels over the pool.
        { [1, 300, 7, 7], 200 },   // 49 pixels: 3 panels and a 1-column edge
        { [1, 600, 14, 14], 96 },  // 196 pixels, K = 600: cache-blocked slices, a 4-column tail
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OneByOneConvMatchesReference(int[] xs, int m) => CheckOneByOne(xs, m, 1, 1, staleSeed: 66);

    public static TheoryData<int[], int, int, int> StridedCases() => new()
    {
        // x shape, output channels, stride along height, along width
        { [1, 96, 28, 28], 100, 2, 2 }, // 14×14 out, batch 1: subsampled once, then row blocks over the pool
        { [1, 80, 56, 56], 40, 2, 2 },  // 28×28 out: each column range subsampled by the part that multiplies it
        { [2, 72, 15, 17], 20, 2, 2 },  // odd sizes (rows end inside a vector), batch 2
        { [1, 70, 12, 30], 24, 1, 3 },  // stride 3 along the width: element by element
        { [1, 96, 32, 32], 80, 2, 2 },  // 16×16 out, more than 64 channels: subsampled, then read in place without AVX-512
    };

    /// <summary>A 1×1 conv with strides above 1 multiplies its input subsampled onto the output grid; against the reference.</summary>
    [Theory]
    [MemberData(nameof(StridedCases))]
    public void StridedOneByOneConvMatchesReference(int[] xs, int m, int sh, int sw) => CheckOneByOne(xs, m, sh, sw, staleSeed: 67);

    /// <summary>A 1×1 conv with bias and Relu, run after a stale call, against the reference.</summary>
    private static void CheckOneByOne(int[] xs, int m, int sh, int sw, int staleSeed)
    {
        int[] ws = [m, xs[1], 1, 1];
        int[] ys = [xs[0], m, (xs[2] - 1) / sh + 1, (xs[3] - 1) / sw + 1];
        var x = Data.Random(xs.Sum() + 7, Data.Count(xs));
        var w = Data.Random(m + 8, Data.Count(ws));
        var b = Data.Random(9, m);
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iw = plan.Weight("W", w, ws);
        int ib = plan.Weight("B", b, [m]);
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        plan.Step("Conv", [ix, iw, ib], [iy], PlanAttribute.Ints("strides", sh, sw), PlanAttribute.String("activation", "Relu"));
        var y = plan.RunAfterStale(x, staleSeed);
        var expected = Reference.Conv(x, xs, w, ws, b, 1, [sh, sw], [0, 0, 0, 0], [1, 1], ys).Select(v => Math.Max(v, 0f)).ToArray();
        Data.Close(expected, y, Rel, Abs);
    }
}
