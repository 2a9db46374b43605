using ModelGen.Runtime;
using ModelGen.Runtime.Kernels;
using ModelGen.Runtime.Kernels.Conv;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// The direct Conv kernel (stride 1 or 2 along the width, small maps) against the definition, on each tile path the CPU
/// has (<see cref="FloatIsa.Avx512"/>, <see cref="FloatIsa.Avx2"/>, forced through <see cref="FloatPaths"/>):
/// every tile shape (1–8 rows per block, 1–4 vectors, partial vectors), pads wider than the kernel's reach,
/// dilation, height strides, groups, 1-D and 3-D, bias or none, each fused activation, batches (units over
/// the worker pool) and batch 1 over 1M multiply-adds (tiles over the pool), with weights in the blob or
/// given at run time. Each case runs twice, on other data first, so stale per-part buffers would show.
/// Tolerance: rel 1e-4, abs 1e-4 (fp32 FMA sums of up to 800 terms vs double).
/// </summary>
public class DirectConvTests
{
    private const float Rel = 1e-4f, Abs = 1e-4f;

    public static TheoryData<int[], int[], int, int[], int[], int[], bool, string> Cases() => new()
    {
        // x shape, w shape, group, strides, pads (begins..., ends...), dilations, bias, activation
        { [1, 1, 28, 28], [10, 1, 5, 5], 1, [1, 1], [2, 2, 2, 2], [1, 1], true, "Relu" },      // the small CNN's first conv: 5 + 5 rows, 2 vectors a row
        { [1, 10, 14, 14], [16, 10, 5, 5], 1, [1, 1], [2, 2, 2, 2], [1, 1], true, "Relu" },    // its second: 8 + 8 rows, partial vectors
        { [1, 3, 11, 9], [1, 3, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1], false, "" },           // one output channel
        { [1, 2, 7, 37], [7, 2, 3, 3], 1, [1, 1], [0, 1, 2, 1], [1, 1], true, "" },            // 7 rows, 3 vectors a row (16+16+5), asymmetric pads
        { [1, 4, 9, 17], [17, 4, 2, 4], 1, [1, 1], [1, 0, 0, 3], [1, 1], true, "Clip" },       // 17 = 6 + 6 + 5 rows, even kernel, one-sided pads
        { [1, 3, 13, 12], [12, 3, 3, 3], 1, [2, 1], [1, 1, 1, 1], [1, 1], true, "LeakyRelu" }, // height stride 2
        { [1, 3, 16, 16], [5, 3, 3, 3], 1, [1, 1], [2, 2, 2, 2], [2, 2], true, "Sigmoid" },    // dilation
        { [1, 2, 6, 5], [3, 2, 5, 5], 1, [1, 1], [4, 4, 4, 4], [1, 1], true, "Tanh" },         // pads wider than the kernel's reach
        { [2, 6, 10, 11], [9, 2, 3, 3], 3, [1, 1], [1, 1, 1, 1], [1, 1], true, "Relu" },       // groups, batch 2
        { [1, 4, 50], [6, 4, 7], 1, [1], [3, 3], [1], true, "" },                               // 1-D
        { [1, 2, 5, 6, 7], [4, 2, 3, 3, 3], 1, [2, 1, 1], [1, 1, 1, 1, 1, 1], [1, 1, 1], true, "" }, // 3-D, depth stride 2
        { [8, 1, 28, 28], [10, 1, 5, 5], 1, [1, 1], [2, 2, 2, 2], [1, 1], true, "Relu" },      // batch 8, 1.6M multiply-adds: units over the pool
        { [3, 10, 14, 14], [16, 10, 5, 5], 1, [1, 1], [2, 2, 2, 2], [1, 1], false, "Relu" },   // odd unit count over the pool
        { [1, 15, 24, 24], [24, 15, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1], true, "" },        // batch 1, 1.9M multiply-adds: tiles over the pool (15 input channels: the Winograd kernel takes 16 and more)
        { [1, 33, 45, 45], [15, 33, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1], true, "Relu" },    // 67k input floats: the padded copy split by channels too (15 output channels: the Winograd kernel takes 16 and more)
        // Width stride 2 (each padded row split into even and odd columns): SqueezeNet's first conv unpadded on an odd
        // width (18 outputs: 16 + 2), ResNet's 7x7/2 pad 3 with 32x32 outputs over 2.4M multiply-adds (tiles over the
        // pool), an odd left pad with an even kernel, dilation 2, groups with batch 2, 1-D, and an odd input width
        // whose last column lands in either phase.
        { [1, 3, 37, 37], [12, 3, 3, 3], 1, [2, 2], [0, 0, 0, 0], [1, 1], true, "Relu" },
        { [1, 3, 64, 64], [16, 3, 7, 7], 1, [2, 2], [3, 3, 3, 3], [1, 1], true, "Relu" },
        { [1, 2, 9, 40], [5, 2, 3, 4], 1, [1, 2], [1, 3, 0, 2], [1, 1], false, "" },
        { [1, 2, 12, 45], [6, 2, 3, 3], 1, [2, 2], [2, 3, 2, 1], [2, 2], true, "Tanh" },
        { [2, 4, 10, 21], [6, 2, 3, 3], 2, [1, 2], [1, 1, 1, 1], [1, 1], true, "Relu" },
        { [1, 3, 70], [5, 3, 5], 1, [2], [2, 1], [1], true, "" },
        { [1, 1, 5, 33], [3, 1, 3, 5], 1, [1, 2], [1, 1, 1, 0], [1, 1], true, "" },
        { [1, 3, 131, 131], [32, 3, 3, 3], 1, [2, 2], [0, 0, 0, 0], [1, 1], true, "Relu" },   // SqueezeNet's first conv class, 3.6M multiply-adds: each part copies its own rows
        // Padded inputs past the old 1 MB (stride 1) and 768 KB (stride 2) limits: stride 2 at batch 1 (tiles over the
        // pool, 231K padded floats), stride 1 at batch 2 (units over the pool, each part its own 290K-float plane).
        { [1, 128, 40, 40], [40, 128, 3, 3], 1, [2, 2], [1, 1, 1, 1], [1, 1], true, "Relu" },
        { [2, 64, 66, 66], [12, 64, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1], true, "" },   // 12 output channels: from 16 the Winograd kernel takes it
        // 1x1 from few channels: unpadded stride 1 runs the whole map as one row (13x13 = 10 vectors + 9 lanes), with
        // batch 3 and groups over the pool; padded 1x1 (its padded map is its output map) runs flat too, strided keeps rows.
        { [1, 16, 13, 13], [24, 16, 1, 1], 1, [1, 1], [0, 0, 0, 0], [1, 1], true, "Relu" },
        { [3, 8, 9, 7], [10, 4, 1, 1], 2, [1, 1], [0, 0, 0, 0], [1, 1], false, "" },
        { [1, 64, 55, 55], [64, 64, 1, 1], 1, [1, 1], [0, 0, 0, 0], [1, 1], true, "Relu" },
        { [1, 8, 7, 9], [5, 8, 1, 1], 1, [1, 1], [1, 0, 1, 2], [1, 1], true, "" },
        { [1, 8, 11, 13], [6, 8, 1, 1], 1, [2, 2], [0, 0, 0, 0], [1, 1], true, "" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void DirectConvMatchesDefinition(int[] xs, int[] ws, int group, int[] strides, int[] pads, int[] dilations, bool withBias, string activation)
    {
        FloatPaths.OnEach(() =>
        {
            if (group == 1) ChannelTileConvTests.NotWinograd(xs, ws, strides, pads, dilations);
            Check(xs, ws, group, strides, pads, dilations, withBias, activation, runtimeWeights: false);
        });
    }

    [Fact]
    public void DirectConvWithRuntimeWeights()
    {
        FloatPaths.OnEach(() => Check([2, 3, 9, 10], [6, 3, 3, 3], 1, [1, 1], [1, 1, 1, 1], [1, 1], withBias: true, "Relu", runtimeWeights: true));
    }

    [Fact]
    public void FactoryPicksTheDirectKernelForWidthStrideOneOrTwoUpTo256ChannelsAndNarrowOneByOnes()
    {
        FloatPaths.OnEach(FactoryRule);
    }

    [Fact]
    public void WithoutAVectorPathEveryConvTakesIm2Col()
    {
        FloatIsaSelector.Override = FloatIsa.None;
        try
        {
            Assert.False(Applies([1, 10, 14, 14], [16, 10, 5, 5], [1, 1], [1, 16, 14, 14]));
        }
        finally
        {
            FloatIsaSelector.Override = null;
        }
    }

    private static void FactoryRule()
    {
        Assert.True(Applies([1, 10, 14, 14], [16, 10, 5, 5], [1, 1], [1, 16, 14, 14]));
        Assert.True(Applies([1, 3, 16, 16], [8, 3, 3, 3], [2, 1], [1, 8, 7, 14]));  // a height stride is fine
        Assert.True(Applies([1, 3, 16, 16], [8, 3, 3, 3], [1, 2], [1, 8, 14, 7]));  // width stride 2: two phases per row
        Assert.False(Applies([1, 3, 16, 16], [8, 3, 3, 3], [1, 3], [1, 8, 14, 5])); // a wider width stride: im2col
        Assert.True(Applies([1, 3, 224, 224], [64, 3, 7, 7], [2, 2], [1, 64, 109, 109]));      // ResNet's first conv (unpadded here)
        Assert.True(Applies([1, 256, 28, 28], [256, 256, 3, 3], [2, 2], [1, 256, 13, 13]));  // stride 2, 1 MB padded
        Assert.False(Applies([1, 512, 14, 14], [512, 512, 3, 3], [2, 2], [1, 512, 6, 6]));  // over 256 output channels: SGEMM
        Assert.True(Applies([1, 8, 14, 14], [16, 8, 1, 1], [1, 1], [1, 16, 14, 14]));     // 1x1 from few channels
        // 1x1 from many channels: SGEMM reads the input directly; on AVX2 it packs it, which few output channels do not pay for.
        Assert.Equal(FloatIsaSelector.Current == FloatIsa.Avx2, Applies([1, 128, 14, 14], [16, 128, 1, 1], [1, 1], [1, 16, 14, 14]));
        Assert.False(Applies([1, 128, 14, 14], [72, 128, 1, 1], [1, 1], [1, 72, 14, 14]));
        Assert.True(Applies([1, 64, 56, 56], [64, 64, 3, 3], [1, 1], [1, 64, 54, 54]));
        Assert.True(Applies([1, 128, 56, 56], [64, 128, 3, 3], [1, 1], [1, 64, 54, 54]));   // a padded input over 1 MB
        Assert.False(Applies([1, 64, 1024, 1024], [8, 64, 3, 3], [1, 1], [1, 8, 1022, 1022])); // over 64 MB padded (scratch): SGEMM
        Assert.False(Applies([1, 64, 14, 14], [512, 64, 3, 3], [1, 1], [1, 512, 12, 12])); // over 256 output channels: SGEMM
    }

    private static bool Applies(int[] xs, int[] ws, int[] strides, int[] ys) => ConvKernelCheck.Applies(DirectConvKernel.Applies, xs, ws, strides, ys);

    private static void Check(int[] xs, int[] ws, int group, int[] strides, int[] pads, int[] dilations, bool withBias, string activation, bool runtimeWeights) =>
        ConvKernelCheck.Matches(xs, ws, group, strides, pads, dilations, withBias, activation, runtimeWeights, Rel, Abs);
}
