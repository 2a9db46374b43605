using ModelGen.Onnx.Ir;
using ModelGen.Tests;

namespace ModelGen.Onnx.Tests;

/// <summary>Load → save → load keeps everything the IR holds, and saving is deterministic.</summary>
public class RoundTripTests
{
    public static TheoryData<string> RealModels() => new(
        Models.Light.Select(n => $"onnx-light/{n}/model.onnx")
            .Concat(["real/mnist-8.onnx", "real/onnx-mlir-mnist-mlp.onnx"]));

    [Theory]
    [MemberData(nameof(RealModels))]
    public void RealModels_RoundTrip(string relative) => AssertRoundTrips(OnnxLoader.Load(TestData.Require(relative)));

    [Fact]
    public void NodeCases_RoundTrip()
    {
        int checkedCount = 0;
        // Every third case (a fixed sample that covers all operator families, which are in name order).
        var cases = Models.NodeCases();
        for (int i = 0; i < cases.Length; i += 3)
        {
            OnnxModel model;
            try
            {
                model = OnnxLoader.Load(Path.Combine(cases[i], "model.onnx"));
            }
            catch (OnnxException e) when (e.Code == ErrorCodes.UnsupportedType)
            {
                continue;
            }
            AssertRoundTrips(model);
            checkedCount++;
        }
        Assert.True(checkedCount >= 170, $"only {checkedCount} node cases round-tripped");
    }

    internal static void AssertRoundTrips(OnnxModel model)
    {
        var bytes = OnnxWriter.ToBytes(model);
        Assert.Equal(bytes, OnnxWriter.ToBytes(model));
        var again = OnnxLoader.Load(bytes, null, "roundtrip.onnx");
        AssertSameModel(model, again);
        Assert.Equal(bytes, OnnxWriter.ToBytes(again));
    }

    internal static void AssertSameModel(OnnxModel a, OnnxModel b)
    {
        Assert.Equal(a.IrVersion, b.IrVersion);
        Assert.Equal(a.ProducerName, b.ProducerName);
        Assert.Equal(a.ProducerVersion, b.ProducerVersion);
        Assert.Equal(a.ModelVersion, b.ModelVersion);
        Assert.Equal(a.Doc, b.Doc);
        Assert.Equal(a.Opsets.OrderBy(p => p.Key), b.Opsets.OrderBy(p => p.Key));
        Assert.Equal(a.MetadataProps.OrderBy(p => p.Key), b.MetadataProps.OrderBy(p => p.Key));
        AssertSameGraph(a.Graph, b.Graph);
    }

    internal static void AssertSameGraph(OnnxGraph a, OnnxGraph b)
    {
        Assert.Equal(a.Name, b.Name);
        Assert.Equal(Infos(a.Inputs), Infos(b.Inputs));
        Assert.Equal(Infos(a.InitializerInputs), Infos(b.InitializerInputs));
        Assert.Equal(Infos(a.Outputs), Infos(b.Outputs));
        // Graph outputs are written once, as outputs, even when inference also put them in ValueInfo.
        var outputs = a.Outputs.Select(o => o.Name).ToHashSet();
        Assert.Equal(a.ValueInfo.Keys.Where(k => !outputs.Contains(k)).Order(), b.ValueInfo.Keys.Where(k => !outputs.Contains(k)).Order());
        foreach (var (name, info) in a.ValueInfo.Where(p => !outputs.Contains(p.Key))) Assert.Equal(info.ToString(), b.ValueInfo[name].ToString());
        Assert.Equal(a.Initializers.Keys, b.Initializers.Keys);
        foreach (var (name, t) in a.Initializers) AssertSameTensor(t, b.Initializers[name]);
        Assert.Equal(a.Nodes.Count, b.Nodes.Count);
        for (int i = 0; i < a.Nodes.Count; i++)
        {
            var (x, y) = (a.Nodes[i], b.Nodes[i]);
            Assert.Equal((x.OpType, x.Name, x.Domain, x.Doc), (y.OpType, y.Name, y.Domain, y.Doc));
            Assert.Equal(x.Inputs, y.Inputs);
            Assert.Equal(x.Outputs, y.Outputs);
            Assert.Equal(x.Attributes.Keys, y.Attributes.Keys);
            foreach (var (name, attr) in x.Attributes) AssertSameAttribute(attr, y.Attributes[name]);
        }
    }

    private static void AssertSameAttribute(OnnxAttribute a, OnnxAttribute b)
    {
        Assert.Equal(a.Kind, b.Kind);
        Assert.Equal(a.Float, b.Float);
        Assert.Equal(a.Int, b.Int);
        Assert.Equal(a.String, b.String);
        Assert.Equal(a.Floats, b.Floats);
        Assert.Equal(a.Ints, b.Ints);
        Assert.Equal(a.Strings, b.Strings);
        Assert.Equal(a.Tensor is null, b.Tensor is null);
        if (a.Tensor is not null) AssertSameTensor(a.Tensor, b.Tensor!);
        Assert.Equal(a.Tensors.Length, b.Tensors.Length);
        for (int i = 0; i < a.Tensors.Length; i++) AssertSameTensor(a.Tensors[i], b.Tensors[i]);
        Assert.Equal(a.Graph is null, b.Graph is null);
        if (a.Graph is not null) AssertSameGraph(a.Graph, b.Graph!);
        Assert.Equal(a.Graphs.Length, b.Graphs.Length);
        for (int i = 0; i < a.Graphs.Length; i++) AssertSameGraph(a.Graphs[i], b.Graphs[i]);
    }

    private static void AssertSameTensor(OnnxTensor a, OnnxTensor b)
    {
        Assert.Equal(a.Name, b.Name);
        Assert.Equal(a.Type, b.Type);
        Assert.Equal(a.Shape, b.Shape);
        Assert.Equal(a.Data, b.Data);
    }

    private static List<string> Infos(IEnumerable<TensorInfo> infos) => infos.Select(i => i.ToString() + "|" + i.Doc).ToList();
}
