using ModelGen.Onnx.Ir;

namespace ModelGen.Onnx;

/// <summary>Topological ordering of a graph's nodes.</summary>
public static class GraphOrder
{
    /// <summary>
    /// Sorts nodes so that every value is produced before it is consumed. Kahn's algorithm that
    /// always takes the earliest ready node in the current order, so an already-sorted graph keeps
    /// its order exactly and unrelated branches keep their relative order.
    /// </summary>
    /// <exception cref="OnnxException">InvalidGraph: a cycle, a value that nothing produces, or a value produced twice.</exception>
    public static void Sort(OnnxGraph graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        var nodes = graph.Nodes;
        var available = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in graph.Inputs) available.Add(i.Name);
        foreach (var i in graph.InitializerInputs) available.Add(i.Name);
        foreach (var name in graph.Initializers.Keys) available.Add(name);

        // Which node produces each value; a value produced twice (or an input that a node
        // overwrites) is invalid in ONNX's SSA form.
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int n = 0; n < nodes.Count; n++)
        {
            foreach (var output in nodes[n].Outputs)
            {
                if (output.Length == 0) continue;
                if (available.Contains(output) || !producer.TryAdd(output, n))
                {
                    throw new OnnxException(ErrorCodes.InvalidGraph,
                        $"value '{output}' is produced by node {nodes[n]} but is already defined {(available.Contains(output) ? "as a graph input or initializer" : $"by node {nodes[producer[output]]}")}; every value must have one source; re-export the model");
                }
            }
        }

        var pending = new int[nodes.Count];
        var consumers = new List<int>[nodes.Count];
        for (int n = 0; n < nodes.Count; n++)
        {
            var seen = new HashSet<int>();
            foreach (var input in nodes[n].Inputs)
            {
                if (input.Length == 0 || available.Contains(input)) continue;
                if (!producer.TryGetValue(input, out int p))
                {
                    throw new OnnxException(ErrorCodes.InvalidGraph,
                        $"node {nodes[n]} uses value '{input}', which is not a graph input, an initializer or any node's output; re-export the model");
                }
                if (seen.Add(p))
                {
                    pending[n]++;
                    (consumers[p] ??= new List<int>()).Add(n);
                }
            }
        }

        // Ready nodes by original index: a sorted set gives "earliest ready first".
        var ready = new SortedSet<int>();
        for (int n = 0; n < nodes.Count; n++) if (pending[n] == 0) ready.Add(n);
        var order = new List<OnnxNode>(nodes.Count);
        while (ready.Count > 0)
        {
            int n = ready.Min;
            ready.Remove(n);
            order.Add(nodes[n]);
            if (consumers[n] is null) continue;
            foreach (int c in consumers[n]) if (--pending[c] == 0) ready.Add(c);
        }
        if (order.Count != nodes.Count) throw Cycle(nodes, producer, pending);
        nodes.Clear();
        nodes.AddRange(order);
    }

    /// <summary>
    /// Names a node that lies on a cycle: walking back from any unplaced node along unplaced
    /// producers must revisit a node, and the first revisited one is on the cycle.
    /// </summary>
    private static OnnxException Cycle(List<OnnxNode> nodes, Dictionary<string, int> producer, int[] pending)
    {
        int current = Array.FindIndex(pending, p => p > 0);
        var visited = new HashSet<int>();
        string via = "";
        while (visited.Add(current))
        {
            via = nodes[current].Inputs.First(i => producer.TryGetValue(i, out int p) && pending[p] > 0);
            current = producer[via];
        }
        var cycle = new List<string>();
        int walk = current;
        do
        {
            cycle.Add(nodes[walk].ToString());
            string input = nodes[walk].Inputs.First(i => producer.TryGetValue(i, out int p) && pending[p] > 0);
            walk = producer[input];
        }
        while (walk != current && cycle.Count <= nodes.Count);
        return new OnnxException(ErrorCodes.InvalidGraph,
            $"the graph has a cycle through node {nodes[current]} (via value '{via}'; nodes on the cycle: {string.Join(" <- ", cycle)}); ONNX graphs must be acyclic; re-export the model");
    }
}
