using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Onnx.Tests;

public class GraphBuilderTests
{
    internal static OnnxModel Mlp()
    {
        var b = new GraphBuilder("mlp", opset: 13);
        var x = b.Input("input", ElementType.Float, 1, 784);
        var w1 = b.Initializer("w1", [32, 784], Values(32 * 784));
        var b1 = b.Initializer("b1", [32], Values(32));
        var h = b.Node("Gemm", [x, w1, b1], OnnxAttribute.OfInt("transB", 1));
        var r = b.Node("Relu", h);
        var w2 = b.Initializer("w2", [32, 10], Values(320));
        var y = b.Node("MatMul", [r, w2]);
        b.Output(b.Node("Softmax", y, OnnxAttribute.OfInt("axis", 1)), ElementType.Float, 1, 10);
        return b.Build();
    }

    internal static OnnxModel Cnn()
    {
        var b = new GraphBuilder("cnn", opset: 13);
        var x = b.Input("image", ElementType.Float, [Dim.Symbolic("N"), Dim.Of(1), Dim.Of(28), Dim.Of(28)]);
        var w = b.Initializer("conv_w", [8, 1, 3, 3], Values(72));
        var c = b.Node("Conv", [x, w], OnnxAttribute.OfInts("pads", 1, 1, 1, 1));
        var p = b.Node("MaxPool", b.Node("Relu", c), OnnxAttribute.OfInts("kernel_shape", 2, 2), OnnxAttribute.OfInts("strides", 2, 2));
        var f = b.Node("Flatten", p);
        var fc = b.Initializer("fc_w", [8 * 14 * 14, 10], Values(8 * 14 * 14 * 10));
        b.Output(b.Node("MatMul", [f, fc]));
        return b.Build();
    }

    [Fact]
    public void Mlp_InfersShapesAndRoundTrips()
    {
        var model = Mlp();
        Assert.Equal("[1,32]", Show(model.Graph.ValueInfo["gemm_0"]));
        Assert.Equal("[1,10]", Show(model.Graph.Outputs[0]));
        RoundTripTests.AssertRoundTrips(model);
    }

    [Fact]
    public void Cnn_KeepsTheSymbolicBatch_AndFillsTheUndeclaredOutput()
    {
        var model = Cnn();
        Assert.Equal("[N,8,28,28]", Show(model.Graph.ValueInfo["conv_0"]));
        Assert.Equal("[N,8,14,14]", Show(model.Graph.ValueInfo["maxpool_2"]));
        // Flatten's first dim is the product of [N] alone, so it stays N.
        Assert.Equal("[N,1568]", Show(model.Graph.ValueInfo["flatten_3"]));
        var output = Assert.Single(model.Graph.Outputs);
        Assert.Equal(ElementType.Float, output.Type);
        Assert.Equal("[N,10]", Show(output));
        RoundTripTests.AssertRoundTrips(model);
    }

    [Fact]
    public void DeclaredOutputShapeThatDisagrees_IsShapeMismatch()
    {
        var b = new GraphBuilder("bad");
        var x = b.Input("x", ElementType.Float, 2, 3);
        b.Output(b.Node("Relu", x), ElementType.Float, 3, 2);
        var e = Assert.Throws<OnnxException>(() => b.Build());
        Assert.Equal(ErrorCodes.ShapeMismatch, e.Code);
        Assert.Contains("[3,2]", e.Message);
        Assert.Contains("[2,3]", e.Message);
        Assert.Contains("relu_0", e.Message);
    }

    [Fact]
    public void DuplicateName_IsRejected()
    {
        var b = new GraphBuilder("dup");
        b.Input("x", ElementType.Float, 1);
        Assert.Throws<ArgumentException>(() => b.Input("x", ElementType.Float, 1));
    }

    private static string Show(TensorInfo info) => $"[{string.Join(",", info.Shape!)}]";

    private static float[] Values(int n) => Enumerable.Range(0, n).Select(i => (i % 7) * 0.01f).ToArray();
}
