using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Passes;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Pruning;

/// <summary>
/// A Conv, Gemm or MatMul whose weight is a float initializer, seen as one matrix with a row per
/// output unit (Gemm/MatMul column, Conv filter) and a column per input feature (Gemm/MatMul row,
/// Conv input channel × kernel tap). Every pruning, factorization and recovery step reads and
/// writes weights through this view, so none of them needs to know the op's storage layout.
/// </summary>
internal sealed class LayerWeights
{
    private LayerWeights(OnnxNode node, int outputs, int inputs, int[] innerShape, bool columnPerOutput)
    {
        Node = node;
        Outputs = outputs;
        Inputs = inputs;
        InnerShape = innerShape;
        ColumnPerOutput = columnPerOutput;
    }

    /// <summary>The node (Conv, Gemm or MatMul).</summary>
    public OnnxNode Node { get; }

    /// <summary>Output units: rows of the matrix.</summary>
    public int Outputs { get; }

    /// <summary>Input features: columns of the matrix.</summary>
    public int Inputs { get; }

    /// <summary>The weight's shape after its output axis: [K] for a matrix, [C, kh, kw] for a Conv.</summary>
    public int[] InnerShape { get; }

    /// <summary>Input channels (Conv) or features (Gemm/MatMul): the first inner dimension.</summary>
    public int Channels => InnerShape[0];

    /// <summary>Kernel taps per input channel (1 for Gemm/MatMul).</summary>
    public int Taps => Inputs / Channels;

    /// <summary>True when the stored weight is [K, N] (MatMul, Gemm without transB): an output unit is a column.</summary>
    public bool ColumnPerOutput { get; }

    public string Op => Node.OpType;

    /// <summary>The view of <paramref name="node"/>, or null with the reason it has none.</summary>
    public static LayerWeights? Of(OnnxGraph graph, OnnxNode node, out string? why)
    {
        why = null;
        if (node.OpType is not ("Conv" or "Gemm" or "MatMul") || node.Inputs.Count < 2)
        {
            why = "not a Conv, Gemm or MatMul";
            return null;
        }
        if (!graph.Initializers.TryGetValue(node.Inputs[1], out var w) || w.Type != ElementType.Float)
        {
            why = "its weight is not a float initializer";
            return null;
        }
        if (node.InputOrEmpty(3).Length > 0)
        {
            why = "its weight is already quantized";
            return null;
        }
        switch (node.OpType)
        {
            case "Conv":
                if (w.Shape.Length < 3 || node.GetInt("group", 1) != 1)
                {
                    why = "a grouped or depthwise Conv";
                    return null;
                }
                return new LayerWeights(node, w.Shape[0], (int)(w.ElementCount / w.Shape[0]), w.Shape[1..], false);
            case "Gemm":
                if (w.Shape.Length != 2 || node.GetInt("transA", 0) != 0)
                {
                    why = "a Gemm with transA or a weight that is not 2-D";
                    return null;
                }
                bool transB = node.GetInt("transB", 0) != 0;
                return transB ? new LayerWeights(node, w.Shape[0], w.Shape[1], [w.Shape[1]], false)
                    : new LayerWeights(node, w.Shape[1], w.Shape[0], [w.Shape[0]], true);
            default:
                if (w.Shape.Length != 2)
                {
                    why = "a MatMul whose weight is not 2-D";
                    return null;
                }
                return new LayerWeights(node, w.Shape[1], w.Shape[0], [w.Shape[0]], true);
        }
    }

    /// <summary>The view of <paramref name="node"/>; throws when it has none.</summary>
    public static LayerWeights Require(OnnxGraph graph, OnnxNode node) =>
        Of(graph, node, out var why) ?? throw new InvalidOperationException($"{node}: {why}");

    /// <summary>The effective weights (Gemm's alpha applied) as a row-major [Outputs, Inputs] matrix.</summary>
    public float[] Read(OnnxGraph graph)
    {
        var w = graph.Initializers[Node.Inputs[1]].AsSpan<float>();
        var rows = new float[(long)Outputs * Inputs];
        float alpha = Op == "Gemm" ? Node.GetFloat("alpha", 1f) : 1f;
        for (int o = 0; o < Outputs; o++)
        {
            for (int i = 0; i < Inputs; i++)
            {
                rows[(long)o * Inputs + i] = alpha * (ColumnPerOutput ? w[i * Outputs + o] : w[o * Inputs + i]);
            }
        }
        return rows;
    }

    /// <summary>The effective bias per output unit (Gemm's beta applied; zeros when absent), or null when it is not a per-unit constant.</summary>
    public float[]? ReadBias(OnnxGraph graph)
    {
        string name = Node.InputOrEmpty(2);
        if (name.Length == 0) return new float[Outputs];
        if (!graph.Initializers.TryGetValue(name, out var b) || b.Type != ElementType.Float || b.ElementCount != Outputs) return null;
        if (Op == "Gemm" && b.Shape.Length == 2 && b.Shape[0] != 1) return null;
        float beta = Op == "Gemm" ? Node.GetFloat("beta", 1f) : 1f;
        return b.ToFloatArray().Select(v => beta * v).ToArray();
    }

    /// <summary>
    /// Stores <paramref name="rows"/> ([outputs, product of <paramref name="innerShape"/>], effective
    /// values) as a new initializer in the op's own layout and points the node at it; Gemm's alpha
    /// becomes 1. The old initializer is left for any other reader (and dropped later if unused).
    /// </summary>
    public LayerWeights Write(OnnxGraph graph, float[] rows, int outputs, int[] innerShape)
    {
        int inputs = innerShape.Aggregate(1, (a, b) => a * b);
        var data = new float[(long)outputs * inputs];
        for (int o = 0; o < outputs; o++)
        {
            for (int i = 0; i < inputs; i++)
            {
                data[ColumnPerOutput ? (long)i * outputs + o : (long)o * inputs + i] = rows[(long)o * inputs + i];
            }
        }
        int[] shape = Op == "Conv" ? [outputs, .. innerShape] : ColumnPerOutput ? [inputs, outputs] : [outputs, inputs];
        string name = BatchNormFolding.Unique(graph, Node.Name + "__pruned_w");
        graph.Initializers[name] = OnnxTensor.FromFloats(name, shape, data);
        Node.Inputs[1] = name;
        if (Op == "Gemm") Node.Set(OnnxAttribute.OfFloat("alpha", 1f));
        return new LayerWeights(Node, outputs, inputs, innerShape, ColumnPerOutput);
    }

    /// <summary>Stores an effective bias (one value per output unit) as a new initializer; Gemm's beta becomes 1.</summary>
    public void WriteBias(OnnxGraph graph, float[] bias)
    {
        string name = BatchNormFolding.Unique(graph, Node.Name + "__pruned_b");
        graph.Initializers[name] = OnnxTensor.FromFloats(name, [bias.Length], bias);
        while (Node.Inputs.Count < 3) Node.Inputs.Add("");
        Node.Inputs[2] = name;
        if (Op == "Gemm") Node.Set(OnnxAttribute.OfFloat("beta", 1f));
    }

    /// <summary>The axis of the node's output along which output units run (1 for Conv, the last for Gemm/MatMul).</summary>
    public int OutputAxis(int outputRank) => Op == "Conv" ? 1 : outputRank - 1;

    /// <summary>Multiply-accumulates per inference: weights × output positions (spatial size for Conv, rows for Gemm/MatMul).</summary>
    public long Flops(OnnxGraph graph, long weights)
    {
        var shape = graph.Info(Node.Outputs[0])?.Shape;
        long positions = 1;
        if (shape is not null && shape.All(d => d.IsKnown))
        {
            var dims = shape.Select(d => d.Value!.Value).ToArray();
            int axis = OutputAxis(dims.Length);
            for (int d = 0; d < dims.Length; d++) if (d != axis) positions *= dims[d];
        }
        return 2 * weights * positions;
    }

    /// <summary>Removes every initializer no node reads and no output names, so files hold only what is used.</summary>
    public static void DropUnusedInitializers(OnnxGraph graph)
    {
        var used = graph.Nodes.SelectMany(n => n.Inputs).Concat(graph.Outputs.Select(o => o.Name)).ToHashSet(StringComparer.Ordinal);
        foreach (var name in graph.Initializers.Keys.Where(k => !used.Contains(k)).ToList()) graph.Initializers.Remove(name);
        graph.InitializerInputs.RemoveAll(i => !used.Contains(i.Name));
    }
}
