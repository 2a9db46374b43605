using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Passes;
using ModelGen.Optimizer.Pruning;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.LowRank;

/// <summary>
/// Replaces a Gemm/MatMul weight <c>W (out × in)</c> by two factors from its truncated SVD,
/// <c>W ≈ (U·√S)·(√S·Vᵀ)</c>: a new node computes <c>z = x·(√S·Vᵀ)ᵀ</c> (r features) and the
/// original node, keeping its name, bias and fused activation, computes <c>y = z·(U·√S)ᵀ + b</c>.
/// The square root of the singular values is split between the factors so both have the same
/// scale. Only applied where it saves work: <c>r·(out + in) &lt; out·in</c>.
/// </summary>
internal static class LowRankFactorizer
{
    /// <summary>The rank kept for a layer: a fraction of the full rank (rounded up), or the energy rule.</summary>
    public static int Rank(TruncatedSvd svd, PruneOptions o)
    {
        int full = svd.S.Length;
        if (o.Energy is { } e) return svd.RankForEnergy(e);
        return Math.Clamp((int)Math.Ceiling(o.RankFraction!.Value * full - 1e-9), 1, full);
    }

    /// <summary>Factorizes <paramref name="layer"/> at the rank <paramref name="o"/> asks for.</summary>
    /// <returns>The rank used, or null with <paramref name="why"/> when factorizing would not save anything.</returns>
    public static int? Apply(OnnxGraph graph, LayerWeights layer, PruneOptions o, out string? why)
    {
        why = null;
        int m = layer.Outputs, n = layer.Inputs;
        var rows = layer.Read(graph);
        var a = new double[m, n];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) a[i, j] = rows[(long)i * n + j];
        var svd = TruncatedSvd.Compute(a);
        int r = Rank(svd, o);
        if ((long)r * (m + n) >= (long)m * n)
        {
            why = $"rank {r} of {svd.S.Length} would not save parameters (r·(m+n) = {(long)r * (m + n)} ≥ m·n = {(long)m * n})";
            return null;
        }
        var node = layer.Node;
        var x = node.Inputs[0];
        var xShape = graph.Info(x)?.StaticShape();
        if (xShape is null)
        {
            why = $"the shape of its input '{x}' is not known";
            return null;
        }
        // First factor: [r, n] rows = √S·Vᵀ; second: [m, r] rows = U·√S.
        var first = new float[(long)r * n];
        var second = new float[(long)m * r];
        for (int k = 0; k < r; k++)
        {
            double root = Math.Sqrt(svd.S[k]);
            for (int j = 0; j < n; j++) first[(long)k * n + j] = (float)(root * svd.V[j, k]);
            for (int i = 0; i < m; i++) second[(long)i * r + k] = (float)(root * svd.U[i, k]);
        }
        string z = BatchNormFolding.Unique(graph, node.Outputs[0] + "__lowrank");
        string w1 = BatchNormFolding.Unique(graph, node.Name + "__lowrank_v");
        var lead = new OnnxNode(node.OpType, node.Name + "__lowrank", [x, w1], [z]);
        if (node.OpType == "Gemm" && layer.ColumnPerOutput == false) lead.Set(OnnxAttribute.OfInt("transB", 1));
        graph.Initializers[w1] = layer.ColumnPerOutput
            ? OnnxTensor.FromFloats(w1, [n, r], Transpose(first, r, n))
            : OnnxTensor.FromFloats(w1, [r, n], first);
        int[] zShape = [.. xShape[..^1], r];
        graph.ValueInfo[z] = TensorInfo.Static(z, ElementType.Float, zShape);
        graph.Nodes.Insert(graph.Nodes.IndexOf(node), lead);
        node.Inputs[0] = z;
        layer.Write(graph, second, m, [r]);
        return r;
    }

    private static float[] Transpose(float[] a, int rows, int cols)
    {
        var t = new float[a.Length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) t[(long)j * rows + i] = a[(long)i * cols + j];
        return t;
    }
}
