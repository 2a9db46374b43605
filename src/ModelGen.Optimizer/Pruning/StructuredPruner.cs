using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Passes;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Pruning;

/// <summary>
/// Removes whole output units (Gemm/MatMul columns, Conv filters) for real: the layer's weight
/// rows and bias entries go, and the cut is carried forward through every consumer until it
/// reaches a layer that can absorb it — elementwise activations, pooling, BatchNormalization,
/// Add/Mul with a constant or with a branch cut alike, Concat, Flatten and a flattening Reshape —
/// where the matching input channels (Conv) or rows (Gemm/MatMul) are removed. Every value on the
/// way gets its new, smaller shape. Where the cut cannot be carried (a residual Add whose other
/// branch is not cut alike, a graph output, an op that mixes channels), nothing is changed and the
/// reason is returned, so the layer stays whole.
/// </summary>
internal static class StructuredPruner
{
    private static readonly HashSet<string> s_unary = new(StringComparer.Ordinal)
    {
        "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Elu", "Selu", "HardSigmoid", "HardSwish", "Softplus", "Identity",
        "Dropout", "Exp", "Neg", "Abs", "Erf", "Gelu", "Sqrt", "Reciprocal", "Round",
    };

    private static readonly HashSet<string> s_pools = new(StringComparer.Ordinal) { "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "LpPool" };

    private static readonly HashSet<string> s_binary = new(StringComparer.Ordinal) { "Add", "Sub", "Mul", "Div", "Max", "Min", "Sum" };

    /// <summary>A value whose <see cref="Axis"/> keeps only the indices <see cref="Keep"/> (of <see cref="Full"/>).</summary>
    private sealed record Cut(int Axis, int[] Keep, int[] OldShape)
    {
        public int Full => OldShape[Axis];

        public int[] NewShape
        {
            get
            {
                var s = (int[])OldShape.Clone();
                s[Axis] = Keep.Length;
                return s;
            }
        }

        public bool SameAs(Cut other) => Axis == other.Axis && Keep.SequenceEqual(other.Keep) && OldShape.SequenceEqual(other.OldShape);
    }

    /// <summary>Keeps only the output units <paramref name="keep"/> (ascending) of <paramref name="layer"/>.</summary>
    /// <param name="absorbed">Receives the names of the consumer layers whose inputs were cut (they change, and recovery revisits them).</param>
    /// <returns>Null when done; otherwise why the cut cannot be carried through (the graph is then unchanged).</returns>
    public static string? Remove(OnnxGraph graph, LayerWeights layer, int[] keep, List<string> absorbed)
    {
        string output = layer.Node.Outputs[0];
        var info = graph.Info(output);
        if (info is null || !info.IsStatic) return $"the shape of its output '{output}' is not known";
        var shape = info.StaticShape();
        var cuts = new Dictionary<string, Cut>(StringComparer.Ordinal) { [output] = new Cut(layer.OutputAxis(shape.Length), keep, shape) };
        if (cuts[output].Full != layer.Outputs) return $"its output '{output}' does not have {layer.Outputs} units on axis {cuts[output].Axis}";
        if (layer.ReadBias(graph) is null) return "its bias is not one constant per unit";
        var edits = new List<Action>();
        var reached = new List<string>();
        int start = graph.Nodes.IndexOf(layer.Node);
        for (int s = start + 1; s < graph.Nodes.Count; s++)
        {
            var node = graph.Nodes[s];
            var cutInputs = node.Inputs.Where(cuts.ContainsKey).Distinct().ToList();
            if (cutInputs.Count == 0) continue;
            string? why = Carry(graph, node, cuts, cutInputs, edits, reached);
            if (why is not null) return why;
        }
        foreach (var value in cuts.Keys)
        {
            if (PassContext.IsGraphOutput(graph, value)) return $"the cut reaches the graph output '{value}', whose shape must not change";
        }
        // Everything can be carried: apply the layer's own cut, then the consumers', then the shapes.
        var rows = layer.Read(graph);
        var bias = layer.ReadBias(graph);
        var kept = new float[(long)keep.Length * layer.Inputs];
        for (int k = 0; k < keep.Length; k++) Array.Copy(rows, (long)keep[k] * layer.Inputs, kept, (long)k * layer.Inputs, layer.Inputs);
        bool hadBias = layer.Node.InputOrEmpty(2).Length > 0;
        var written = layer.Write(graph, kept, keep.Length, layer.InnerShape);
        if (hadBias) written.WriteBias(graph, keep.Select(k => bias![k]).ToArray());
        foreach (var edit in edits) edit();
        foreach (var (value, cut) in cuts)
        {
            var type = graph.Info(value)?.Type ?? ElementType.Float;
            graph.ValueInfo[value] = TensorInfo.Static(value, type, cut.NewShape);
        }
        absorbed.AddRange(reached);
        return null;
    }

    /// <summary>Plans how <paramref name="node"/> carries (or absorbs) the cuts of its inputs; null when it can.</summary>
    private static string? Carry(OnnxGraph graph, OnnxNode node, Dictionary<string, Cut> cuts, List<string> cutInputs, List<Action> edits, List<string> absorbed)
    {
        var cut = cuts[cutInputs[0]];
        string op = node.OpType;
        string what = $"{op} '{node.Name}'";
        if (node.Outputs.Count(o => o.Length > 0) != 1 && op != "Dropout") return $"{what} has more than one output";
        string output = node.Outputs[0];
        int[]? outShape = graph.Info(output) is { IsStatic: true } oi ? oi.StaticShape() : null;
        if (outShape is null) return $"the shape of '{output}' is not known";

        if (op is "Conv" or "Gemm" or "MatMul" && node.Inputs[0] == cutInputs[0] && cutInputs.Count == 1)
        {
            var consumer = LayerWeights.Of(graph, node, out var why);
            if (consumer is null) return $"{what} reads the cut values but cannot drop its inputs ({why})";
            bool channelAxis = op == "Conv" ? cut.Axis == 1 : cut.Axis == cut.OldShape.Length - 1;
            if (!channelAxis || consumer.Channels != cut.Full) return $"{what} does not read the cut axis as its input features";
            edits.Add(() => DropInputs(graph, consumer, cut.Keep));
            absorbed.Add(node.Name);
            return null;
        }
        if (s_unary.Contains(op) && node.Inputs[0] == cutInputs[0] && cutInputs.Count == 1)
        {
            if (node.Inputs.Skip(1).Any(i => i.Length > 0 && !graph.Initializers.ContainsKey(i))) return $"{what} has a non-constant parameter";
            cuts[output] = cut with { OldShape = outShape };
            return null;
        }
        if (s_pools.Contains(op) && cut.Axis == 1)
        {
            cuts[output] = cut with { OldShape = outShape };
            return null;
        }
        if (op == "BatchNormalization" && cut.Axis == 1 && node.Inputs[0] == cutInputs[0] && cutInputs.Count == 1)
        {
            for (int i = 1; i < Math.Min(5, node.Inputs.Count); i++)
            {
                if (!graph.Initializers.TryGetValue(node.Inputs[i], out var p) || p.ElementCount != cut.Full) return $"{what} has a parameter that is not a per-channel constant";
                int index = i;
                edits.Add(() => node.Inputs[index] = Slice(graph, graph.Initializers[node.Inputs[index]], 0, cut.Keep, node.Name));
            }
            cuts[output] = cut with { OldShape = outShape };
            return null;
        }
        if (s_binary.Contains(op))
        {
            if (!outShape.SequenceEqual(cut.OldShape)) return $"{what} broadcasts the cut values to another shape";
            foreach (var input in node.Inputs.Where(i => i.Length > 0))
            {
                if (cuts.TryGetValue(input, out var other))
                {
                    if (!other.SameAs(cut)) return $"the inputs of {what} are cut differently";
                    continue;
                }
                if (!graph.Initializers.TryGetValue(input, out var constant))
                {
                    return $"the other input '{input}' of {what} is not pruned alike (a residual connection); its branch would have to lose the same units";
                }
                int d = cut.Axis - (outShape.Length - constant.Shape.Length);
                if (d < 0 || constant.Shape[d] == 1) continue;
                if (constant.Shape[d] != cut.Full) return $"the constant '{input}' of {what} does not broadcast along the cut axis";
                int index = node.Inputs.IndexOf(input);
                edits.Add(() => node.Inputs[index] = Slice(graph, constant, d, cut.Keep, node.Name));
            }
            cuts[output] = cut with { OldShape = outShape };
            return null;
        }
        if (op == "Concat")
        {
            long axisAttr = node.GetInt("axis", 1);
            int axis = (int)(axisAttr < 0 ? axisAttr + outShape.Length : axisAttr);
            if (axis != cut.Axis) return $"{what} concatenates along another axis than the cut";
            var keep = new List<int>();
            int offset = 0;
            foreach (var input in node.Inputs)
            {
                var s = graph.Info(input)?.StaticShape();
                if (s is null) return $"the shape of '{input}' is not known";
                if (cuts.TryGetValue(input, out var c))
                {
                    if (c.Axis != axis) return $"the inputs of {what} are cut on different axes";
                    keep.AddRange(c.Keep.Select(k => offset + k));
                }
                else
                {
                    keep.AddRange(Enumerable.Range(offset, s[axis]));
                }
                offset += s[axis];
            }
            cuts[output] = new Cut(axis, keep.ToArray(), outShape);
            return null;
        }
        if (op is "Flatten" or "Reshape" && node.Inputs[0] == cutInputs[0])
        {
            int rank = cut.OldShape.Length;
            int a;
            if (op == "Flatten")
            {
                long f = node.GetInt("axis", 1);
                a = (int)(f < 0 ? f + rank : f);
            }
            else
            {
                // A Reshape that flattens [N, ...] to [N, rest] is a Flatten at axis 1.
                if (outShape.Length != 2 || outShape[0] != cut.OldShape[0] || !graph.Initializers.ContainsKey(node.InputOrEmpty(1)))
                {
                    return $"{what} is not a flatten to [{cut.OldShape[0]}, …] by a constant shape";
                }
                a = 1;
            }
            if (cut.Axis < a) return $"{what} flattens the cut axis into the outer dimension";
            int block = cut.OldShape.Skip(cut.Axis + 1).Aggregate(1, (x, y) => x * y);
            int outer = cut.OldShape.Skip(a).Take(cut.Axis - a).Aggregate(1, (x, y) => x * y);
            var keep = new List<int>(outer * cut.Keep.Length * block);
            for (int o = 0; o < outer; o++)
            {
                foreach (int c in cut.Keep)
                {
                    for (int r = 0; r < block; r++) keep.Add((o * cut.Full + c) * block + r);
                }
            }
            var next = new Cut(1, keep.ToArray(), outShape);
            cuts[output] = next;
            if (op == "Reshape")
            {
                edits.Add(() =>
                {
                    string name = BatchNormFolding.Unique(graph, node.Name + "__pruned_shape");
                    graph.Initializers[name] = OnnxTensor.FromInt64s(name, [2], new long[] { outShape[0], next.Keep.Length });
                    node.Inputs[1] = name;
                });
            }
            return null;
        }
        return $"{what} cannot carry the cut (it mixes or reshapes the cut axis)";
    }

    /// <summary>Removes the input channels (or rows) of a consumer layer that are not in <paramref name="keep"/>.</summary>
    private static void DropInputs(OnnxGraph graph, LayerWeights consumer, int[] keep)
    {
        var rows = consumer.Read(graph);
        int taps = consumer.Taps, inputs = consumer.Inputs, newInputs = keep.Length * taps;
        var data = new float[(long)consumer.Outputs * newInputs];
        for (int o = 0; o < consumer.Outputs; o++)
        {
            for (int k = 0; k < keep.Length; k++)
            {
                Array.Copy(rows, (long)o * inputs + (long)keep[k] * taps, data, (long)o * newInputs + (long)k * taps, taps);
            }
        }
        int[] inner = [keep.Length, .. consumer.InnerShape[1..]];
        consumer.Write(graph, data, consumer.Outputs, inner);
    }

    /// <summary>A new initializer: <paramref name="t"/> with only the indices <paramref name="keep"/> of axis <paramref name="axis"/>.</summary>
    private static string Slice(OnnxGraph graph, OnnxTensor t, int axis, int[] keep, string owner)
    {
        int elementSize = t.Type.SizeOf();
        int outer = t.Shape.Take(axis).Aggregate(1, (a, b) => a * b);
        int inner = t.Shape.Skip(axis + 1).Aggregate(1, (a, b) => a * b) * elementSize;
        int full = t.Shape[axis];
        var data = new byte[(long)outer * keep.Length * inner];
        for (int o = 0; o < outer; o++)
        {
            for (int k = 0; k < keep.Length; k++)
            {
                Array.Copy(t.Data, ((long)o * full + keep[k]) * inner, data, ((long)o * keep.Length + k) * inner, inner);
            }
        }
        var shape = (int[])t.Shape.Clone();
        shape[axis] = keep.Length;
        string name = BatchNormFolding.Unique(graph, $"{owner}__{t.Name}__pruned");
        graph.Initializers[name] = new OnnxTensor(name, t.Type, shape, data);
        return name;
    }
}
