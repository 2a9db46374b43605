using System.Text;
using ModelGen.Onnx.Ir;
using ModelGen.Onnx.Protos;

namespace ModelGen.Onnx.Loading;

/// <summary>Converts parsed protobuf messages into the IR, checking what the IR relies on.</summary>
internal sealed class ProtoToIr
{
    private readonly string? _baseDirectory;
    private readonly string? _file;

    public ProtoToIr(string? baseDirectory, string? file)
    {
        _baseDirectory = baseDirectory;
        _file = file;
    }

    public OnnxModel Model(ModelProto proto)
    {
        if (proto.Graph is null)
        {
            throw new OnnxException(ErrorCodes.InvalidGraph,
                "the file holds no graph (ModelProto.graph is missing); it is not an ONNX model, or an incomplete one; re-export the model", _file);
        }
        var model = new OnnxModel
        {
            IrVersion = proto.IrVersion,
            ProducerName = proto.ProducerName,
            ProducerVersion = proto.ProducerVersion,
            Domain = proto.Domain,
            ModelVersion = proto.ModelVersion,
            Doc = proto.DocString,
        };
        foreach (var opset in proto.OpsetImport) model.Opsets[opset.Domain] = opset.Version;
        foreach (var entry in proto.MetadataProps) model.MetadataProps[entry.Key] = entry.Value;
        model.Graph = Graph(proto.Graph, isMain: true);
        return model;
    }

    /// <summary>
    /// Converts a graph. In the main graph, every input that also has an initializer goes to
    /// <see cref="OnnxGraph.InitializerInputs"/>: for IR &lt; 4 that is how all weights are listed;
    /// for IR ≥ 4 it marks an input with a default value, which ModelGen also bakes in as a
    /// constant (a generated predictor has a fixed signature, so it is never a parameter).
    /// Subgraphs (If/Loop bodies) keep their inputs and their order, as they may use outer values.
    /// </summary>
    public OnnxGraph Graph(GraphProto proto, bool isMain)
    {
        var graph = new OnnxGraph { Name = proto.Name, Doc = proto.DocString };
        foreach (var init in proto.Initializer)
        {
            if (string.IsNullOrEmpty(init.Name))
            {
                throw new OnnxException(ErrorCodes.InvalidGraph, $"graph '{proto.Name}' has an initializer without a name; re-export the model", _file);
            }
            if (graph.Initializers.ContainsKey(init.Name))
            {
                throw new OnnxException(ErrorCodes.InvalidGraph, $"graph '{proto.Name}' has two initializers named '{init.Name}'; re-export the model", _file);
            }
            graph.Initializers.Add(init.Name, TensorDecoder.Decode(init, $"initializer '{init.Name}'", _baseDirectory, _file));
        }
        if (proto.SparseInitializer.Count > 0)
        {
            throw new OnnxException(ErrorCodes.UnsupportedType,
                $"graph '{proto.Name}' has sparse initializers ('{proto.SparseInitializer[0].Values?.Name}'), which ModelGen does not support; densify them before building", _file);
        }
        foreach (var input in proto.Input)
        {
            bool isInitializer = graph.Initializers.ContainsKey(input.Name);
            var info = ValueInfo(input, "input", required: !isInitializer);
            if (isInitializer)
            {
                graph.InitializerInputs.Add(info ?? InfoOfInitializer(graph.Initializers[input.Name]));
            }
            else
            {
                graph.Inputs.Add(info!);
            }
        }
        foreach (var output in proto.Output) graph.Outputs.Add(ValueInfo(output, "output", required: true)!);
        foreach (var value in proto.ValueInfo)
        {
            // Intermediate values of types we cannot represent are simply not recorded.
            if (ValueInfo(value, "value", required: false) is { } info) graph.ValueInfo[info.Name] = info;
        }
        foreach (var node in proto.Node) graph.Nodes.Add(Node(node));
        if (isMain) GraphOrder.Sort(graph);
        return graph;
    }

    private static TensorInfo InfoOfInitializer(OnnxTensor t) => TensorInfo.Static(t.Name, t.Type, t.Shape);

    /// <summary>
    /// A value's type. Graph inputs and outputs must be tensors of a supported type
    /// (<paramref name="required"/>); other values of other kinds give null.
    /// </summary>
    private TensorInfo? ValueInfo(ValueInfoProto proto, string role, bool required)
    {
        if (string.IsNullOrEmpty(proto.Name))
        {
            throw new OnnxException(ErrorCodes.InvalidGraph, $"a graph {role} has no name; re-export the model", _file);
        }
        var type = proto.Type;
        if (type is null || type.ValueCase != TypeProto.ValueOneofCase.TensorType)
        {
            if (!required) return null;
            string kind = type is null ? "no type" : $"type {type.ValueCase}";
            throw new OnnxException(
                type is null ? ErrorCodes.InvalidGraph : ErrorCodes.UnsupportedType,
                $"graph {role} '{proto.Name}' has {kind}; ModelGen needs plain tensors with an element type; re-export the model with tensor {role}s",
                _file);
        }
        var tensorType = type.TensorType;
        var elem = OnnxTypes.TryMap(tensorType.ElemType);
        if (elem is null)
        {
            if (!required) return null;
            throw new OnnxException(
                tensorType.ElemType == 0 ? ErrorCodes.InvalidGraph : ErrorCodes.UnsupportedType,
                $"graph {role} '{proto.Name}' has element type {OnnxTypes.Name(tensorType.ElemType)}, which ModelGen does not support; use float32 or another plain numeric type",
                _file);
        }
        Dim[]? shape = null;
        if (tensorType.Shape is { } s)
        {
            shape = new Dim[s.Dim.Count];
            for (int i = 0; i < shape.Length; i++)
            {
                var d = s.Dim[i];
                shape[i] = d.ValueCase switch
                {
                    // Some exporters write -1 for "dynamic": that is an unknown size, not a size.
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue when d.DimValue >= 0 => Dim.Of(d.DimValue),
                    TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam when d.DimParam.Length > 0 => Dim.Symbolic(d.DimParam),
                    _ => Dim.Unknown,
                };
            }
        }
        return new TensorInfo(proto.Name, elem.Value, shape, proto.DocString);
    }

    private OnnxNode Node(NodeProto proto)
    {
        var node = new OnnxNode(proto.OpType, proto.Name, proto.Input, proto.Output, proto.Domain) { Doc = proto.DocString };
        if (string.IsNullOrEmpty(proto.OpType))
        {
            throw new OnnxException(ErrorCodes.InvalidGraph, $"node '{proto.Name}' has no op_type; re-export the model", _file);
        }
        foreach (var a in proto.Attribute)
        {
            if (node.Attributes.ContainsKey(a.Name))
            {
                throw new OnnxException(ErrorCodes.InvalidGraph, $"node {node} has two attributes named '{a.Name}'; re-export the model", _file);
            }
            node.Attributes.Add(a.Name, Attribute(a, node));
        }
        return node;
    }

    private OnnxAttribute Attribute(AttributeProto a, OnnxNode node)
    {
        var kind = a.Type == AttributeProto.Types.AttributeType.Undefined ? GuessKind(a) : a.Type;
        string where = $"attribute '{a.Name}' of node {node}";
        return kind switch
        {
            AttributeProto.Types.AttributeType.Float => new OnnxAttribute(a.Name, OnnxAttributeKind.Float) { Float = a.F },
            AttributeProto.Types.AttributeType.Int => new OnnxAttribute(a.Name, OnnxAttributeKind.Int) { Int = a.I },
            AttributeProto.Types.AttributeType.String => new OnnxAttribute(a.Name, OnnxAttributeKind.String) { String = Text(a.S) },
            AttributeProto.Types.AttributeType.Tensor => new OnnxAttribute(a.Name, OnnxAttributeKind.Tensor)
            {
                Tensor = TensorDecoder.Decode(a.T ?? throw Missing(where, "t"), where, _baseDirectory, _file),
            },
            AttributeProto.Types.AttributeType.Graph => new OnnxAttribute(a.Name, OnnxAttributeKind.Graph)
            {
                Graph = Graph(a.G ?? throw Missing(where, "g"), isMain: false),
            },
            AttributeProto.Types.AttributeType.Floats => new OnnxAttribute(a.Name, OnnxAttributeKind.Floats) { Floats = a.Floats.ToArray() },
            AttributeProto.Types.AttributeType.Ints => new OnnxAttribute(a.Name, OnnxAttributeKind.Ints) { Ints = a.Ints.ToArray() },
            AttributeProto.Types.AttributeType.Strings => new OnnxAttribute(a.Name, OnnxAttributeKind.Strings) { Strings = a.Strings.Select(Text).ToArray() },
            AttributeProto.Types.AttributeType.Tensors => new OnnxAttribute(a.Name, OnnxAttributeKind.Tensors)
            {
                Tensors = a.Tensors.Select(t => TensorDecoder.Decode(t, where, _baseDirectory, _file)).ToArray(),
            },
            AttributeProto.Types.AttributeType.Graphs => new OnnxAttribute(a.Name, OnnxAttributeKind.Graphs)
            {
                Graphs = a.Graphs.Select(g => Graph(g, isMain: false)).ToArray(),
            },
            AttributeProto.Types.AttributeType.Undefined => throw new OnnxException(ErrorCodes.CorruptModel,
                $"{where} has no type and no value; re-export the model", _file),
            _ => throw new OnnxException(ErrorCodes.UnsupportedType,
                $"{where} is of kind {kind} (sparse tensors and type protos are not supported by ModelGen); re-export the model without it", _file),
        };
    }

    /// <summary>Very old models leave AttributeProto.type unset; the filled field tells the kind.</summary>
    private static AttributeProto.Types.AttributeType GuessKind(AttributeProto a) =>
        a.HasF ? AttributeProto.Types.AttributeType.Float
        : a.HasI ? AttributeProto.Types.AttributeType.Int
        : a.HasS ? AttributeProto.Types.AttributeType.String
        : a.T is not null ? AttributeProto.Types.AttributeType.Tensor
        : a.G is not null ? AttributeProto.Types.AttributeType.Graph
        : a.SparseTensor is not null ? AttributeProto.Types.AttributeType.SparseTensor
        : a.Tp is not null ? AttributeProto.Types.AttributeType.TypeProto
        : a.Floats.Count > 0 ? AttributeProto.Types.AttributeType.Floats
        : a.Ints.Count > 0 ? AttributeProto.Types.AttributeType.Ints
        : a.Strings.Count > 0 ? AttributeProto.Types.AttributeType.Strings
        : a.Tensors.Count > 0 ? AttributeProto.Types.AttributeType.Tensors
        : a.Graphs.Count > 0 ? AttributeProto.Types.AttributeType.Graphs
        : AttributeProto.Types.AttributeType.Undefined;

    private static string Text(Google.Protobuf.ByteString s) => Encoding.UTF8.GetString(s.Span);

    private OnnxException Missing(string where, string field) =>
        new(ErrorCodes.CorruptModel, $"{where} says it holds a value in '{field}', but the field is empty; re-export the model", _file);
}
