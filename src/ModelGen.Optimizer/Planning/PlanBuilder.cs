using System.Security.Cryptography;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Runtime;
using ModelGen.Spec;

namespace ModelGen.Optimizer.Planning;

/// <summary>The result of lowering a graph: the spec and the weights blob it points into.</summary>
internal sealed record CompiledModel(ModelSpec Spec, byte[] Weights);

/// <summary>
/// Lowers an optimized, shape-inferred graph to an execution plan: one slot per value, one step
/// per node, initializers laid out in a 64-byte-aligned weights blob, and every other tensor
/// placed in the arena by <see cref="MemoryPlanner"/>.
/// </summary>
internal static class PlanBuilder
{
    /// <param name="elideConcats">
    /// Let eligible Concats' inputs be written straight into the output (<see cref="ConcatElision"/>). Only for plans
    /// that keep their batch size: the batch-polymorphic rescaling would move the views.
    /// </param>
    public static CompiledModel Build(OnnxModel model, string name, string sourcePath, string sourceSha256, bool elideConcats = false)
    {
        var graph = model.Graph;
        var (elided, views) = elideConcats ? ConcatElision.Find(graph) : (new HashSet<OnnxNode>(), new Dictionary<string, ConcatElision.View>(StringComparer.Ordinal));
        long opset = model.DefaultOpset;
        var slotIds = new Dictionary<string, int>(StringComparer.Ordinal);
        var slotOrder = new List<string>();

        int SlotOf(string value)
        {
            if (!slotIds.TryGetValue(value, out int id))
            {
                id = slotOrder.Count;
                slotIds[value] = id;
                slotOrder.Add(value);
            }
            return id;
        }

        foreach (var input in graph.Inputs) SlotOf(input.Name);
        foreach (var node in graph.Nodes)
        {
            foreach (var i in node.Inputs) if (i.Length > 0) SlotOf(i);
            foreach (var o in node.Outputs) SlotOf(o);
        }
        foreach (var output in graph.Outputs) SlotOf(output.Name);

        // Lifetimes, in "time" units: 0 = before the first step (inputs are written), step s runs
        // at time s + 1, and time steps + 1 = after the last step (outputs are read).
        int end = graph.Nodes.Count + 1;
        var first = new int[slotOrder.Count];
        var last = new int[slotOrder.Count];
        Array.Fill(first, int.MaxValue);
        foreach (var input in graph.Inputs) first[slotIds[input.Name]] = 0;
        for (int s = 0; s < graph.Nodes.Count; s++)
        {
            var node = graph.Nodes[s];
            foreach (var i in node.Inputs.Where(i => i.Length > 0)) last[slotIds[i]] = Math.Max(last[slotIds[i]], s + 1);
            foreach (var o in node.Outputs)
            {
                int id = slotIds[o];
                first[id] = Math.Min(first[id], s + 1);
                last[id] = Math.Max(last[id], s + 1);
            }
        }
        foreach (var output in graph.Outputs) last[slotIds[output.Name]] = end;

        // A fill of constant shape (one too big to fold into the weights) computes the same bytes on
        // every call: it runs once per executor, so its output must live across calls — from before
        // the first step to after the last — and no other tensor may reuse its bytes.
        var fillOnce = graph.Nodes.Select(n => IsConstantFill(graph, n)).ToArray();
        for (int s = 0; s < graph.Nodes.Count; s++)
        {
            if (!fillOnce[s]) continue;
            foreach (var o in graph.Nodes[s].Outputs)
            {
                first[slotIds[o]] = 0;
                last[slotIds[o]] = end;
            }
        }

        // A view lives in its Concat output's bytes: the output must be live from the first view's producer on,
        // and as long as any view is read.
        foreach (var (input, view) in views)
        {
            int i = slotIds[input], o = slotIds[view.Output];
            first[o] = Math.Min(first[o], first[i]);
            last[o] = Math.Max(last[o], last[i]);
        }

        // Weights blob: initializers in slot order, each on a 64-byte boundary.
        var weights = new MemoryStream();
        var weightOffsets = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var value in slotOrder)
        {
            if (!graph.Initializers.TryGetValue(value, out var tensor)) continue;
            long offset = MemoryPlanner.AlignUp(weights.Length);
            weights.SetLength(offset);
            weights.Position = offset;
            weights.Write(tensor.Data);
            weightOffsets[value] = offset;
        }
        weights.SetLength(MemoryPlanner.AlignUp(weights.Length));
        var weightBytes = weights.ToArray();

        var infos = slotOrder.ToDictionary(v => v, v => InfoOf(graph, v, sourcePath), StringComparer.Ordinal);

        // A fused residual that its Conv reads last lends the Conv's output its bytes (InPlaceResidual): the two are placed
        // as one tensor, live from the residual's first step to the output's last. Node order makes chains (a ResNet stage's
        // blocks each add the previous block's output) resolve front to back.
        var placedElsewhere = new HashSet<string>(StringComparer.Ordinal);
        foreach (var input in graph.Inputs) placedElsewhere.Add(input.Name);
        foreach (var output in graph.Outputs) placedElsewhere.Add(output.Name);
        foreach (var (input, view) in views)
        {
            placedElsewhere.Add(input);
            placedElsewhere.Add(view.Output);
        }
        for (int s = 0; s < graph.Nodes.Count; s++) if (fillOnce[s]) placedElsewhere.UnionWith(graph.Nodes[s].Outputs);
        var sharesWith = InPlaceResidual.Find(graph, v => last[slotIds[v]], placedElsewhere, v => ByteLength(infos[v]));
        var owner = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (output, residual) in sharesWith)
        {
            string root = owner.TryGetValue(residual, out var r) ? r : residual;
            owner[output] = root;
            last[slotIds[root]] = Math.Max(last[slotIds[root]], last[slotIds[output]]);
        }

        // Arena: everything else.
        var arenaValues = slotOrder.Where(v => !weightOffsets.ContainsKey(v) && !views.ContainsKey(v) && !owner.ContainsKey(v)).ToList();
        var requests = arenaValues.Select(v =>
        {
            int id = slotIds[v];
            int firstUse = first[id] == int.MaxValue ? last[id] : first[id];
            return new MemoryPlanner.Request(ByteLength(infos[v]), firstUse, Math.Max(firstUse, last[id]));
        }).ToList();
        var (arenaOffsets, arenaBytes) = MemoryPlanner.Plan(requests);
        var arenaOffset = new Dictionary<string, long>(StringComparer.Ordinal);
        for (int i = 0; i < arenaValues.Count; i++) arenaOffset[arenaValues[i]] = arenaOffsets[i];
        foreach (var (input, view) in views) arenaOffset[input] = arenaOffset[view.Output] + view.ByteOffset;
        foreach (var (output, root) in owner) arenaOffset[output] = arenaOffset[root];

        var slots = slotOrder.Select((v, id) =>
        {
            var info = infos[v];
            bool isWeight = weightOffsets.TryGetValue(v, out long wOffset);
            return new SlotSpec(
                id, v, info.Type.ToOnnxName(), info.StaticShape().ToEquatableArray(),
                isWeight ? ModelGen.Spec.SlotStorage.Weights : ModelGen.Spec.SlotStorage.Arena,
                isWeight ? wOffset : arenaOffset[v]);
        }).ToList();

        var steps = graph.Nodes.Select((node, s) => (node, s)).Where(x => !elided.Contains(x.node)).Select(x => new StepSpec(
            x.node.OpType,
            x.node.Name,
            x.node.Inputs.Select(i => i.Length == 0 ? -1 : slotIds[i]).ToEquatableArray(),
            x.node.Outputs.Select(o => slotIds[o]).ToEquatableArray(),
            StepAttributes(x.node, opset, sourcePath, fillOnce[x.s]).ToEquatableArray())).ToList();

        string doc = string.Join("\n", new[] { model.Doc, graph.Doc }.Where(d => d.Length > 0));
        var spec = new ModelSpec(
            name,
            Path.GetFileName(sourcePath),
            sourceSha256,
            Convert.ToHexString(SHA256.HashData(weightBytes)).ToLowerInvariant(),
            weightBytes.LongLength,
            arenaBytes,
            model.IrVersion,
            opset,
            model.ProducerName,
            model.ProducerVersion,
            doc,
            slots.ToEquatableArray(),
            graph.Inputs.Select(i => new TensorRefSpec(i.Name, slotIds[i.Name], i.Doc)).ToEquatableArray(),
            graph.Outputs.Select(o => new TensorRefSpec(o.Name, slotIds[o.Name], o.Doc)).ToEquatableArray(),
            steps.ToEquatableArray());
        return new CompiledModel(spec, weightBytes);
    }

    /// <summary>
    /// Step attribute telling the ConstantOfShape kernel that its output is constant and kept
    /// whole-plan alive, so it fills on the first run only.
    /// </summary>
    public const string OnceAttribute = "once";

    /// <summary>A ConstantOfShape whose shape input is a constant: its output never changes between calls.</summary>
    private static bool IsConstantFill(OnnxGraph graph, OnnxNode node) =>
        node.OpType == "ConstantOfShape"
        && (node.Domain is "" or "ai.onnx")
        && node.Inputs.Count > 0
        && node.Inputs[0].Length > 0
        && graph.Initializers.ContainsKey(node.Inputs[0]);

    private static List<AttributeSpec> StepAttributes(OnnxNode node, long opset, string sourcePath, bool fillOnce)
    {
        var attributes = AttributeLowering.Lower(node, opset, sourcePath);
        if (fillOnce) attributes.Add(AttributeSpec.OfInt(OnceAttribute, 1));
        return attributes;
    }

    private static TensorInfo InfoOf(OnnxGraph graph, string value, string modelPath)
    {
        var info = graph.Info(value)
            ?? throw new OnnxException(ErrorCodes.InvalidGraph, $"value '{value}' has no known type or shape.", modelPath);
        if (!info.IsStatic)
        {
            throw new OnnxException(
                ErrorCodes.DynamicShape,
                $"value '{value}' has shape {info} that is not static; ModelGen compiles static shapes. Give the model fixed input shapes.",
                modelPath);
        }
        return info;
    }

    private static long ByteLength(TensorInfo info) =>
        info.StaticShape().Aggregate(1L, (n, d) => n * d) * info.Type.SizeOf();
}
