using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Planning;
using ModelGen.Optimizer.Quantization;
using ModelGen.Spec;

namespace ModelGen.Optimizer.Batching;

/// <summary>How a model with a symbolic batch dimension runs a batch.</summary>
internal enum BatchMode
{
    /// <summary>No batched overload: the batch is compiled as 1.</summary>
    None,

    /// <summary>One plan serves every batch size: its batch slots scale (see <c>ExecutionPlan.WithBatch</c>).</summary>
    Polymorphic,

    /// <summary>The graph depends on the batch size, but its inputs and outputs stack per sample: run one at a time.</summary>
    PerSample,
}

/// <summary>The outcome of <see cref="BatchAnalysis.Compare"/>: the mode, and why when it is not polymorphic.</summary>
internal sealed record BatchVerdict(BatchMode Mode, string Reason);

/// <summary>
/// Decides whether one plan serves every batch size. The optimizer compiles the model twice, with
/// the batch at 1 and at 2, through the same lossless passes. When both graphs compute the same
/// thing (same nodes, attributes and constants), the batch only scales shapes, so each value's
/// batch axis is the one axis whose size doubles. When they differ (a <c>Shape → Gather → Reshape</c>
/// chain folded into a constant that holds the batch size, say), the plan is tied to batch 1, and a
/// batch can still run sample by sample if the inputs and outputs stack along their first axis.
/// </summary>
internal static class BatchAnalysis
{
    /// <summary>Compares the lossless graphs compiled at batch 1 and batch 2.</summary>
    public static BatchVerdict Compare(OnnxModel atOne, OnnxModel? atTwo, string? twinError)
    {
        if (atTwo is null) return new BatchVerdict(BatchMode.None, $"the model does not compile with a batch of 2 ({twinError})");
        string? ioProblem = IoStacksPerSample(atOne, atTwo);
        if (ioProblem is not null) return new BatchVerdict(BatchMode.None, ioProblem);
        if (!OnnxWriter.ToBytes(Normalized(atOne)).AsSpan().SequenceEqual(OnnxWriter.ToBytes(Normalized(atTwo))))
        {
            return new BatchVerdict(BatchMode.PerSample,
                "the graph's constants or attributes depend on the batch size (a reshape target computed from the input's shape, say)");
        }
        return new BatchVerdict(BatchMode.Polymorphic, "");
    }

    /// <summary>
    /// Marks the batch axis of every arena slot of <paramref name="compiled"/> (for a polymorphic
    /// verdict) and records <paramref name="maxBatch"/>. <paramref name="final"/> is the graph the
    /// plan was built from (after quantization, when there was any); its shapes at batch 2 are
    /// inferred again, so values that quantization added get their axes too.
    /// </summary>
    public static CompiledModel Apply(CompiledModel compiled, OnnxModel final, BatchVerdict verdict, int maxBatch)
    {
        var spec = compiled.Spec;
        if (verdict.Mode == BatchMode.None) return compiled;
        if (verdict.Mode == BatchMode.PerSample) return compiled with { Spec = spec with { MaxBatch = maxBatch } };
        var atTwo = ShapesAtBatchTwo(final);
        var slots = spec.Slots.Select(slot =>
        {
            if (slot.Storage != SlotStorage.Arena) return slot;
            int[] one = slot.Shape.ToArray();
            int[] two = atTwo.TryGetValue(slot.Name, out var s) ? s
                : throw new InvalidOperationException($"value '{slot.Name}' has no shape at batch 2");
            return slot with { BatchAxis = AxisOf(slot.Name, one, two) };
        }).ToEquatableArray();
        foreach (var r in spec.Inputs.Concat(spec.Outputs))
        {
            if (slots[r.Slot].BatchAxis != 0)
            {
                throw new InvalidOperationException($"graph input or output '{r.Name}' does not stack along axis 0");
            }
        }
        return compiled with { Spec = spec with { Slots = slots, MaxBatch = maxBatch } };
    }

    /// <summary>
    /// The graph to write as the optimized <c>.onnx</c> of a batch-polymorphic plan: a copy whose
    /// inputs, outputs and value_info carry the symbolic batch <paramref name="param"/> on their
    /// batch axes again, so ONNX Runtime runs the file at any batch size, as it did the source.
    /// Any other model is returned as it is.
    /// </summary>
    public static OnnxModel ForOutput(OnnxModel model, ModelSpec spec, string param)
    {
        var axes = spec.Slots.Where(s => s.BatchAxis >= 0).ToDictionary(s => s.Name, s => s.BatchAxis, StringComparer.Ordinal);
        if (axes.Count == 0) return model;
        var copy = GraphCopy.Of(model);
        var graph = copy.Graph;
        TensorInfo Symbolic(TensorInfo info)
        {
            if (info.Shape is null || !axes.TryGetValue(info.Name, out int axis) || axis >= info.Shape.Length) return info;
            var shape = info.Shape.ToArray();
            shape[axis] = Dim.Symbolic(param);
            return new TensorInfo(info.Name, info.Type, shape, info.Doc);
        }
        for (int i = 0; i < graph.Inputs.Count; i++) graph.Inputs[i] = Symbolic(graph.Inputs[i]);
        for (int i = 0; i < graph.Outputs.Count; i++) graph.Outputs[i] = Symbolic(graph.Outputs[i]);
        foreach (var name in graph.ValueInfo.Keys.ToList()) graph.ValueInfo[name] = Symbolic(graph.ValueInfo[name]);
        return copy;
    }

    /// <summary>The axis that doubles from batch 1 to batch 2, or -1 when the shape is the same.</summary>
    private static int AxisOf(string name, int[] one, int[] two)
    {
        if (one.Length != two.Length) throw new InvalidOperationException($"value '{name}' changes rank with the batch size");
        int axis = -1;
        for (int d = 0; d < one.Length; d++)
        {
            if (one[d] == two[d]) continue;
            if (axis >= 0 || two[d] != 2 * one[d])
            {
                throw new InvalidOperationException(
                    $"value '{name}' has shape [{string.Join(",", one)}] at batch 1 but [{string.Join(",", two)}] at batch 2, which is not one axis scaling with the batch");
            }
            axis = d;
        }
        return axis;
    }

    /// <summary>Null when every graph input and output has its batch on axis 0 (size 1 → 2, the rest equal); else why not.</summary>
    private static string? IoStacksPerSample(OnnxModel atOne, OnnxModel atTwo)
    {
        var values = atOne.Graph.Inputs.Select(i => i.Name).Concat(atOne.Graph.Outputs.Select(o => o.Name));
        foreach (string name in values)
        {
            var one = atOne.Graph.Info(name);
            var two = atTwo.Graph.Info(name);
            if (one is not { IsStatic: true } || two is not { IsStatic: true }) return $"'{name}' has no static shape";
            int[] a = one.StaticShape(), b = two.StaticShape();
            bool stacks = a.Length == b.Length && a.Length > 0 && b[0] == 2 * a[0] && a.Skip(1).SequenceEqual(b.Skip(1));
            if (!stacks)
            {
                return $"'{name}' is [{string.Join(",", a)}] at batch 1 and [{string.Join(",", b)}] at batch 2, so it does not stack along its first axis";
            }
        }
        return null;
    }

    /// <summary>A copy for comparison: no value_info, and inputs and outputs reduced to name and type.</summary>
    private static OnnxModel Normalized(OnnxModel model)
    {
        var copy = GraphCopy.Of(model);
        var graph = copy.Graph;
        graph.ValueInfo.Clear();
        Strip(graph.Inputs);
        Strip(graph.Outputs);
        return copy;

        static void Strip(List<TensorInfo> values)
        {
            for (int i = 0; i < values.Count; i++) values[i] = new TensorInfo(values[i].Name, values[i].Type, null, values[i].Doc);
        }
    }

    /// <summary>Every value's static shape with the batch inputs at 2, inferred on a copy (the model is not touched).</summary>
    private static Dictionary<string, int[]> ShapesAtBatchTwo(OnnxModel model)
    {
        var copy = GraphCopy.Of(model);
        var graph = copy.Graph;
        graph.ValueInfo.Clear();
        for (int i = 0; i < graph.Inputs.Count; i++)
        {
            var input = graph.Inputs[i];
            var shape = input.Shape!.ToArray();
            if (shape.Length > 0) shape[0] = Dim.Of(shape[0].Value!.Value * 2);
            graph.Inputs[i] = new TensorInfo(input.Name, input.Type, shape, input.Doc);
        }
        for (int i = 0; i < graph.Outputs.Count; i++) graph.Outputs[i] = new TensorInfo(graph.Outputs[i].Name, graph.Outputs[i].Type, null);
        ShapeInference.Run(copy);
        var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
        foreach (var input in graph.Inputs) shapes[input.Name] = input.StaticShape();
        foreach (var (name, info) in graph.ValueInfo)
        {
            if (info.IsStatic) shapes[name] = info.StaticShape();
        }
        return shapes;
    }
}
