using ModelGen.Onnx.Ir;

namespace ModelGen.Optimizer.Quantization;

/// <summary>
/// Copies a model so a quantized variant can be built from the fp32 graph as often as the gate
/// needs: nodes are new objects (their input lists and attributes are edited), tensors and value
/// infos are shared, since every pass replaces a tensor rather than changing one in place.
/// </summary>
internal static class GraphCopy
{
    public static OnnxModel Of(OnnxModel model)
    {
        var copy = new OnnxModel
        {
            IrVersion = model.IrVersion,
            ProducerName = model.ProducerName,
            ProducerVersion = model.ProducerVersion,
            Domain = model.Domain,
            ModelVersion = model.ModelVersion,
            Doc = model.Doc,
        };
        foreach (var kv in model.Opsets) copy.Opsets[kv.Key] = kv.Value;
        foreach (var kv in model.MetadataProps) copy.MetadataProps[kv.Key] = kv.Value;
        var source = model.Graph;
        var graph = copy.Graph;
        graph.Name = source.Name;
        graph.Doc = source.Doc;
        graph.Inputs.AddRange(source.Inputs);
        graph.Outputs.AddRange(source.Outputs);
        graph.InitializerInputs.AddRange(source.InitializerInputs);
        foreach (var kv in source.Initializers) graph.Initializers[kv.Key] = kv.Value;
        foreach (var kv in source.ValueInfo) graph.ValueInfo[kv.Key] = kv.Value;
        foreach (var node in source.Nodes)
        {
            var n = new OnnxNode(node.OpType, node.Name, node.Inputs, node.Outputs, node.Domain) { Doc = node.Doc };
            foreach (var a in node.Attributes.Values) n.Set(a);
            graph.Nodes.Add(n);
        }
        return copy;
    }
}
