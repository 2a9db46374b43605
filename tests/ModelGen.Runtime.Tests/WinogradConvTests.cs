using ModelGen.Runtime.Kernels;
using ModelGen.Runtime.Kernels.Conv;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// The Winograd Conv against the direct reference: F(2×2, 3×3), and on AVX2 F(4×4, 3×3) for maps of 32 4×4 tiles or more
/// (<see cref="WinogradConvKernel.TakesF4"/>). The cases reach odd output sizes (a partial tile at the
/// right and bottom edges: half of one for F(2×2); one, two or three of four rows and columns for F(4×4)), tile rows longer than one vector (28 tiles) and blocks that start and end inside a tile row,
/// one part and two, output channels that are not a multiple of the register tile's 8, asymmetric and zero pads, batch
/// 2, each fused activation, no bias, and weights that arrive at run time (the fused residual: <see cref="ConvResidualTests"/>). Each case runs on
/// every tile path the CPU has (<see cref="FloatPaths"/>: 48-tile blocks of 8 channels on AVX-512, 24-tile blocks of 4 on
/// AVX2), twice on different inputs, so stale data in the scratch cannot pass, and each is checked to be one the kernel takes. Tolerance:
/// rel 1e-4, abs 1e-4, as for the other fp32 conv kernels (sums of up to 1,152 terms against double), but abs
/// <see cref="AbsF4"/> where F(4×4, 3×3) runs.
/// </summary>
public class WinogradConvTests
{
    private const float Rel = 1e-4f, Abs = 1e-4f;

    /// <summary>
    /// The absolute tolerance of F(4×4, 3×3): its transforms' coefficients (up to 5 in Bᵀ, 8 in Aᵀ, sixths and
    /// twenty-fourths in G) make rounding errors that scale with the outputs' typical size, not with each output. The
    /// outputs here have a spread of about 0.67·√(9C), 16–23 for 64–128 channels, and an output near zero can be off by
    /// some 2e-5 of that spread (4.2e-4 at most in these cases; up to 7.8e-4 in a float32 simulation of the same
    /// transforms, 128 channels, 36 tiles × 24 filters), which rel 1e-4 of its own size does not cover. 2e-3 is 1e-4 of
    /// a spread of 20, the normalised tolerance of the benchmark's output check.
    /// </summary>
    internal const float AbsF4 = 2e-3f;

    public static TheoryData<int[], int[], int[], bool, string> Cases() => new()
    {
        // x shape, w shape, pads (begins..., ends...), bias, activation
        { [1, 64, 28, 28], [64, 64, 3, 3], [1, 1, 1, 1], true, "Relu" },       // ResNet-50's 28×28 stage, scaled down: 98 tiles a part, blocks of 2, 2 and 3 vectors
        { [1, 64, 56, 56], [24, 64, 3, 3], [1, 1, 1, 1], true, "Relu" },       // 28 tiles a row: two vectors, the second partial
        { [1, 64, 13, 13], [40, 64, 3, 3], [1, 1, 1, 1], false, "" },          // odd map: the last tile row and column half outside
        { [2, 64, 9, 15], [20, 64, 3, 3], [0, 2, 1, 0], true, "LeakyRelu" },   // asymmetric pads, batch 2, 20 channels (last block 4)
        { [1, 80, 14, 14], [17, 80, 3, 3], [0, 0, 0, 0], true, "Sigmoid" },    // unpadded: 12×12 outputs, 36 tiles
        { [1, 128, 14, 14], [96, 128, 3, 3], [1, 1, 1, 1], true, "Clip" },     // 1,152 terms a sum
        { [1, 64, 12, 12], [16, 64, 3, 3], [1, 1, 1, 1], true, "Tanh" },       // 36 tiles, 16 channels: under the split threshold, one part
        { [1, 64, 13, 13], [136, 64, 3, 3], [1, 1, 1, 1], true, "Relu" },     // split by output channels on AVX2 (F(4×4): 16 tiles, 2 vectors), 17 + 17 blocks of 4, chunks of 16 and 1
    };

    /// <summary>Cases of F(4×4, 3×3), which runs on the AVX2 path only (these maps are F(2×2) on AVX-512, or not Winograd for fewer than 64 channels).</summary>
    public static TheoryData<int[], int[], int[], bool, string> F4Cases() => new()
    {
        // x shape, w shape, pads (begins..., ends...), bias, activation
        { [1, 64, 27, 27], [40, 64, 3, 3], [1, 1, 1, 1], false, "" },          // 7×7 tiles, the last row and column of tiles 3 of 4 outputs
        { [2, 48, 25, 30], [20, 48, 3, 3], [0, 2, 1, 0], true, "LeakyRelu" },  // asymmetric pads, batch 2: 24×30 outputs, the last tile column 2 of 4
        { [1, 40, 26, 26], [17, 40, 3, 3], [0, 0, 0, 0], true, "Sigmoid" },    // unpadded: 24×24 outputs, 36 tiles
        { [1, 128, 21, 21], [24, 128, 3, 3], [1, 1, 1, 1], true, "Clip" },     // 1,152 terms a sum; 6×6 tiles, the last 1 of 4 outputs
        { [1, 64, 24, 24], [16, 64, 3, 3], [1, 1, 1, 1], true, "Tanh" },       // 36 tiles, 16 channels
        { [1, 32, 28, 28], [136, 32, 3, 3], [1, 1, 1, 1], true, "Relu" },      // 49 tiles, 7 vectors: split by output channels
        { [1, 16, 55, 55], [64, 16, 3, 3], [1, 1, 1, 1], true, "Relu" },       // SqueezeNet's 16 input channels, which only F(4×4) takes: 14×14 tiles
        { [1, 64, 56, 56], [24, 64, 3, 3], [1, 1, 1, 1], true, "Relu" },       // 14 tiles a row: blocks of 24 tiles start and end inside rows
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void WinogradConvMatchesReference(int[] xs, int[] ws, int[] pads, bool bias, string activation)
    {
        FloatPaths.OnEach(() =>
        {
            AssertTaken(xs, ws, pads);
            ConvKernelCheck.Matches(xs, ws, 1, [1, 1], pads, [1, 1], bias, activation, runtimeWeights: false, Rel, AbsFor(xs, ws, pads));
        });
    }

    [Theory]
    [MemberData(nameof(F4Cases))]
    public void WinogradF4MatchesReference(int[] xs, int[] ws, int[] pads, bool bias, string activation)
    {
        FloatPaths.OnEach(() =>
        {
            if (FloatIsaSelector.Current != FloatIsa.Avx2) return;
            AssertTaken(xs, ws, pads);
            int[] ys = Data.ConvOutputShape(xs, ws, [1, 1], pads, [1, 1]);
            Assert.True(WinogradConvKernel.TakesF4(FloatIsa.Avx2, ys[2], ys[3]), "the case does not reach F(4×4, 3×3)");
            ConvKernelCheck.Matches(xs, ws, 1, [1, 1], pads, [1, 1], bias, activation, runtimeWeights: false, Rel, AbsF4);
        });
    }

    /// <summary>32 input channels (SqueezeNet's 27×27 expand), which only the AVX2 path takes, with its odd map and a residual-free Relu.</summary>
    [Fact]
    public void ThirtyTwoInputChannelsOnAvx2()
    {
        FloatPaths.OnEach(() =>
        {
            if (FloatIsaSelector.Current != FloatIsa.Avx2) return;
            AssertTaken([1, 32, 27, 27], [128, 32, 3, 3], [1, 1, 1, 1]);
            ConvKernelCheck.Matches([1, 32, 27, 27], [128, 32, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1], true, "Relu", runtimeWeights: false, Rel, AbsFor([1, 32, 27, 27], [128, 32, 3, 3], [1, 1, 1, 1]));
        });
    }

    [Fact]
    public void WinogradConvWithRuntimeWeights()
    {
        FloatPaths.OnEach(() =>
        {
            AssertTaken([1, 64, 20, 20], [48, 64, 3, 3], [1, 1, 1, 1]);
            ConvKernelCheck.Matches([1, 64, 20, 20], [48, 64, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1], true, "Relu", runtimeWeights: true, Rel, AbsFor([1, 64, 20, 20], [48, 64, 3, 3], [1, 1, 1, 1]));
            AssertTaken([1, 64, 24, 24], [48, 64, 3, 3], [1, 1, 1, 1]);
            ConvKernelCheck.Matches([1, 64, 24, 24], [48, 64, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1], true, "Relu", runtimeWeights: true, Rel, AbsFor([1, 64, 24, 24], [48, 64, 3, 3], [1, 1, 1, 1]));
        });
    }

    /// <summary>
    /// Two Winograd convs in one plan share the executor's workspace (V and products of different sizes): the second must
    /// not see the first's leftovers. Against the reference chain, rel and abs 1e-4 (the first conv's error feeds the second).
    /// </summary>
    [Fact]
    public void TwoWinogradConvsShareTheWorkspace()
    {
        FloatPaths.OnEach(() =>
        {
            AssertTaken([1, 64, 28, 28], [96, 64, 3, 3], [1, 1, 1, 1]);
            AssertTaken([1, 96, 28, 28], [72, 96, 3, 3], [0, 0, 0, 0]);
            CheckChain([1, 64, 28, 28], [96, 64, 3, 3], [1, 1, 1, 1], [72, 96, 3, 3], [0, 0, 0, 0]);
        });
    }

    /// <summary>
    /// A padded direct conv whose parts copy their own rows into the shared workspace, run after a Winograd conv that filled
    /// the workspace with its products: the copy's borders must read as zeros again, not as the products. Against the
    /// reference chain, rel and abs 1e-4.
    /// </summary>
    [Fact]
    public void ADirectConvAfterAWinogradConvFindsItsBordersZero()
    {
        FloatPaths.OnEach(() =>
        {
            AssertTaken([1, 64, 30, 30], [16, 64, 3, 3], [1, 1, 1, 1]);
            Assert.False(Applies([1, 16, 30, 30], [15, 16, 3, 3], [1, 1], [1, 15, 30, 30])); // 15 output channels: the direct kernel
            CheckChain([1, 64, 30, 30], [16, 64, 3, 3], [1, 1, 1, 1], [15, 16, 3, 3], [1, 1, 1, 1]);
        });
    }

    /// <summary>
    /// Conv(<paramref name="w1s"/>) + Relu, then Conv(<paramref name="w2s"/>), both stride 1 without bias, in one plan (run
    /// twice, the first time on other data), against the reference chain.
    /// </summary>
    private static void CheckChain(int[] xs, int[] w1s, int[] pads1, int[] w2s, int[] pads2)
    {
        int[] y1s = Data.ConvOutputShape(xs, w1s, [1, 1], pads1, [1, 1]), y2s = Data.ConvOutputShape(y1s, w2s, [1, 1], pads2, [1, 1]);
        var x = Data.Random(xs.Sum(), Data.Count(xs), -2f, 2f);
        var w1 = Data.Random(w1s.Sum(), Data.Count(w1s), -0.2f, 0.2f);
        var w2 = Data.Random(w2s.Sum() + 1, Data.Count(w2s), -0.2f, 0.2f);
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iw1 = plan.Weight("W1", w1, w1s);
        int iw2 = plan.Weight("W2", w2, w2s);
        int iy1 = plan.Arena("Y1", y1s);
        int iy2 = plan.Arena("Y2", y2s);
        plan.Output(iy2);
        plan.Step("Conv", [ix, iw1], [iy1], PlanAttribute.Ints("pads", ConvTests.Longs(pads1)), PlanAttribute.String("activation", "Relu"));
        plan.Step("Conv", [iy1, iw2], [iy2], PlanAttribute.Ints("pads", ConvTests.Longs(pads2)));
        using var executor = plan.Executor(out var weights);
        using var _ = weights;
        executor.SetInput<float>(0, Data.Random(99, x.Length, -5f, 5f));
        executor.Run();
        executor.SetInput<float>(0, x);
        executor.Run();
        var y = new float[Data.Count(y2s)];
        executor.GetOutput<float>(0, y);

        var y1 = Reference.Conv(x, xs, w1, w1s, null, 1, [1, 1], pads1, [1, 1], y1s).Select(v => Math.Max(v, 0f)).ToArray();
        var expected = Reference.Conv(y1, y1s, w2, w2s, null, 1, [1, 1], pads2, [1, 1], y2s);
        Data.Close(expected, y, Rel, Math.Max(AbsFor(xs, w1s, pads1), AbsFor(y1s, w2s, pads2)));
    }

    [Fact]
    public void FactoryPicksWinogradForThreeByThreeStrideOne() => FloatPaths.OnEach(FactoryRule);

    private static void FactoryRule()
    {
        Assert.True(Applies([1, 128, 28, 28], [128, 128, 3, 3], [1, 1], [1, 128, 26, 26]));    // ResNet-50's 28×28 3×3 (unpadded here)
        Assert.True(Applies([1, 256, 14, 14], [256, 256, 3, 3], [1, 1], [1, 256, 14, 14]));    // its 14×14 3×3
        Assert.False(Applies([1, 512, 7, 7], [512, 512, 3, 3], [1, 1], [1, 512, 7, 7]));       // 16 tiles: U streams from memory for too few
        Assert.False(Applies([1, 128, 28, 28], [128, 128, 3, 3], [2, 2], [1, 128, 13, 13]));   // strided
        Assert.False(Applies([1, 128, 28, 28], [128, 128, 5, 5], [1, 1], [1, 128, 24, 24]));   // 5×5
        // 32 input channels: with AVX-512 the transforms cost what they save; AVX2's window sums are slower, and it gains.
        Assert.Equal(FloatIsaSelector.Current == FloatIsa.Avx2, Applies([1, 32, 27, 27], [128, 32, 3, 3], [1, 1], [1, 128, 27, 27]));
        // 16 input channels: F(4×4, 3×3) on AVX2 from 32 4×4 tiles (SqueezeNet's 55×55), else the direct conv.
        Assert.Equal(FloatIsaSelector.Current == FloatIsa.Avx2, Applies([1, 16, 55, 55], [64, 16, 3, 3], [1, 1], [1, 64, 55, 55]));
        Assert.False(Applies([1, 16, 12, 12], [64, 16, 3, 3], [1, 1], [1, 64, 12, 12]));   // 9 4×4 tiles: F(2×2), which needs 32
        Assert.False(Applies([1, 15, 55, 55], [64, 15, 3, 3], [1, 1], [1, 64, 55, 55]));
        // F(4×4, 3×3): AVX2 only, from 16 4×4 tiles (ResNet-50's 56×56, 28×28 and 14×14 maps, SqueezeNet's 55×55, 27×27
        // and 13×13); smaller maps (a 12×12 map is 9 tiles) keep F(2×2, 3×3).
        bool avx2 = FloatIsaSelector.Current == FloatIsa.Avx2;
        Assert.Equal(avx2, WinogradConvKernel.TakesF4(FloatIsaSelector.Current, 56, 56));
        Assert.Equal(avx2, WinogradConvKernel.TakesF4(FloatIsaSelector.Current, 28, 28));
        Assert.Equal(avx2, WinogradConvKernel.TakesF4(FloatIsaSelector.Current, 14, 14));
        Assert.Equal(avx2, WinogradConvKernel.TakesF4(FloatIsaSelector.Current, 13, 13));   // 4 × 4 tiles, the last 1 of 4 outputs
        Assert.False(WinogradConvKernel.TakesF4(FloatIsaSelector.Current, 12, 12));
        Assert.False(WinogradConvKernel.TakesF4(FloatIsaSelector.Current, 7, 7));
    }

    /// <summary>The absolute tolerance for this conv on the current path: <see cref="AbsF4"/> where F(4×4, 3×3) runs, else <see cref="Abs"/>.</summary>
    private static float AbsFor(int[] xs, int[] ws, int[] pads)
    {
        int[] ys = Data.ConvOutputShape(xs, ws, [1, 1], pads, [1, 1]);
        return WinogradConvKernel.TakesF4(FloatIsaSelector.Current, ys[2], ys[3]) ? AbsF4 : Abs;
    }

    /// <summary>Fails when the factory would not take the Winograd kernel for this case on the current path (else the case would test another kernel).</summary>
    private static void AssertTaken(int[] xs, int[] ws, int[] pads)
    {
        Assert.True(Applies(xs, ws, [1, 1], Data.ConvOutputShape(xs, ws, [1, 1], pads, [1, 1])), "the case does not reach the Winograd kernel");
    }

    private static bool Applies(int[] xs, int[] ws, int[] strides, int[] ys) => ConvKernelCheck.Applies(WinogradConvKernel.Applies, xs, ws, strides, ys);
}
