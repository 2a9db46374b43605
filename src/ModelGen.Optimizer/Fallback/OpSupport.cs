using ModelGen.Onnx.Ir;
using ModelGen.Runtime.Kernels;

namespace ModelGen.Optimizer.Fallback;

/// <summary>A node ModelGen's kernels cannot run, and why.</summary>
public sealed record UncompiledNode(string OpType, string Domain, string Node, string Reason);

/// <summary>
/// Which nodes of a graph ModelGen compiles. The answer by op type comes from the runtime's kernel
/// table; an op that is listed can still be refused for an attribute when its kernel binds, which
/// the optimizer catches later (see <see cref="ModelOptimizer"/>).
/// </summary>
public static class OpSupport
{
    /// <summary>
    /// Ops that never reach the runtime: constant folding turns them into initializers (every
    /// shape is static once the optimizer has fixed the inputs' symbolic dimensions).
    /// </summary>
    private static readonly HashSet<string> AlwaysFolded = new(StringComparer.Ordinal) { "Constant", "Size" };

    /// <summary>True when the runtime has a kernel for the (standard-domain) op type, or the optimizer always folds it.</summary>
    public static bool IsCompiled(string opType, string domain) =>
        domain is "" or "ai.onnx" && (KernelFactory.SupportedOps.Contains(opType) || AlwaysFolded.Contains(opType));

    /// <summary>Every node whose op ModelGen has no kernel for, in graph order.</summary>
    public static IReadOnlyList<UncompiledNode> Uncompiled(OnnxGraph graph) =>
        graph.Nodes.Where(n => !IsCompiled(n.OpType, n.Domain)).Select(n => new UncompiledNode(
            n.OpType, n.Domain, n.Name,
            n.Domain is "" or "ai.onnx" ? "no ModelGen kernel" : $"operator from domain '{n.Domain}'")).ToList();

    /// <summary>"TopK (node 'topk'), ..." for messages; at most <paramref name="limit"/> nodes, then a count.</summary>
    public static string Describe(IReadOnlyList<UncompiledNode> nodes, int limit = 10)
    {
        var shown = nodes.Take(limit).Select(n => $"{(n.Domain is "" or "ai.onnx" ? "" : n.Domain + ".")}{n.OpType} (node '{n.Node}')");
        string text = string.Join(", ", shown);
        return nodes.Count > limit ? $"{text} and {nodes.Count - limit} more" : text;
    }
}
