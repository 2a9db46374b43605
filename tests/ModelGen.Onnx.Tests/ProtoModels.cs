using Google.Protobuf;
using ModelGen.Onnx.Protos;

namespace ModelGen.Onnx.Tests;

/// <summary>Small ModelProtos written directly as protobuf, for cases the IR cannot express (external data).</summary>
internal static class ProtoModels
{
    /// <summary>y = Relu(x + w), with w stored in external data at <paramref name="location"/>.</summary>
    public static byte[] WithExternalWeight(string location, long offset = 0, long? length = null)
    {
        var w = new TensorProto { Name = "w", DataType = (int)TensorProto.Types.DataType.Float, DataLocation = TensorProto.Types.DataLocation.External };
        w.Dims.Add(4);
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        w.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString() });
        if (length is { } l) w.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = l.ToString() });
        var graph = new GraphProto { Name = "g" };
        graph.Initializer.Add(w);
        graph.Input.Add(Value("x", 4));
        graph.Output.Add(Value("y", 4));
        graph.Node.Add(Node("Add", ["x", "w"], ["s"]));
        graph.Node.Add(Node("Relu", ["s"], ["y"]));
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 13 });
        return model.ToByteArray();
    }

    public static ValueInfoProto Value(string name, params long[] dims)
    {
        var shape = new TensorShapeProto();
        foreach (var d in dims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1, Shape = shape } },
        };
    }

    public static NodeProto Node(string op, string[] inputs, string[] outputs)
    {
        var node = new NodeProto { OpType = op, Name = op + "_" + outputs[0] };
        node.Input.AddRange(inputs);
        node.Output.AddRange(outputs);
        return node;
    }
}
