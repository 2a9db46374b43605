using ModelGen.Onnx.Ir;

namespace ModelGen.Conformance.Tests;

/// <summary>
/// Which graph inputs of a conformance case are static parameters rather than data.
/// <para>
/// The ONNX cases feed shape-like operands (Reshape's shape, Slice's starts, Pad's pads, reduction
/// axes, Resize's scales and sizes, …) as graph inputs, but a ModelGen plan is static: such
/// values must be known when the model is compiled, exactly as they are in a real exported model,
/// where they are initializers or Constant nodes. The rule: an input is a parameter when its value
/// reaches, directly or through other nodes, an operand that ONNX defines as a static parameter of
/// its operator (the table below). Those inputs become initializers holding the test data's
/// values; every other input (the data) stays a graph input and is fed at run time.
/// </para>
/// </summary>
internal static class ParameterInputs
{
    /// <summary>Operator → the operand positions that determine shapes or other static parameters.</summary>
    private static readonly Dictionary<string, int[]> Positions = new(StringComparer.Ordinal)
    {
        ["Reshape"] = [1],
        ["Slice"] = [1, 2, 3, 4],
        ["Pad"] = [1, 2, 3],
        ["ReduceMean"] = [1], ["ReduceMax"] = [1], ["ReduceMin"] = [1], ["ReduceSum"] = [1], ["ReduceProd"] = [1],
        ["ReduceL1"] = [1], ["ReduceL2"] = [1], ["ReduceLogSum"] = [1], ["ReduceLogSumExp"] = [1], ["ReduceSumSquare"] = [1],
        ["Squeeze"] = [1],
        ["Unsqueeze"] = [1],
        ["Split"] = [1],
        ["Resize"] = [1, 2, 3],
        ["Upsample"] = [1],
        ["ConstantOfShape"] = [0],
        ["Expand"] = [1],
        ["Tile"] = [1],
        ["TopK"] = [1],
        ["OneHot"] = [1],
        ["Range"] = [0, 1, 2],
        ["Dropout"] = [1, 2],
        ["CenterCropPad"] = [1],
    };

    /// <summary>The names of the graph inputs that must become initializers.</summary>
    public static HashSet<string> Find(OnnxGraph graph)
    {
        var needed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            if (!Positions.TryGetValue(node.OpType, out var positions)) continue;
            foreach (int p in positions)
            {
                if (p < node.Inputs.Count && node.Inputs[p].Length > 0) needed.Add(node.Inputs[p]);
            }
        }
        // A value that must be static needs every value it is computed from to be static too.
        var producers = new Dictionary<string, OnnxNode>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes) foreach (var o in node.Outputs) if (o.Length > 0) producers[o] = node;
        var work = new Stack<string>(needed);
        while (work.Count > 0)
        {
            if (!producers.TryGetValue(work.Pop(), out var producer)) continue;
            foreach (var i in producer.Inputs)
            {
                if (i.Length > 0 && needed.Add(i)) work.Push(i);
            }
        }
        var inputs = graph.Inputs.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        needed.IntersectWith(inputs);
        return needed;
    }
}
