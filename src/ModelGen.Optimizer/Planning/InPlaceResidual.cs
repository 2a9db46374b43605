using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Passes;

namespace ModelGen.Optimizer.Planning;

/// <summary>
/// Finds the fused residuals a Conv may overwrite: a residual whose last reader is its Conv gives the Conv's output its
/// bytes, so the step reads each residual element and stores the output element in the same place (ResNet's
/// y = relu(conv(x) + shortcut)). The output then costs no bytes of its own, and the step touches one tensor instead of
/// two: a separate output is another stream of cache-line fills the width of the whole map (for ResNet-50's 1×1
/// 128→512 on 28×28, 1.6 MB). The Conv kernels read an element's residual just before they store that element, and a
/// product split into K slices keeps the residual as its starting partial sum (<c>Epilogue.ResidualInPlace</c>).
/// </summary>
internal static class InPlaceResidual
{
    /// <summary>
    /// The Conv outputs that take their residual's bytes, each with that residual, in node order. A residual qualifies when no later step
    /// reads it, it is not a graph input or output, not a Concat view and not a constant fill, it has the output's byte
    /// length, and the Conv reads it only as the residual.
    /// </summary>
    /// <param name="graph">The graph being lowered.</param>
    /// <param name="lastUse">Each value's last time of use (<see cref="PlanBuilder"/>'s time units: step s runs at s + 1).</param>
    /// <param name="excluded">Values whose bytes are placed otherwise (graph inputs and outputs, views, constant fills).</param>
    /// <param name="bytes">A value's byte length.</param>
    public static List<(string Output, string Residual)> Find(OnnxGraph graph, Func<string, int> lastUse, ISet<string> excluded, Func<string, long> bytes)
    {
        var shares = new List<(string Output, string Residual)>();
        for (int s = 0; s < graph.Nodes.Count; s++)
        {
            var node = graph.Nodes[s];
            if (node.OpType != "Conv" || !FusedActivation.HasResidual(node) || node.Outputs.Count != 1) continue;
            int input = (int)node.GetInt(FusedActivation.Residual, -1);
            if (input < 0 || input >= node.Inputs.Count || node.Inputs[input].Length == 0) continue;
            string residual = node.Inputs[input], output = node.Outputs[0];
            if (excluded.Contains(residual) || excluded.Contains(output) || graph.Initializers.ContainsKey(residual)) continue;
            if (lastUse(residual) != s + 1) continue;
            if (node.Inputs.Where((value, i) => i != input && value == residual).Any()) continue;
            if (bytes(residual) != bytes(output)) continue;
            shares.Add((output, residual));
        }
        return shares;
    }
}
