using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Planning;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Passes;

/// <summary>
/// Replaces every node whose inputs are all constants by the constant it computes, evaluated
/// with the runtime's own kernels (the same ones the predictor runs). Constant nodes become
/// initializers, and Shape of a statically shaped value becomes a constant, so that
/// shape-computing subgraphs (common in PyTorch exports) disappear from the plan.
/// </summary>
internal sealed class ConstantFolding : IGraphPass
{
    /// <summary>
    /// Folded results larger than this stay computed at run time: folding them would bloat the
    /// weights file by more than it saves (e.g. a huge ConstantOfShape fill: VGG-19's fc6 weights
    /// are 102M floats, a ~400 MB resource). Such a fill still runs only once per executor: the
    /// plan builder marks it <c>once</c> and keeps its output alive across calls.
    /// </summary>
    public const long MaxFoldedElements = 16 * 1024 * 1024;

    public string Name => "constant-folding";

    public int Run(OnnxModel model, PassContext context)
    {
        var graph = model.Graph;
        int folded = 0;
        var kept = new List<OnnxNode>(graph.Nodes.Count);
        foreach (var node in graph.Nodes)
        {
            var results = TryFold(model, node, context);
            if (results is null)
            {
                kept.Add(node);
                continue;
            }
            foreach (var t in results) graph.Initializers[t.Name] = t;
            folded++;
            context.Log($"folded {node}");
        }
        graph.Nodes.Clear();
        graph.Nodes.AddRange(kept);
        return folded;
    }

    private static OnnxTensor[]? TryFold(OnnxModel model, OnnxNode node, PassContext context)
    {
        var graph = model.Graph;
        if (node.Domain is not ("" or "ai.onnx")) return null;
        if (node.OpType == "Constant") return new[] { ConstantValue(node, context.ModelPath) };
        if (node.OpType == "Shape" && FoldShape(graph, node) is { } shape) return new[] { shape };
        if (node.OpType == "Size" && FoldSize(graph, node) is { } size) return new[] { size };

        var inputs = node.Inputs.Where(i => i.Length > 0).ToList();
        if (inputs.Count == 0 || !inputs.All(graph.Initializers.ContainsKey)) return null;
        if (node.Attributes.Values.Any(a => a.Kind is OnnxAttributeKind.Graph or OnnxAttributeKind.Graphs)) return null;

        var infos = ShapeInference.InferNode(node, model.DefaultOpset, graph.Info, n => graph.Initializers.GetValueOrDefault(n));
        if (infos.Any(i => !i.IsStatic)) return null;
        if (infos.Any(i => i.StaticShape().Aggregate(1L, (a, d) => a * d) > MaxFoldedElements)) return null;

        // Evaluate the node alone: its constant inputs are the weights of a one-step plan.
        var single = new OnnxModel { IrVersion = model.IrVersion };
        foreach (var kv in model.Opsets) single.Opsets[kv.Key] = kv.Value;
        foreach (var name in inputs.Distinct()) single.Graph.Initializers[name] = graph.Initializers[name];
        single.Graph.Nodes.Add(node);
        foreach (var info in infos)
        {
            single.Graph.Outputs.Add(info);
            single.Graph.ValueInfo[info.Name] = info;
        }
        var compiled = PlanBuilder.Build(single, "Fold", context.ModelPath, "");
        try
        {
            using var interpreter = new ModelInterpreter(compiled);
            return interpreter.Run();
        }
        catch (ModelGenException)
        {
            // The runtime cannot run this op: leave it in the graph, where validation reports it.
            return null;
        }
    }

    private static OnnxTensor? FoldShape(OnnxGraph graph, OnnxNode node)
    {
        var info = graph.Info(node.Inputs[0]);
        if (info is null || !info.IsStatic) return null;
        var dims = info.StaticShape().Select(d => (long)d).ToArray();
        long rank = dims.Length;
        long start = node.GetInt("start", 0), end = node.GetInt("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = Math.Clamp(start, 0, rank);
        end = Math.Clamp(end, start, rank);
        var slice = dims[(int)start..(int)end];
        return OnnxTensor.FromInt64s(node.Outputs[0], new[] { slice.Length }, slice);
    }

    /// <summary>Size of a statically shaped value is its element count (ONNX function bodies such as LayerNormalization's use it).</summary>
    private static OnnxTensor? FoldSize(OnnxGraph graph, OnnxNode node)
    {
        var info = graph.Info(node.Inputs[0]);
        if (info is null || !info.IsStatic) return null;
        long count = info.StaticShape().Aggregate(1L, (a, d) => a * d);
        return OnnxTensor.FromInt64s(node.Outputs[0], Array.Empty<int>(), new[] { count });
    }

    /// <summary>The value of a Constant node, whichever of its attribute forms it uses.</summary>
    private static OnnxTensor ConstantValue(OnnxNode node, string modelPath)
    {
        string name = node.Outputs[0];
        if (node.Attr("value")?.Tensor is { } t) return new OnnxTensor(name, t.Type, t.Shape, t.Data);
        if (node.Attr("value_float") is { } f) return OnnxTensor.FromFloats(name, Array.Empty<int>(), new[] { f.Float });
        if (node.Attr("value_floats") is { } fs) return OnnxTensor.FromFloats(name, new[] { fs.Floats.Length }, fs.Floats);
        if (node.Attr("value_int") is { } i) return OnnxTensor.FromInt64s(name, Array.Empty<int>(), new[] { i.Int });
        if (node.Attr("value_ints") is { } ints) return OnnxTensor.FromInt64s(name, new[] { ints.Ints.Length }, ints.Ints);
        throw new OnnxException(
            ErrorCodes.UnsupportedOp,
            $"Constant node '{node.Name}' uses a value form ModelGen does not support (sparse or string); use a dense 'value' tensor.",
            modelPath);
    }
}
