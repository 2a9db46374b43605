using ModelGen.Onnx.Ir;

namespace ModelGen.Optimizer.Passes;

/// <summary>What passes share: the model's file (for messages) and the consumers index.</summary>
internal sealed class PassContext
{
    public PassContext(string modelPath, Action<string>? log = null)
    {
        ModelPath = modelPath;
        Log = log ?? (_ => { });
    }

    public string ModelPath { get; }

    /// <summary>Verbose log for the CLI's --verbose.</summary>
    public Action<string> Log { get; }

    /// <summary>For each value name, the nodes that read it, in graph order.</summary>
    public static Dictionary<string, List<OnnxNode>> Consumers(OnnxGraph graph)
    {
        var map = new Dictionary<string, List<OnnxNode>>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            foreach (var input in node.Inputs)
            {
                if (input.Length == 0) continue;
                if (!map.TryGetValue(input, out var list)) map[input] = list = new List<OnnxNode>();
                if (!list.Contains(node)) list.Add(node);
            }
        }
        return map;
    }

    /// <summary>True when the value is a graph output (it must keep its name and stay materialized).</summary>
    public static bool IsGraphOutput(OnnxGraph graph, string name) => graph.Outputs.Any(o => o.Name == name);
}
