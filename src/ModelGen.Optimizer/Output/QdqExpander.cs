using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Quantization;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Output;

/// <summary>
/// Writes a quantized plan's graph back as standard ONNX (QDQ form) so ONNX Runtime can run it
/// and users can check it: int8 weights + scales become <c>DequantizeLinear(w_q, scale, 0, axis)</c>
/// feeding the float op; a static int8 input becomes a <c>QuantizeLinear → DequantizeLinear</c>
/// pair in front of the op; float16 weights get a <c>Cast</c> to float.
/// Per-axis DequantizeLinear needs opset 13: an older model is moved to opset 13 when all its ops
/// mean the same there, and otherwise gets the equivalent <c>Cast</c> + <c>Mul</c> for the weights
/// (and, before opset 10, no activation pair: the weights alone are then exact, the activation
/// rounding is not shown).
/// </summary>
internal static class QdqExpander
{
    /// <summary>Ops whose meaning is the same from opset 7 through 13 (for the attributes they can carry).</summary>
    private static readonly HashSet<string> s_sameSince7 = new(StringComparer.Ordinal)
    {
        "Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Relu", "LeakyRelu", "Sigmoid", "Tanh", "MaxPool", "AveragePool",
        "GlobalAveragePool", "GlobalMaxPool", "Reshape", "Flatten", "Concat", "Transpose", "Cast", "Identity", "Exp", "Log", "Sqrt",
        "Neg", "Abs", "Max", "Min", "Sum", "Mean", "Shape", "Gather", "Elu", "Selu", "HardSigmoid", "Softplus", "Pow",
        "DequantizeLinear", "QuantizeLinear",
    };

    public static OnnxModel Expand(OnnxModel model)
    {
        var graph = model.Graph;
        bool quantized = graph.Nodes.Any(n => n.Inputs.Count >= 4 && n.Inputs[3].Length > 0 && n.OpType is "Conv" or "Gemm" or "MatMul");
        bool half = graph.Nodes.Any(n => n.OpType is "Conv" or "Gemm" or "MatMul" && n.Inputs.Skip(1).Take(2).Any(i => IsHalf(graph, i)));
        if (!quantized && !half) return model;
        // The fusion expander shares node objects with the optimized graph; edit a copy.
        model = GraphCopy.Of(model);
        graph = model.Graph;
        if (quantized && model.DefaultOpset < 13 && graph.Nodes.All(n => s_sameSince7.Contains(n.OpType)) && model.DefaultOpset >= 7)
        {
            model.Opsets[""] = 13;
            model.IrVersion = Math.Max(model.IrVersion, 7);
        }
        long opset = model.DefaultOpset;
        var source = graph.Nodes.ToList();
        graph.Nodes.Clear();
        var dequantized = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in source)
        {
            if (node.OpType is "Conv" or "Gemm" or "MatMul")
            {
                for (int i = 1; i < Math.Min(3, node.Inputs.Count); i++)
                {
                    if (!IsHalf(graph, node.Inputs[i])) continue;
                    node.Inputs[i] = Once(dequantized, node.Inputs[i], graph, name =>
                        new[] { new OnnxNode("Cast", name + "__to_float", new[] { name }, new[] { name + "__float" }).Set(OnnxAttribute.OfInt("to", 1)) });
                }
                if (node.Inputs.Count >= 4 && node.Inputs[3].Length > 0) ExpandInt8(graph, node, opset, dequantized);
            }
            graph.Nodes.Add(node);
        }
        // The fp32 originals of quantized weights are no longer read: drop them, so the file shrinks too.
        var used = graph.Nodes.SelectMany(n => n.Inputs).Concat(graph.Outputs.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (var name in graph.Initializers.Keys.Where(k => !used.Contains(k)).ToList()) graph.Initializers.Remove(name);
        graph.InitializerInputs.RemoveAll(i => !used.Contains(i.Name));
        return model;
    }

    private static void ExpandInt8(OnnxGraph graph, OnnxNode node, long opset, Dictionary<string, string> dequantized)
    {
        string values = node.Inputs[1], scales = node.Inputs[3];
        var w = graph.Initializers[values];
        int axis = WeightQuantizer.OutputChannelAxis(node.OpType, w.Shape.Length, node.GetInt("transB", 0) != 0) ?? 0;
        node.Inputs[1] = Once(dequantized, values, graph, name =>
        {
            string output = name + "__dequantized";
            if (opset >= 13)
            {
                string zero = name + "__zero_point";
                graph.Initializers[zero] = new OnnxTensor(zero, ElementType.Int8, new[] { w.Shape[axis] }, new byte[w.Shape[axis]]);
                return new[] { new OnnxNode("DequantizeLinear", name + "__dequantize", new[] { name, scales, zero }, new[] { output }).Set(OnnxAttribute.OfInt("axis", axis)) };
            }
            // Cast + Mul with the scales shaped to broadcast along the axis.
            string shaped = scales + "__broadcast";
            var s = graph.Initializers[scales];
            var shape = new int[w.Shape.Length - axis];
            Array.Fill(shape, 1);
            shape[0] = w.Shape[axis];
            graph.Initializers[shaped] = new OnnxTensor(shaped, ElementType.Float, shape, s.Data);
            return new[]
            {
                new OnnxNode("Cast", name + "__to_float", new[] { name }, new[] { name + "__float" }).Set(OnnxAttribute.OfInt("to", 1)),
                new OnnxNode("Mul", name + "__scale", new[] { name + "__float", shaped }, new[] { output }),
            };
        });
        node.Inputs.RemoveAt(3);
        while (node.Inputs.Count > 2 && node.Inputs[^1].Length == 0) node.Inputs.RemoveAt(node.Inputs.Count - 1);

        string mode = node.GetString(QuantizationRewriter.Quant, "");
        float scale = node.GetFloat(QuantizationRewriter.InputScale, 1f);
        long zeroPoint = node.GetInt(QuantizationRewriter.InputZeroPoint, 0);
        node.Attributes.Remove(QuantizationRewriter.Quant);
        node.Attributes.Remove(QuantizationRewriter.InputScale);
        node.Attributes.Remove(QuantizationRewriter.InputZeroPoint);
        if (mode != "static" || opset < 10) return;
        string x = node.Inputs[0], prefix = node.Name + "__input";
        graph.Initializers[prefix + "_scale"] = OnnxTensor.FromFloats(prefix + "_scale", Array.Empty<int>(), new[] { scale });
        graph.Initializers[prefix + "_zero_point"] = new OnnxTensor(prefix + "_zero_point", ElementType.UInt8, Array.Empty<int>(), new[] { (byte)zeroPoint });
        graph.Nodes.Add(new OnnxNode("QuantizeLinear", prefix + "_quantize", new[] { x, prefix + "_scale", prefix + "_zero_point" }, new[] { prefix + "_q" }));
        graph.Nodes.Add(new OnnxNode("DequantizeLinear", prefix + "_dequantize", new[] { prefix + "_q", prefix + "_scale", prefix + "_zero_point" }, new[] { prefix + "_dq" }));
        node.Inputs[0] = prefix + "_dq";
    }

    /// <summary>Adds the nodes that turn <paramref name="value"/> into float once, before its first consumer; returns the float value's name.</summary>
    private static string Once(Dictionary<string, string> done, string value, OnnxGraph graph, Func<string, OnnxNode[]> make)
    {
        if (done.TryGetValue(value, out var existing)) return existing;
        var nodes = make(value);
        graph.Nodes.AddRange(nodes);
        return done[value] = nodes[^1].Outputs[0];
    }

    private static bool IsHalf(OnnxGraph graph, string name) =>
        name.Length > 0 && graph.Initializers.TryGetValue(name, out var t) && t.Type == ElementType.Float16;
}
