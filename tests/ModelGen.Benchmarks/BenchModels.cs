using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Benchmarks;

/// <summary>
/// The models the benchmark makes itself, with <see cref="GraphBuilder"/> and seeded random
/// weights (He-uniform, so activations stay in a sane range through the layers and int8
/// calibration sees realistic distributions). The plan is static, so each batch size is its
/// own model.
/// </summary>
internal static class BenchModels
{
    /// <summary>A Gemm+Relu MLP with layer widths <paramref name="widths"/> (input first, logits last).</summary>
    public static OnnxModel Mlp(int batch, params int[] widths)
    {
        var random = new Random(1234);
        var b = new GraphBuilder($"mlp_{string.Join('_', widths)}", opset: 13);
        var x = b.Input("input", ElementType.Float, batch, widths[0]);
        for (int l = 1; l < widths.Length; l++)
        {
            int fanIn = widths[l - 1], fanOut = widths[l];
            var w = b.Initializer($"w{l}", [fanOut, fanIn], HeUniform(random, fanOut * fanIn, fanIn));
            var bias = b.Initializer($"b{l}", [fanOut], Uniform(random, fanOut, 0.1f));
            x = b.Node("Gemm", [x, w, bias], OnnxAttribute.OfInt("transB", 1));
            if (l < widths.Length - 1) x = b.Node("Relu", x);
        }
        b.Output(x);
        return b.Build();
    }

    /// <summary>
    /// A small CNN on 28x28: Conv 5x5 (1→10) Relu MaxPool, Conv 5x5 (10→16) Relu MaxPool,
    /// Gemm 784→10: 0.99M multiply-adds per sample.
    /// </summary>
    public static OnnxModel SmallCnn(int batch)
    {
        var random = new Random(4321);
        var b = new GraphBuilder("small_cnn", opset: 13);
        var x = b.Input("image", ElementType.Float, batch, 1, 28, 28);
        x = ConvReluPool(b, random, x, "c1", inChannels: 1, outChannels: 10);
        x = ConvReluPool(b, random, x, "c2", inChannels: 10, outChannels: 16);
        x = b.Node("Flatten", x);
        var w = b.Initializer("fc_w", [10, 16 * 7 * 7], HeUniform(random, 10 * 16 * 7 * 7, 16 * 7 * 7));
        var bias = b.Initializer("fc_b", [10], Uniform(random, 10, 0.1f));
        b.Output(b.Node("Gemm", [x, w, bias], OnnxAttribute.OfInt("transB", 1)));
        return b.Build();
    }

    /// <summary>One MatMul of an input [n, n] by a weight [n, n]: the large-GEMM throughput case.</summary>
    public static OnnxModel Gemm(int n)
    {
        var random = new Random(99);
        var b = new GraphBuilder($"gemm_{n}", opset: 13);
        var a = b.Input("a", ElementType.Float, n, n);
        var w = b.Initializer("w", [n, n], HeUniform(random, n * n, n));
        b.Output(b.Node("MatMul", [a, w]));
        return b.Build();
    }

    /// <summary>One Conv+Relu layer on a [1, c, h, h] input: the single-layer models of <c>--layers</c>.</summary>
    public static OnnxModel ConvLayer(string name, int c, int h, int m, int k, int stride, int pad, bool maxPool = false, bool after3x3 = false)
    {
        var random = new Random(c * 31 + m);
        var b = new GraphBuilder(name.Replace('-', '_'), opset: 13);
        var x = b.Input("x", ElementType.Float, 1, c, h, h);
        if (after3x3)
        {
            // A 3×3 c→c conv before the layer, so the layer reads an input just written (as in a network), by both cores.
            var w0 = b.Initializer("w0", [c, c, 3, 3], HeUniform(random, c * c * 9, c * 9));
            var b0 = b.Initializer("b0", [c], Uniform(random, c, 0.1f));
            x = b.Node("Relu", b.Node("Conv", [x, w0, b0], OnnxAttribute.OfInts("kernel_shape", 3, 3), OnnxAttribute.OfInts("pads", 1, 1, 1, 1)));
        }
        int fanIn = c * k * k;
        var w = b.Initializer("w", [m, c, k, k], HeUniform(random, m * fanIn, fanIn));
        var bias = b.Initializer("b", [m], Uniform(random, m, 0.1f));
        var conv = b.Node("Conv", [x, w, bias], OnnxAttribute.OfInts("kernel_shape", k, k),
            OnnxAttribute.OfInts("strides", stride, stride), OnnxAttribute.OfInts("pads", pad, pad, pad, pad));
        var relu = b.Node("Relu", conv);
        // The stems of SqueezeNet and ResNet-50: a 3×3 stride-2 max pool after the first conv.
        b.Output(maxPool ? b.Node("MaxPool", relu, OnnxAttribute.OfInts("kernel_shape", 3, 3), OnnxAttribute.OfInts("strides", 2, 2),
            OnnxAttribute.OfInts("pads", stride == 2 && k == 7 ? [1, 1, 1, 1] : [0, 0, 0, 0])) : relu);
        return b.Build();
    }

    /// <summary>A k×k max pool at stride s alone on a [1, c, h, h] input (SqueezeNet's pools for <c>--layers</c>).</summary>
    public static OnnxModel MaxPoolLayer(string name, int c, int h, int k, int stride)
    {
        var b = new GraphBuilder(name.Replace('-', '_'), opset: 13);
        var x = b.Input("x", ElementType.Float, 1, c, h, h);
        b.Output(b.Node("MaxPool", x, OnnxAttribute.OfInts("kernel_shape", k, k), OnnxAttribute.OfInts("strides", stride, stride)));
        return b.Build();
    }

    private static string ConvReluPool(GraphBuilder b, Random random, string x, string name, int inChannels, int outChannels)
    {
        int fanIn = inChannels * 25;
        var w = b.Initializer($"{name}_w", [outChannels, inChannels, 5, 5], HeUniform(random, outChannels * fanIn, fanIn));
        var bias = b.Initializer($"{name}_b", [outChannels], Uniform(random, outChannels, 0.1f));
        var c = b.Node("Conv", [x, w, bias], OnnxAttribute.OfInts("kernel_shape", 5, 5), OnnxAttribute.OfInts("pads", 2, 2, 2, 2));
        return b.Node("MaxPool", b.Node("Relu", c), OnnxAttribute.OfInts("kernel_shape", 2, 2), OnnxAttribute.OfInts("strides", 2, 2));
    }

    private static float[] HeUniform(Random random, int count, int fanIn) => Uniform(random, count, MathF.Sqrt(6f / fanIn));

    private static float[] Uniform(Random random, int count, float limit)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * limit;
        return values;
    }
}
