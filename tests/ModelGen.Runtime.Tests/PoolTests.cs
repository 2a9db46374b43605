using ModelGen.Runtime;

namespace ModelGen.Runtime.Tests;

/// <summary>Pools against the definition, on each fp32 tile path (<see cref="FloatPaths"/>). Tolerance: rel 1e-5, abs 1e-6 (max is exact; average sums a handful of values).</summary>
public class PoolTests
{
    public static TheoryData<bool, int[], int[], int[], int[], int[], bool, bool> Cases() => new()
    {
        // max, x shape, kernel, strides, pads, dilations, ceil_mode, count_include_pad
        { true, [1, 2, 8, 8], [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], false, false },
        { true, [2, 3, 17, 13], [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], false, false },
        { true, [1, 2, 17, 13], [3, 2], [2, 2], [0, 0, 0, 0], [1, 1], true, false },
        { true, [1, 2, 20, 20], [3, 3], [1, 1], [2, 2, 2, 2], [2, 2], false, false },
        { true, [1, 3, 33], [4], [3], [1, 2], [1], false, false },
        // SqueezeNet's pools: rows wider than one 16- and one 8-wide vector, with a scalar tail, ceil_mode.
        { true, [1, 3, 23, 111], [3, 3], [2, 2], [0, 0, 0, 0], [1, 1], true, false },
        // Two-column windows at column stride 2 (MaxPoolPairs): the small CNN's pool (14 outputs: one partial vector),
        // 3 rows at row stride 1 over 35 outputs (16 + 16 + 3) with the odd last column dropped, and ceil_mode
        // cases whose last window is partial (the general 2-D path).
        { true, [1, 10, 28, 28], [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], false, false },
        { true, [2, 3, 15, 71], [3, 2], [1, 2], [0, 0, 0, 0], [1, 1], false, false },
        { true, [1, 2, 9, 64], [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], true, false },
        { true, [1, 2, 8, 9], [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], true, false },
        { true, [6, 16, 28, 28], [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], false, false }, // 75K taps: planes over the worker pool
        // Any window width at column stride 1 or 2 (MaxPoolRows): ResNet's 3x3/2 pad 1 with batch 2 and ceil_mode over
        // 4 vectors of outputs (the last partial), wide and even windows with asymmetric pads, a window wider than
        // one vector, stride 1, two-column windows whose last is partial, and a batch over the worker pool.
        { true, [2, 3, 23, 111], [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], true, false },
        { true, [1, 2, 13, 37], [5, 4], [2, 2], [2, 1, 1, 2], [1, 1], false, false },
        { true, [1, 2, 9, 40], [2, 7], [1, 2], [0, 3, 0, 3], [1, 1], true, false },
        { true, [1, 2, 7, 50], [2, 19], [3, 2], [1, 9, 0, 5], [1, 1], false, false },
        { true, [1, 2, 11, 29], [3, 3], [1, 1], [1, 1, 1, 1], [1, 1], false, false },
        { true, [1, 2, 6, 35], [1, 5], [1, 1], [0, 2, 0, 2], [1, 1], true, false },
        { true, [4, 32, 27, 27], [3, 3], [2, 2], [0, 0, 0, 0], [1, 1], true, false },
        // The widest windows MaxPoolRows takes (17 columns: shifts of 16 lanes at stride 1, 8 even and odd lanes at
        // stride 2) with pads wider than a vector's reach into the row, and a pad of 17 ending past a short row.
        { true, [1, 2, 5, 70], [2, 17], [1, 1], [0, 8, 0, 8], [1, 1], false, false },
        { true, [1, 2, 5, 90], [3, 17], [1, 2], [1, 16, 0, 9], [1, 1], true, false },
        { true, [1, 2, 4, 9], [1, 16], [1, 2], [0, 15, 0, 15], [1, 1], false, false },
        { false, [1, 2, 8, 8], [2, 2], [2, 2], [0, 0, 0, 0], [1, 1], false, false },
        { false, [2, 3, 17, 13], [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], false, false },
        { false, [2, 3, 17, 13], [3, 3], [2, 2], [1, 1, 1, 1], [1, 1], false, true },
        { false, [1, 2, 17, 13], [3, 2], [2, 2], [1, 0, 1, 0], [1, 1], true, true },
        { false, [1, 2, 17, 13], [3, 2], [2, 2], [1, 0, 1, 0], [1, 1], true, false },
        { false, [1, 2, 5, 6, 7], [2, 3, 2], [1, 2, 2], [0, 1, 0, 1, 1, 1], [1, 1, 1], false, true },
    };

    /// <summary>
    /// The 2-D max paths take the max down each window's rows with SIMD, then across: they must give
    /// exactly what a per-tap MathF.Max gives, NaN (propagated) and −0 versus +0 included.
    /// </summary>
    [Theory]
    [InlineData(3, 2, 1)]
    [InlineData(2, 2, 0)] // MaxPoolPairs
    [InlineData(3, 2, 0)] // MaxPoolRows, stride 2
    [InlineData(4, 2, 2)]
    [InlineData(3, 1, 1)] // MaxPoolRows, stride 1
    public void MaxPoolPropagatesNaNAndOrdersSignedZerosLikeMathFMax(int k, int stride, int pad) =>
        FloatPaths.OnEach(() => NaNAndSignedZeros(k, stride, pad));

    private static void NaNAndSignedZeros(int k, int stride, int pad)
    {
        int[] xs = [1, 2, 9, 37];
        var x = Data.Random(5, Data.Count(xs), -1f, 0f);
        x[40] = float.NaN;
        x[333 + 18] = float.NaN;
        for (int i = 100; i < 140; i += 3) x[i] = -0f;
        for (int i = 101; i < 140; i += 7) x[i] = 0f;
        AssertPerTapMax(x, xs, k, stride, pad);
    }

    /// <summary>
    /// Inputs like a Relu's (+0 up to 1) with, band by band of the AVX2 3×3/2 path, what its one-instruction ordered max
    /// must not get wrong: a positive NaN, a negative NaN (.NET's <see cref="float.NaN"/>), a −0 beside +0s, a lone negative,
    /// and a band of all negatives; the bands without them take the ordered max, the others the exact one. Exact as above.
    /// </summary>
    [Theory]
    [InlineData(3, 2, 1)]
    [InlineData(3, 2, 0)]
    public void MaxPoolOfReluLikeInputsIsExactInEveryBand(int k, int stride, int pad) =>
        FloatPaths.OnEach(() =>
        {
            int[] xs = [1, 2, 70, 37];
            const int plane = 70 * 37;
            var x = Data.Random(6, Data.Count(xs), 0f, 1f);
            for (int i = 0; i < x.Length; i += 5) x[i] = 0f;
            x[3 * 37 + 4] = BitConverter.Int32BitsToSingle(0x7FC00000);   // channel 0, first band: a positive NaN
            for (int r = 19; r < 24; r++)                                  // second band: windows of zeros only, −0s with
                for (int q = 9; q < 14; q++) x[r * 37 + q] = -0f;          // one +0 (max +0) and −0s alone (max −0)
            x[20 * 37 + 10] = 0f;
            for (int r = 27; r < 32; r++)
                for (int q = 19; q < 24; q++) x[r * 37 + q] = -0f;
            x[plane + 2 * 37 + 30] = float.NaN;                            // channel 1, first band: a negative NaN
            x[plane + 36 * 37 + 36] = -0.5f;                               // third band: a lone negative at the row's end
            for (int i = plane + 50 * 37; i < plane + 66 * 37; i++) x[i] = -1f - x[i]; // a band of negatives
            AssertPerTapMax(x, xs, k, stride, pad);
        });

    /// <summary>
    /// The AVX2 3×3/2 path reads a row's last block whole, on into the next row, when no output needs the columns past the
    /// row's end. Here every row starts with 5 columns of 1e30, the values those reads pick up: an output whose window
    /// does not hold them must not get them. SqueezeNet's 27 → 13 and 111 → 55 pools, 37 → 18 (a third block), and with
    /// ceil_mode 28 → 14, whose last window reaches past the row (that block must stay masked).
    /// </summary>
    [Theory]
    [InlineData(27, false)]
    [InlineData(111, false)]
    [InlineData(37, false)]
    [InlineData(28, true)]
    public void MaxPoolNeverTakesTheNextRowsValues(int width, bool ceil) =>
        FloatPaths.OnEach(() =>
        {
            int[] xs = [1, 3, 11, width];
            var x = Data.Random(7, Data.Count(xs), 0f, 1f);
            for (int row = 0; row < 3 * 11; row++)
                for (int q = 0; q < 5; q++) x[row * width + q] = 1e30f;
            x[4 * width + 9] = float.NaN;
            AssertPerTapMax(x, xs, 3, 2, 0, ceil);
        });

    /// <summary>Asserts a MaxPool of <paramref name="x"/> gives, bit for bit, a per-tap MathF.Max (any NaN for a NaN).</summary>
    private static void AssertPerTapMax(float[] x, int[] xs, int k, int stride, int pad, bool ceil = false)
    {
        int h = xs[2], w = xs[3];
        int round = ceil ? stride - 1 : 0; // ceil_mode; every window here still starts inside the row (pad 0)
        int oh = (h + 2 * pad - k + round) / stride + 1, ow = (w + 2 * pad - k + round) / stride + 1;
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iy = plan.Arena("Y", [1, xs[1], oh, ow]);
        plan.Output(iy);
        plan.Step("MaxPool", [ix], [iy], PlanAttribute.Ints("kernel_shape", k, k), PlanAttribute.Ints("strides", stride, stride),
            PlanAttribute.Ints("pads", pad, pad, pad, pad), PlanAttribute.Int("ceil_mode", ceil ? 1 : 0));
        var y = plan.Run(x)[0];
        for (int c = 0; c < xs[1]; c++)
        {
            for (int r = 0; r < oh; r++)
            {
                for (int q = 0; q < ow; q++)
                {
                    float want = float.NegativeInfinity;
                    for (int dr = 0; dr < k; dr++)
                    {
                        for (int dq = 0; dq < k; dq++)
                        {
                            int ir = r * stride - pad + dr, iq = q * stride - pad + dq;
                            if (ir >= 0 && ir < h && iq >= 0 && iq < w) want = MathF.Max(want, x[(c * h + ir) * w + iq]);
                        }
                    }
                    float got = y[(c * oh + r) * ow + q];
                    Assert.True(BitConverter.SingleToInt32Bits(want) == BitConverter.SingleToInt32Bits(got) || (float.IsNaN(want) && float.IsNaN(got)),
                        $"channel {c}, output ({r},{q}): {got} (bits {BitConverter.SingleToInt32Bits(got):X8}), expected {want}");
                }
            }
        }
        Assert.Contains(y, float.IsNaN);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PoolMatchesDefinition(bool max, int[] xs, int[] kernel, int[] strides, int[] pads, int[] dilations, bool ceil, bool countPad) =>
        FloatPaths.OnEach(() => MatchesDefinition(max, xs, kernel, strides, pads, dilations, ceil, countPad));

    private static void MatchesDefinition(bool max, int[] xs, int[] kernel, int[] strides, int[] pads, int[] dilations, bool ceil, bool countPad)
    {
        int rank = xs.Length - 2;
        var ys = new int[xs.Length];
        ys[0] = xs[0];
        ys[1] = xs[1];
        for (int d = 0; d < rank; d++)
        {
            int span = xs[2 + d] + pads[d] + pads[rank + d] - ((kernel[d] - 1) * dilations[d] + 1);
            int o = (ceil ? (span + strides[d] - 1) / strides[d] : span / strides[d]) + 1;
            if (ceil && (o - 1) * strides[d] >= xs[2 + d] + pads[d]) o--;
            ys[2 + d] = o;
        }
        var x = Data.Random(21, Data.Count(xs));
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        var attributes = new List<PlanAttribute>
        {
            PlanAttribute.Ints("kernel_shape", ConvTests.Longs(kernel)), PlanAttribute.Ints("strides", ConvTests.Longs(strides)),
            PlanAttribute.Ints("pads", ConvTests.Longs(pads)), PlanAttribute.Int("ceil_mode", ceil ? 1 : 0),
        };
        if (max) attributes.Add(PlanAttribute.Ints("dilations", ConvTests.Longs(dilations)));
        else attributes.Add(PlanAttribute.Int("count_include_pad", countPad ? 1 : 0));
        plan.Step(max ? "MaxPool" : "AveragePool", [ix], [iy], [.. attributes]);
        var y = plan.Run(x)[0];
        Data.Close(Reference.Pool(x, xs, kernel, strides, pads, dilations, ys, max, countPad), y, 1e-5f, 1e-6f);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GlobalPoolsReduceEachPlane(bool max)
    {
        int[] xs = [2, 5, 7, 9];
        var x = Data.Random(22, Data.Count(xs));
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iy = plan.Arena("Y", [2, 5, 1, 1]);
        plan.Output(iy);
        plan.Step(max ? "GlobalMaxPool" : "GlobalAveragePool", [ix], [iy]);
        var y = plan.Run(x)[0];
        var expected = Enumerable.Range(0, 10).Select(p => x.Skip(p * 63).Take(63)).Select(s => max ? s.Max() : s.Average()).ToArray();
        Data.Close(expected, y, 1e-5f, 1e-6f);
    }
}
