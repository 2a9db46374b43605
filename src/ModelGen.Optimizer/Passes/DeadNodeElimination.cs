using ModelGen.Onnx.Ir;

namespace ModelGen.Optimizer.Passes;

/// <summary>
/// Drops nodes none of whose outputs reach a graph output, and initializers nothing reads.
/// Walks backwards from the outputs, so whole dead branches go at once.
/// </summary>
internal sealed class DeadNodeElimination : IGraphPass
{
    public string Name => "dead-node-elimination";

    public int Run(OnnxModel model, PassContext context)
    {
        var graph = model.Graph;
        var needed = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var live = new List<OnnxNode>();
        for (int i = graph.Nodes.Count - 1; i >= 0; i--)
        {
            var node = graph.Nodes[i];
            if (!node.Outputs.Any(needed.Contains)) continue;
            live.Add(node);
            foreach (var input in node.Inputs) if (input.Length > 0) needed.Add(input);
        }
        live.Reverse();
        int removed = graph.Nodes.Count - live.Count;
        graph.Nodes.Clear();
        graph.Nodes.AddRange(live);
        foreach (var name in graph.Initializers.Keys.Where(k => !needed.Contains(k)).ToList())
        {
            graph.Initializers.Remove(name);
        }
        graph.InitializerInputs.RemoveAll(i => !graph.Initializers.ContainsKey(i.Name));
        foreach (var name in graph.ValueInfo.Keys.Where(k => !needed.Contains(k) && !graph.Nodes.Any(n => n.Outputs.Contains(k))).ToList())
        {
            graph.ValueInfo.Remove(name);
        }
        return removed;
    }
}
