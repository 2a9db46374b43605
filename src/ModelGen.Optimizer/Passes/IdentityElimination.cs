using ModelGen.Onnx.Ir;

namespace ModelGen.Optimizer.Passes;

/// <summary>
/// Removes Identity and inference-mode Dropout nodes by rewiring their consumers to the input.
/// A node whose output is a graph output stays (the output must keep its name), as does a
/// Dropout whose mask output is used.
/// </summary>
internal sealed class IdentityElimination : IGraphPass
{
    public string Name => "identity-elimination";

    public int Run(OnnxModel model, PassContext context)
    {
        var graph = model.Graph;
        int removed = 0;
        foreach (var node in graph.Nodes.ToList())
        {
            if (!IsIdentityLike(node, graph)) continue;
            string from = node.Outputs[0], to = node.Inputs[0];
            if (PassContext.IsGraphOutput(graph, from)) continue;
            foreach (var consumer in graph.Nodes)
            {
                for (int i = 0; i < consumer.Inputs.Count; i++)
                {
                    if (consumer.Inputs[i] == from) consumer.Inputs[i] = to;
                }
            }
            graph.Nodes.Remove(node);
            removed++;
        }
        return removed;
    }

    private static bool IsIdentityLike(OnnxNode node, OnnxGraph graph)
    {
        if (node.Domain is not ("" or "ai.onnx") || node.Inputs.Count == 0 || node.Inputs[0].Length == 0) return false;
        if (node.OpType == "Identity") return true;
        if (node.OpType != "Dropout") return false;
        // Training mode (opset 12+: a constant true third input) changes values; keep it.
        if (node.InputOrEmpty(2) is { Length: > 0 } training &&
            !(graph.Initializers.TryGetValue(training, out var t) && t.Data.All(b => b == 0)))
        {
            return false;
        }
        bool maskUsed = node.Outputs.Count > 1 && node.Outputs[1].Length > 0 &&
            (graph.Nodes.Any(n => n.Inputs.Contains(node.Outputs[1])) || PassContext.IsGraphOutput(graph, node.Outputs[1]));
        return !maskUsed;
    }
}
