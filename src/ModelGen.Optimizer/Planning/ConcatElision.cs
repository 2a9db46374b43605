using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Planning;

/// <summary>
/// Concat without a copy: when a Concat's output is one contiguous block per input (every dimension before
/// the axis is 1, as in a batch-1 NCHW channel concat: SqueezeNet's fire modules, Inception, DenseNet), each
/// input's producer writes straight into its part of the output and the Concat step disappears. The planner
/// gives each such input a slot inside the output's bytes (<see cref="View"/>) instead of memory of its own.
/// </summary>
/// <remarks>
/// Only where nothing else can tell: each input is computed by an earlier step of the plan (not a graph
/// input, weight or graph output, nor itself a view), is read by this Concat alone, appears in it once, and
/// starts on a 64-byte boundary of the output (kernels assume cache-line-aligned slots). Not for plans that
/// are rescaled to other batch sizes (<c>ExecutionPlan.WithBatch</c> scales every offset, which would move
/// a view away from its part).
/// </remarks>
internal static class ConcatElision
{
    /// <summary>An input of an elided Concat: it lives in <see cref="Output"/>'s bytes, <see cref="ByteOffset"/> in.</summary>
    public readonly record struct View(string Output, long ByteOffset);

    /// <summary>The Concat nodes that need no step, and the views their inputs become.</summary>
    public static (HashSet<OnnxNode> Elided, Dictionary<string, View> Views) Find(OnnxGraph graph)
    {
        var elided = new HashSet<OnnxNode>();
        var views = new Dictionary<string, View>(StringComparer.Ordinal);
        var graphValues = new HashSet<string>(graph.Inputs.Select(i => i.Name).Concat(graph.Outputs.Select(o => o.Name)), StringComparer.Ordinal);
        var producers = new Dictionary<string, int>(StringComparer.Ordinal);
        var readers = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int s = 0; s < graph.Nodes.Count; s++)
        {
            foreach (var o in graph.Nodes[s].Outputs) producers[o] = s;
            foreach (var i in graph.Nodes[s].Inputs.Where(i => i.Length > 0)) readers[i] = readers.GetValueOrDefault(i) + 1;
        }
        for (int s = 0; s < graph.Nodes.Count; s++)
        {
            var node = graph.Nodes[s];
            if (node.OpType != "Concat" || node.Domain is not ("" or "ai.onnx") || node.Outputs.Count != 1 || node.Inputs.Count < 2) continue;
            var outInfo = graph.Info(node.Outputs[0]);
            if (outInfo is null || !outInfo.IsStatic) continue;
            int[] shape = outInfo.StaticShape();
            int rank = shape.Length;
            long axis = node.GetInt("axis", 0);
            if (axis < 0) axis += rank;
            if (axis < 0 || axis >= rank) continue;
            long outer = 1;
            for (int d = 0; d < axis; d++) outer *= shape[d];
            if (outer != 1) continue;

            var parts = new List<(string Input, long Offset)>();
            long offset = 0;
            bool ok = true;
            foreach (var input in node.Inputs)
            {
                var info = input.Length == 0 ? null : graph.Info(input);
                ok = info is not null && info.IsStatic && info.Type == outInfo.Type
                    && !graph.Initializers.ContainsKey(input) && !graphValues.Contains(input) && !views.ContainsKey(input)
                    && producers.TryGetValue(input, out int producer) && producer < s && !elided.Contains(graph.Nodes[producer])
                    && readers.GetValueOrDefault(input) == 1 && offset % MemoryPlanner.Alignment == 0;
                if (!ok) break;
                parts.Add((input, offset));
                offset += info!.StaticShape().Aggregate(1L, (n, d) => n * d) * info.Type.SizeOf();
            }
            if (!ok) continue;
            elided.Add(node);
            foreach (var (input, at) in parts) views[input] = new View(node.Outputs[0], at);
        }
        return (elided, views);
    }
}
