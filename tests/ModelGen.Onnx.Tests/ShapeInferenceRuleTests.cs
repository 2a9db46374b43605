using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Onnx.Tests;

/// <summary>Single-node rules through the per-node API, with hand-computed expected shapes.</summary>
public class ShapeInferenceRuleTests
{
    private readonly Dictionary<string, TensorInfo> _infos = new();
    private readonly Dictionary<string, OnnxTensor> _constants = new();

    private void Value(string name, ElementType type, params object[] dims) =>
        _infos[name] = new TensorInfo(name, type, dims.Select(d => d is string s ? Dim.Symbolic(s) : Dim.Of(Convert.ToInt64(d))).ToArray());

    private void Ints(string name, params long[] values)
    {
        _constants[name] = OnnxTensor.FromInt64s(name, [values.Length], values);
        _infos[name] = TensorInfo.Static(name, ElementType.Int64, values.Length);
    }

    private TensorInfo[] Infer(OnnxNode node, long opset = 13) =>
        ShapeInference.InferNode(node, opset, n => _infos.GetValueOrDefault(n), n => _constants.GetValueOrDefault(n));

    private string Shape(OnnxNode node, long opset = 13, int output = 0) =>
        $"[{string.Join(",", Infer(node, opset)[output].Shape!)}]";

    private static OnnxNode N(string op, string[] inputs, params OnnxAttribute[] attributes) => N(op, inputs, 1, attributes);

    private static OnnxNode N(string op, string[] inputs, int outputs, params OnnxAttribute[] attributes)
    {
        var node = new OnnxNode(op, op.ToLowerInvariant(), inputs, Enumerable.Range(0, outputs).Select(i => $"out{i}"));
        foreach (var a in attributes) node.Set(a);
        return node;
    }

    private OnnxException Mismatch(OnnxNode node, long opset = 13)
    {
        var e = Assert.Throws<OnnxException>(() => Infer(node, opset));
        Assert.Equal(ErrorCodes.ShapeMismatch, e.Code);
        Assert.Contains(node.ToString(), e.Message);
        return e;
    }

    [Fact]
    public void Conv_StridesPadsDilationsGroupsAndAutoPad()
    {
        Value("x", ElementType.Float, "N", 4, 10, 12);
        Value("w", ElementType.Float, 6, 2, 3, 3);
        // (10 + 1 + 1 - 3) / 2 + 1 = 5; (12 + 0 + 0 - (3-1)*2-1) / 1 + 1 = 8
        Assert.Equal("[N,6,5,8]", Shape(N("Conv", ["x", "w"], OnnxAttribute.OfInt("group", 2),
            OnnxAttribute.OfInts("strides", 2, 1), OnnxAttribute.OfInts("pads", 1, 0, 1, 0), OnnxAttribute.OfInts("dilations", 1, 2))));
        Assert.Equal("[N,6,4,4]", Shape(N("Conv", ["x", "w"], OnnxAttribute.OfInt("group", 2), OnnxAttribute.OfString("auto_pad", "SAME_UPPER"), OnnxAttribute.OfInts("strides", 3, 3))));
        Assert.Equal("[N,6,8,10]", Shape(N("Conv", ["x", "w"], OnnxAttribute.OfInt("group", 2), OnnxAttribute.OfString("auto_pad", "VALID"))));
    }

    [Fact]
    public void Conv_ChannelsThatDoNotMatchTheGroups_IsShapeMismatch()
    {
        Value("x", ElementType.Float, 1, 4, 10, 10);
        Value("w", ElementType.Float, 6, 3, 3, 3);
        var e = Mismatch(N("Conv", ["x", "w"]));
        Assert.Contains("input channels", e.Message);
    }

    [Fact]
    public void MaxPool_CeilModeAndIndices()
    {
        Value("x", ElementType.Float, 1, 3, 32, 32);
        var node = N("MaxPool", ["x"], 2, OnnxAttribute.OfInts("kernel_shape", 3, 3), OnnxAttribute.OfInts("strides", 2, 2), OnnxAttribute.OfInt("ceil_mode", 1));
        var result = Infer(node);
        // ceil((32 - 3) / 2) + 1 = 16 (floor would give 15)
        Assert.Equal("[1,3,16,16]", $"[{string.Join(",", result[0].Shape!)}]");
        Assert.Equal(ElementType.Int64, result[1].Type);
    }

    [Fact]
    public void MatMul_BatchBroadcastAnd1D()
    {
        Value("a", ElementType.Float, "B", 1, 3, 4);
        Value("b", ElementType.Float, 5, 4, 7);
        Value("v", ElementType.Float, 4);
        Assert.Equal("[B,5,3,7]", Shape(N("MatMul", ["a", "b"])));
        Assert.Equal("[B,1,3]", Shape(N("MatMul", ["a", "v"])));
        Value("bad", ElementType.Float, 5, 3);
        Mismatch(N("MatMul", ["bad", "b"]));
    }

    [Fact]
    public void Gemm_TransposesAndChecksK()
    {
        Value("a", ElementType.Float, 8, 3);
        Value("b", ElementType.Float, 5, 8);
        Value("c", ElementType.Float, 5);
        Assert.Equal("[3,5]", Shape(N("Gemm", ["a", "b", "c"], OnnxAttribute.OfInt("transA", 1), OnnxAttribute.OfInt("transB", 1))));
        var e = Mismatch(N("Gemm", ["a", "b", "c"]));
        Assert.Contains("inner dimensions", e.Message);
    }

    [Fact]
    public void Broadcasting_AndItsMismatch()
    {
        Value("a", ElementType.Float, "N", 3, 1);
        Value("b", ElementType.Float, 1, 4);
        Value("c", ElementType.Float, 2, 4);
        Value("cond", ElementType.Bool, 3, 4);
        Assert.Equal("[N,3,4]", Shape(N("Add", ["a", "b"])));
        Assert.Equal("[N,3,4]", Shape(N("Where", ["cond", "a", "b"])));
        Assert.Equal(ElementType.Bool, Infer(N("Less", ["a", "b"]))[0].Type);
        var e = Mismatch(N("Mul", ["a", "c"]));
        Assert.Contains("broadcast", e.Message);
    }

    [Fact]
    public void Reshape_ZeroMinusOneAllowZeroAndCountCheck()
    {
        Value("x", ElementType.Float, 2, 3, 4);
        Ints("s1", 0, -1);
        Assert.Equal("[2,12]", Shape(N("Reshape", ["x", "s1"])));
        Ints("s2", 0, 0, -1, 1);
        Assert.Equal("[2,3,4,1]", Shape(N("Reshape", ["x", "s2"])));
        // With allowzero a 0 is a real size: 2·0 elements cannot hold 24.
        Ints("s3", 2, 0);
        Mismatch(N("Reshape", ["x", "s3"], OnnxAttribute.OfInt("allowzero", 1)), opset: 14);
    }

    [Fact]
    public void Reshape_ElementCountDiffers_IsShapeMismatch()
    {
        Value("x", ElementType.Float, 2, 3, 4);
        Ints("s", 5, 5);
        var e = Mismatch(N("Reshape", ["x", "s"]));
        Assert.Contains("24 elements", e.Message);
    }

    [Fact]
    public void Concat_CountsAxisAndChecksTheRest()
    {
        Value("a", ElementType.Float, 2, 3);
        Value("b", ElementType.Float, 2, 5);
        Assert.Equal("[2,8]", Shape(N("Concat", ["a", "b"], OnnxAttribute.OfInt("axis", -1))));
        Mismatch(N("Concat", ["a", "b"], OnnxAttribute.OfInt("axis", 0)));
    }

    [Fact]
    public void OpsetDependentInputs_SliceSqueezeUnsqueezeReduceClip()
    {
        Value("x", ElementType.Float, 10, 1, 8);
        Ints("starts", 1, -3);
        Ints("ends", 100, 0);
        Ints("axes", 0, 2);
        Ints("steps", 3, -1);
        Assert.Equal("[3,1,5]", Shape(N("Slice", ["x", "starts", "ends", "axes", "steps"])));
        Assert.Equal("[9,1,8]", Shape(N("Slice", ["x"], OnnxAttribute.OfInts("starts", 1), OnnxAttribute.OfInts("ends", 100)), opset: 9));
        Ints("one", 1);
        Assert.Equal("[10,8]", Shape(N("Squeeze", ["x", "one"])));
        Assert.Equal("[10,8]", Shape(N("Squeeze", ["x"], OnnxAttribute.OfInts("axes", 1)), opset: 11));
        Assert.Equal("[10,1,1,8]", Shape(N("Unsqueeze", ["x", "one"])));
        Assert.Equal("[10,1,1]", Shape(N("ReduceMean", ["x"], OnnxAttribute.OfInts("axes", -1)), opset: 13));
        Assert.Equal("[1]", Shape(N("ReduceSum", ["x", "axes"], OnnxAttribute.OfInt("keepdims", 0)), opset: 13));
        Assert.Equal("[10,8]", Shape(N("ReduceMax", ["x", "one"], OnnxAttribute.OfInt("keepdims", 0)), opset: 18));
        Value("lo", ElementType.Float);
        Assert.Equal("[10,1,8]", Shape(N("Clip", ["x", "lo", ""]), opset: 11));
    }

    [Fact]
    public void SplitPadTransposeFlattenGather()
    {
        Value("x", ElementType.Float, 2, 7, 4);
        var split = Infer(N("Split", ["x"], 3, OnnxAttribute.OfInt("axis", 1), OnnxAttribute.OfInt("num_outputs", 3)), opset: 18);
        Assert.Equal(new long?[] { 3, 3, 1 }, split.Select(s => s.Shape![1].Value));
        Ints("sizes", 2, 5);
        Assert.Equal("[2,5,4]", Shape(N("Split", ["x", "sizes"], 2, OnnxAttribute.OfInt("axis", 1)), output: 1));
        Ints("pads", 0, 1, 2, 0, 3, 0);
        Assert.Equal("[2,11,6]", Shape(N("Pad", ["x", "pads"]), opset: 13));
        Assert.Equal("[4,2,7]", Shape(N("Transpose", ["x"], OnnxAttribute.OfInts("perm", 2, 0, 1))));
        Assert.Equal("[14,4]", Shape(N("Flatten", ["x"], OnnxAttribute.OfInt("axis", 2))));
        Value("idx", ElementType.Int64, 5, 6);
        Assert.Equal("[2,5,6,4]", Shape(N("Gather", ["x", "idx"], OnnxAttribute.OfInt("axis", 1))));
    }

    [Fact]
    public void UnknownOp_IsUnsupportedOp_NamingOpAndNode()
    {
        Value("x", ElementType.Float, 1);
        var node = N("FancyOp", ["x"]);
        var e = Assert.Throws<OnnxException>(() => Infer(node));
        Assert.Equal(ErrorCodes.UnsupportedOp, e.Code);
        Assert.Contains("FancyOp", e.Message);
        Assert.Contains("'fancyop'", e.Message);
        var custom = new OnnxNode("Relu", "r", ["x"], ["y"], "com.microsoft");
        Assert.Equal(ErrorCodes.UnsupportedOp, Assert.Throws<OnnxException>(() => Infer(custom)).Code);
    }

    [Fact]
    public void Run_UsesConstantNodesForReshape_AndChecksDeclaredValueInfo()
    {
        var b = new GraphBuilder("c", opset: 13);
        var x = b.Input("x", ElementType.Float, 2, 6);
        var shape = b.Node("Constant", Array.Empty<string>(), OnnxAttribute.OfTensor("value", OnnxTensor.FromInt64s("v", [2], [3, -1])));
        b.Output(b.Node("Reshape", [x, shape]));
        var model = b.Build();
        Assert.Equal("[3,4]", $"[{string.Join(",", model.Graph.Outputs[0].Shape!)}]");

        model.Graph.ValueInfo["reshape_1"] = TensorInfo.Static("reshape_1", ElementType.Float, 4, 3);
        model.Graph.Outputs[0].Shape = null;
        var e = Assert.Throws<OnnxException>(() => ShapeInference.Run(model));
        Assert.Equal(ErrorCodes.ShapeMismatch, e.Code);
        Assert.Contains("reshape_1", e.Message);
    }

    [Fact]
    public void ConstantNode_AllValueForms()
    {
        var f = new OnnxNode("Constant", "c", [], ["y"]).Set(OnnxAttribute.OfFloats("value_floats", 1, 2, 3));
        Assert.Equal(new[] { 3 }, ShapeInference.ConstantValue(f).Shape);
        var i = new OnnxNode("Constant", "c", [], ["y"]).Set(OnnxAttribute.OfInt("value_int", 7));
        Assert.Equal(ElementType.Int64, ShapeInference.ConstantValue(i).Type);
        Assert.Empty(ShapeInference.ConstantValue(i).Shape);
    }
}
