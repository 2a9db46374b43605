using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Passes;
using ModelGen.Optimizer.Quantization;

namespace ModelGen.Optimizer.Output;

/// <summary>
/// Produces the standard-ONNX form of an optimized graph: fused steps are written back as the
/// node sequence they stand for (MatMul + Add, Conv + Relu, …), so the optimized .onnx runs in
/// any ONNX runtime and can be checked against the original.
/// </summary>
internal static class FusionExpander
{
    public static OnnxModel Expand(OnnxModel model)
    {
        var source = model.Graph;
        // Everything but the nodes is copied as is; the nodes are rebuilt below.
        var copy = GraphCopy.Of(model);
        var graph = copy.Graph;
        graph.Nodes.Clear();

        foreach (var node in source.Nodes)
        {
            bool matMulBias = node.OpType == "MatMul" && node.InputOrEmpty(2).Length > 0;
            bool residual = FusedActivation.HasResidual(node);
            if (!FusedActivation.HasActivation(node) && !matMulBias && !residual)
            {
                graph.Nodes.Add(node);
                continue;
            }
            // The bias moves to the Add; a quantized MatMul keeps its weight scales (input 3) for the QDQ expander.
            // A residual moves to an Add of its own; ONNX Conv ends at the bias.
            var coreInputs = matMulBias
                ? node.Inputs.Count > 3 ? node.Inputs.Select((v, i) => i == 2 ? "" : v) : node.Inputs.Take(2)
                : residual ? TrimEmpty(node.Inputs.Take(FusedActivation.ResidualInput))
                : node.Inputs;
            var core = new OnnxNode(node.OpType, node.Name, coreInputs, node.Outputs, node.Domain)
            {
                Doc = node.Doc,
            };
            foreach (var attr in node.Attributes.Values.Where(a => !FusedActivation.AttributeNames.Contains(a.Name)))
            {
                core.Set(attr);
            }
            // Forward chain: core -> (bias Add) -> (residual Add) -> (activation) -> the fused node's output.
            bool hasActivation = FusedActivation.HasActivation(node);
            string output = node.Outputs[0];
            string afterResidual = hasActivation ? output + "__preact" : output;
            string afterBias = residual ? output + "__conv" : afterResidual;
            string coreOut = matMulBias ? output + "__matmul" : afterBias;
            var tail = new List<OnnxNode>();
            if (matMulBias)
            {
                tail.Add(new OnnxNode("Add", node.Name + "__bias", new[] { coreOut, node.Inputs[2] }, new[] { afterBias }));
            }
            if (residual)
            {
                tail.Add(new OnnxNode("Add", node.Name + "__residual", new[] { afterBias, node.Inputs[FusedActivation.ResidualInput] }, new[] { afterResidual }));
            }
            if (hasActivation)
            {
                string op = node.GetString(FusedActivation.Activation, "");
                var act = new OnnxNode(op, node.Name + "__" + op.ToLowerInvariant(), new[] { afterResidual }, new[] { output });
                if (op == "LeakyRelu") act.Set(OnnxAttribute.OfFloat("alpha", node.GetFloat(FusedActivation.Alpha, 0.01f)));
                if (op == "Clip") AddClipBounds(copy, act, node);
                tail.Add(act);
            }
            core.Outputs[0] = coreOut;
            graph.Nodes.Add(core);
            graph.Nodes.AddRange(tail);
        }
        return copy;
    }

    /// <summary>The inputs without trailing empty names (an absent optional input at the end is left out in ONNX).</summary>
    private static IEnumerable<string> TrimEmpty(IEnumerable<string> inputs)
    {
        var list = inputs.ToList();
        while (list.Count > 0 && list[^1].Length == 0) list.RemoveAt(list.Count - 1);
        return list;
    }

    private static void AddClipBounds(OnnxModel model, OnnxNode clip, OnnxNode fused)
    {
        float min = fused.GetFloat(FusedActivation.Min, float.NegativeInfinity);
        float max = fused.GetFloat(FusedActivation.Max, float.PositiveInfinity);
        if (model.DefaultOpset < 11)
        {
            clip.Set(OnnxAttribute.OfFloat("min", min));
            clip.Set(OnnxAttribute.OfFloat("max", max));
            return;
        }
        string minName = clip.Name + "__min", maxName = clip.Name + "__max";
        model.Graph.Initializers[minName] = OnnxTensor.FromFloats(minName, Array.Empty<int>(), new[] { min });
        model.Graph.Initializers[maxName] = OnnxTensor.FromFloats(maxName, Array.Empty<int>(), new[] { max });
        clip.Inputs.Add(minName);
        clip.Inputs.Add(maxName);
    }
}
