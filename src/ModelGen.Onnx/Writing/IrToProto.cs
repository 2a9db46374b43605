using System.Text;
using Google.Protobuf;
using ModelGen.Onnx.Ir;
using ModelGen.Onnx.Protos;
using ModelGen.Runtime;

namespace ModelGen.Onnx.Writing;

/// <summary>
/// Converts the IR into protobuf messages. Output is deterministic: lists keep the IR's order,
/// and dictionaries whose order carries no meaning (opsets, metadata) are sorted by key.
/// </summary>
internal static class IrToProto
{
    public static ModelProto Model(OnnxModel model)
    {
        var proto = new ModelProto
        {
            IrVersion = model.IrVersion,
            ProducerName = model.ProducerName,
            ProducerVersion = model.ProducerVersion,
            Domain = model.Domain,
            ModelVersion = model.ModelVersion,
            DocString = model.Doc,
            Graph = Graph(model.Graph),
        };
        foreach (var (domain, version) in model.Opsets.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            proto.OpsetImport.Add(new OperatorSetIdProto { Domain = domain, Version = version });
        }
        foreach (var (key, value) in model.MetadataProps.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            proto.MetadataProps.Add(new StringStringEntryProto { Key = key, Value = value });
        }
        return proto;
    }

    public static GraphProto Graph(OnnxGraph graph)
    {
        var proto = new GraphProto { Name = graph.Name, DocString = graph.Doc };
        foreach (var node in graph.Nodes) proto.Node.Add(Node(node));
        foreach (var tensor in graph.Initializers.Values) proto.Initializer.Add(Tensor(tensor));
        // Real inputs first, then the initializers that old models also list as inputs.
        foreach (var input in graph.Inputs) proto.Input.Add(ValueInfo(input));
        foreach (var input in graph.InitializerInputs) proto.Input.Add(ValueInfo(input));
        var declared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var output in graph.Outputs)
        {
            proto.Output.Add(ValueInfo(output));
            declared.Add(output.Name);
        }
        foreach (var i in graph.Inputs) declared.Add(i.Name);
        foreach (var i in graph.InitializerInputs) declared.Add(i.Name);
        foreach (var (name, info) in graph.ValueInfo)
        {
            if (!declared.Contains(name) && !graph.Initializers.ContainsKey(name)) proto.ValueInfo.Add(ValueInfo(info));
        }
        return proto;
    }

    public static TensorProto Tensor(OnnxTensor tensor)
    {
        var proto = new TensorProto { DataType = (int)tensor.Type };
        if (tensor.Name.Length > 0) proto.Name = tensor.Name;
        foreach (int d in tensor.Shape) proto.Dims.Add(d);
        byte[] data = tensor.Data;
        if (Loading.SubBytePacking.IsPacked(tensor.Type))
        {
            proto.RawData = ByteString.CopyFrom(Loading.SubBytePacking.Pack(tensor.Type, data));
            return proto;
        }
        if (!BitConverter.IsLittleEndian)
        {
            data = (byte[])data.Clone();
            int size = tensor.Type.SizeOf();
            for (int i = 0; i + size <= data.Length; i += size) data.AsSpan(i, size).Reverse();
        }
        proto.RawData = ByteString.CopyFrom(data);
        return proto;
    }

    private static NodeProto Node(OnnxNode node)
    {
        var proto = new NodeProto { OpType = node.OpType, Name = node.Name };
        if (node.Domain.Length > 0) proto.Domain = node.Domain;
        if (node.Doc.Length > 0) proto.DocString = node.Doc;
        proto.Input.AddRange(node.Inputs);
        proto.Output.AddRange(node.Outputs);
        foreach (var attribute in node.Attributes.Values) proto.Attribute.Add(Attribute(attribute));
        return proto;
    }

    private static AttributeProto Attribute(OnnxAttribute a)
    {
        var proto = new AttributeProto { Name = a.Name };
        switch (a.Kind)
        {
            case OnnxAttributeKind.Float: proto.Type = AttributeProto.Types.AttributeType.Float; proto.F = a.Float; break;
            case OnnxAttributeKind.Int: proto.Type = AttributeProto.Types.AttributeType.Int; proto.I = a.Int; break;
            case OnnxAttributeKind.String: proto.Type = AttributeProto.Types.AttributeType.String; proto.S = ByteString.CopyFrom(Encoding.UTF8.GetBytes(a.String)); break;
            case OnnxAttributeKind.Tensor: proto.Type = AttributeProto.Types.AttributeType.Tensor; proto.T = Tensor(a.Tensor!); break;
            case OnnxAttributeKind.Graph: proto.Type = AttributeProto.Types.AttributeType.Graph; proto.G = Graph(a.Graph!); break;
            case OnnxAttributeKind.Floats: proto.Type = AttributeProto.Types.AttributeType.Floats; proto.Floats.AddRange(a.Floats); break;
            case OnnxAttributeKind.Ints: proto.Type = AttributeProto.Types.AttributeType.Ints; proto.Ints.AddRange(a.Ints); break;
            case OnnxAttributeKind.Strings:
                proto.Type = AttributeProto.Types.AttributeType.Strings;
                proto.Strings.AddRange(a.Strings.Select(s => ByteString.CopyFrom(Encoding.UTF8.GetBytes(s))));
                break;
            case OnnxAttributeKind.Tensors: proto.Type = AttributeProto.Types.AttributeType.Tensors; proto.Tensors.AddRange(a.Tensors.Select(Tensor)); break;
            case OnnxAttributeKind.Graphs: proto.Type = AttributeProto.Types.AttributeType.Graphs; proto.Graphs.AddRange(a.Graphs.Select(Graph)); break;
            default: throw new ArgumentOutOfRangeException(nameof(a), a.Kind, $"attribute '{a.Name}' has an unknown kind");
        }
        return proto;
    }

    private static ValueInfoProto ValueInfo(TensorInfo info)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)info.Type };
        if (info.Shape is { } shape)
        {
            var s = new TensorShapeProto();
            foreach (var d in shape)
            {
                var dim = new TensorShapeProto.Types.Dimension();
                if (d.Value is { } v) dim.DimValue = v;
                else if (d.Param is { } p) dim.DimParam = p;
                s.Dim.Add(dim);
            }
            tensorType.Shape = s;
        }
        var proto = new ValueInfoProto { Name = info.Name, Type = new TypeProto { TensorType = tensorType } };
        if (info.Doc.Length > 0) proto.DocString = info.Doc;
        return proto;
    }
}
