using ModelGen.Runtime;
using ModelGen.Runtime.Kernels;
using ModelGen.Runtime.Kernels.Conv;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// The channel-tile Conv (small maps, ≥ 64 output channels: tiles of 6 pixels × 64 channels into Yᵀ, then transposed
/// into Y) against the direct reference. The cases reach a partial last pixel tile and a partial last channel group
/// (16, 32 and 48 channels), the parts split by channel groups and by pixel tiles, the input read in place (unpadded,
/// strided) and through its zero-bordered copy (asymmetric pads, dilation; a large one made over the pool), 1-D and 3-D, batch 2, an activation the
/// transpose applies (Sigmoid) and Relu in the tiles, with and without bias, and weights that arrive at run time. Each
/// case runs twice on different inputs, so stale data in the scratch cannot pass. Tolerance: rel 1e-4, abs 1e-4 (fp32
/// sums of up to 1,152 terms vs double). Every case runs on each tile path the CPU has (<see cref="FloatPaths"/>): AVX-512
/// tiles of 64 channels, AVX2 tiles of 16.
/// </summary>
public class ChannelTileConvTests
{
    private const float Rel = 1e-4f, Abs = 1e-4f;

    public static TheoryData<int[], int[], int[], int[], int[], bool, string> Cases() => new()
    {
        // x shape, w shape, strides, pads (begins..., ends...), dilations, bias, activation
        { [1, 96, 7, 7], [128, 96, 1, 1], [1, 1], [0, 0, 0, 0], [1, 1], true, "Relu" },          // ResNet's 7×7 1×1, scaled down: 9 tiles, the last of 1 pixel
        { [1, 128, 7, 7], [64, 128, 3, 3], [1, 1], [1, 1, 1, 1], [1, 1], true, "Relu" },         // one channel group: parts split by pixel tiles
        { [2, 40, 14, 14], [100, 40, 3, 3], [2, 2], [1, 1, 1, 1], [1, 1], false, "Sigmoid" },    // strided, batch 2, 100 channels (last group 48)
        { [1, 32, 13, 11], [70, 32, 3, 3], [1, 1], [0, 0, 0, 0], [1, 1], true, "" },             // 99 pixels, unpadded (read in place), last group 16
        { [1, 128, 5, 5], [96, 128, 1, 1], [1, 1], [0, 0, 0, 0], [1, 1], false, "Relu" },        // 25 pixels, last group 32
        { [1, 64, 28, 28], [256, 64, 1, 1], [2, 2], [0, 0, 0, 0], [1, 1], true, "Relu" },        // strided 1×1 read in place, 4 groups over the parts
        { [2, 160, 14, 14], [136, 160, 1, 1], [2, 2], [0, 0, 0, 0], [1, 1], true, "Relu" },      // strided 1×1 onto 7×7 read in place, batch 2
        { [1, 128, 17, 16], [64, 128, 1, 1], [3, 3], [0, 0, 0, 0], [1, 1], false, "" },          // stride 3 onto 6×6
        { [1, 24, 12, 12], [80, 24, 3, 3], [1, 1], [2, 1, 0, 2], [2, 2], true, "LeakyRelu" },    // dilation 2, asymmetric pads
        { [1, 48, 30], [72, 48, 5], [2], [2, 1], [1], true, "Relu" },                            // 1-D
        { [1, 16, 5, 6, 7], [64, 16, 3, 3, 3], [1, 1, 2], [1, 1, 1, 1, 1, 1], [1, 1, 1], true, "" }, // 3-D
        { [2, 96, 28, 28], [128, 96, 3, 3], [2, 2], [1, 1, 1, 1], [1, 1], true, "Relu" },       // 75K input floats per image: the padded copy split over the pool, batch 2
        { [1, 64, 56, 56], [96, 64, 3, 3], [2, 2], [1, 1, 1, 1], [1, 1], true, "Relu" },        // a strided window onto 28×28: 131 pixel tiles, groups of 64 and 32 channels
        { [1, 15, 27, 27], [80, 15, 3, 3], [1, 1], [1, 1, 1, 1], [1, 1], true, "Relu" },        // SqueezeNet's 27×27 3×3 class, 729 pixels: here on the AVX2 path only (15 input channels: from 16 the Winograd kernel takes it)
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ChannelTileConvMatchesReference(int[] xs, int[] ws, int[] strides, int[] pads, int[] dilations, bool bias, string activation)
    {
        FloatPaths.OnEach(() =>
        {
            NotWinograd(xs, ws, strides, pads, dilations);
            Check(xs, ws, strides, pads, dilations, bias, activation, runtimeWeights: false);
        });
    }

    /// <summary>Fails when the factory would give the case to the Winograd kernel, which it asks first (the case would not test this kernel).</summary>
    internal static void NotWinograd(int[] xs, int[] ws, int[] strides, int[] pads, int[] dilations) =>
        Assert.False(ConvKernelCheck.Applies(WinogradConvKernel.Applies, xs, ws, strides, Data.ConvOutputShape(xs, ws, strides, pads, dilations)) && dilations.All(d => d == 1),
            "the Winograd kernel takes this case before this kernel");

    [Fact]
    public void ChannelTileConvWithRuntimeWeights()
    {
        FloatPaths.OnEach(() => Check([1, 64, 7, 7], [100, 64, 3, 3], [1, 1], [1, 1, 1, 1], [1, 1], bias: true, "Relu", runtimeWeights: true));
    }

    [Fact]
    public void FactoryPicksTheChannelTileKernelForSmallMapsWithManyChannels() => FloatPaths.OnEach(FactoryRule);

    private static void FactoryRule()
    {
        Assert.True(Applies([1, 256, 14, 14], [256, 256, 3, 3], [1, 1], [1, 256, 12, 12]));    // ResNet-50's 14×14 3×3 (unpadded here)
        bool wide = FloatIsaSelector.Current == FloatIsa.Avx512; // with AVX2 a 1×1 stays with SGEMM
        Assert.Equal(wide, Applies([1, 2048, 7, 7], [512, 2048, 1, 1], [1, 1], [1, 512, 7, 7]));     // its 7×7 1×1
        Assert.Equal(wide, Applies([1, 512, 28, 28], [1024, 512, 1, 1], [2, 2], [1, 1024, 14, 14])); // a strided 1×1 onto 14×14
        Assert.Equal(!wide, Applies([1, 128, 28, 28], [128, 128, 3, 3], [1, 1], [1, 128, 26, 26])); // 676 pixels: AVX2 up to 28×28, AVX-512 the other kernels
        Assert.False(Applies([1, 64, 58, 58], [64, 64, 3, 3], [1, 1], [1, 64, 56, 56]));    // 56×56: the direct kernel on either path
        Assert.True(Applies([1, 128, 57, 57], [128, 128, 3, 3], [2, 2], [1, 128, 28, 28]));  // a strided window onto 28×28 (ResNet-50's 3×3/2, unpadded here)
        Assert.False(Applies([1, 256, 56, 56], [512, 256, 1, 1], [2, 2], [1, 512, 28, 28])); // a strided 1×1 onto 28×28: SGEMM
        Assert.False(Applies([1, 64, 225, 225], [64, 64, 3, 3], [2, 2], [1, 64, 112, 112])); // a strided window onto 112×112: the direct kernel
        Assert.False(Applies([1, 256, 14, 14], [48, 256, 3, 3], [1, 1], [1, 48, 12, 12]));    // under 64 output channels
        Assert.False(Applies([1, 64, 13, 13], [256, 64, 1, 1], [1, 1], [1, 256, 13, 13]));    // 64 taps: too short
    }

    private static bool Applies(int[] xs, int[] ws, int[] strides, int[] ys) => ConvKernelCheck.Applies(ChannelTileConvKernel.Applies, xs, ws, strides, ys);

    private static void Check(int[] xs, int[] ws, int[] strides, int[] pads, int[] dilations, bool bias, string activation, bool runtimeWeights) =>
        ConvKernelCheck.Matches(xs, ws, 1, strides, pads, dilations, bias, activation, runtimeWeights, Rel, Abs);
}
