using ModelGen.Onnx.Ir;
using ModelGen.Onnx.Shapes;
using ModelGen.Runtime;

namespace ModelGen.Onnx;

/// <summary>
/// Static shape and type inference. Fills <see cref="OnnxGraph.ValueInfo"/> for every node
/// output, checks that declared shapes agree with inferred ones, and reports mismatches.
/// Symbolic dims (dim_param) pass through where the rule is trivial (elementwise ops, the batch
/// dimension of Conv/Gemm/MatMul/pooling); dims that depend on unknown values become unknown.
/// </summary>
public static class ShapeInference
{
    /// <summary>The operators (default ONNX domain) that have an inference rule.</summary>
    public static IReadOnlyCollection<string> SupportedOps => Rules.Supported;

    /// <summary>
    /// Infers every value's type and shape; nodes must be in topological order. Initializers,
    /// Constant nodes and Shape nodes over static shapes count as constants, so that e.g. a
    /// Reshape's target shape is known. Declared output and value_info shapes are checked
    /// against the inferred ones and refined with them (a known dim replaces an unknown one).
    /// </summary>
    /// <exception cref="OnnxException">ShapeMismatch, UnsupportedOp or InvalidGraph, naming the node.</exception>
    public static void Run(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph;
        long opset = model.DefaultOpset;
        var constants = new Dictionary<string, OnnxTensor>(graph.Initializers, StringComparer.Ordinal);
        var outputs = new Dictionary<string, TensorInfo>(StringComparer.Ordinal);
        foreach (var o in graph.Outputs) outputs[o.Name] = o;
        foreach (var node in graph.Nodes)
        {
            var inferred = InferNode(node, opset, graph.Info, name => constants.GetValueOrDefault(name));
            for (int i = 0; i < inferred.Length; i++)
            {
                string name = node.Outputs[i];
                if (name.Length == 0) continue;
                var result = inferred[i];
                if (graph.ValueInfo.TryGetValue(name, out var declared)) result = Reconcile(node, result, declared, "value_info");
                if (outputs.TryGetValue(name, out var output))
                {
                    result = Reconcile(node, result, output, "graph output");
                    output.Shape = result.Shape?.ToArray();
                }
                graph.ValueInfo[name] = result;
            }
            if (IsDefaultDomain(node.Domain))
            {
                if (node.OpType == "Constant") constants[node.Outputs[0]] = ConstantNodes.Value(node);
                else if (node.OpType == "Shape" && ConstantNodes.ShapeValue(node, graph.Info(node.Inputs[0])!) is { } shape) constants[node.Outputs[0]] = shape;
            }
        }
        foreach (var o in graph.Outputs)
        {
            if (!graph.ValueInfo.ContainsKey(o.Name) && graph.Info(o.Name) is null)
            {
                throw new OnnxException(ErrorCodes.InvalidGraph, $"graph output '{o.Name}' is not produced by any node, input or initializer; re-export the model");
            }
        }
    }

    /// <summary>
    /// Infers the types and shapes of one node's outputs: one <see cref="TensorInfo"/> per entry
    /// of <see cref="OnnxNode.Outputs"/> (named like it; omitted outputs get a placeholder).
    /// <paramref name="info"/> gives the type of any input value, <paramref name="constant"/> its
    /// value when it is a known constant (null otherwise).
    /// </summary>
    /// <exception cref="OnnxException">ShapeMismatch for inconsistent inputs, UnsupportedOp for an operator without a rule.</exception>
    public static TensorInfo[] InferNode(OnnxNode node, long opset, Func<string, TensorInfo?> info, Func<string, OnnxTensor?> constant)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (!IsDefaultDomain(node.Domain) || !Rules.TryGet(node.OpType, out var rule))
        {
            string domain = IsDefaultDomain(node.Domain) ? "" : $" of domain '{node.Domain}'";
            throw new OnnxException(ErrorCodes.UnsupportedOp,
                $"node {node} uses operator {node.OpType}{domain}, which ModelGen does not support; replace it (e.g. re-export with a different opset or simplify the model) or request support for it");
        }
        return rule(new NodeContext(node, opset, info, constant));
    }

    /// <summary>The value of a Constant node (value, value_float(s), value_int(s)).</summary>
    /// <exception cref="OnnxException">UnsupportedType for string/sparse constants, InvalidGraph for a malformed node.</exception>
    public static OnnxTensor ConstantValue(OnnxNode node) => ConstantNodes.Value(node);

    private static bool IsDefaultDomain(string domain) => domain.Length == 0 || domain == "ai.onnx";

    /// <summary>Checks an inferred value against a declared one and returns the more precise combination.</summary>
    private static TensorInfo Reconcile(OnnxNode node, TensorInfo inferred, TensorInfo declared, string what)
    {
        if (inferred.Type != declared.Type)
        {
            throw new OnnxException(ErrorCodes.ShapeMismatch,
                $"node {node}: {what} '{declared.Name}' is declared as {declared.Type.ToOnnxName()}, but the node produces {inferred.Type.ToOnnxName()}; fix the declaration or re-export the model");
        }
        if (inferred.Shape is null) return new TensorInfo(inferred.Name, inferred.Type, declared.Shape?.ToArray(), declared.Doc);
        if (declared.Shape is null) return new TensorInfo(inferred.Name, inferred.Type, inferred.Shape, declared.Doc);
        bool conflict = inferred.Shape.Length != declared.Shape.Length
            || inferred.Shape.Where((d, i) => Dims.Conflict(d, declared.Shape[i])).Any();
        if (conflict)
        {
            throw new OnnxException(ErrorCodes.ShapeMismatch,
                $"node {node}: {what} '{declared.Name}' is declared with shape {Dims.Show(declared.Shape)}, but the node produces {Dims.Show(inferred.Shape)}; fix the declaration or re-export the model");
        }
        var merged = inferred.Shape.Select((d, i) => Dims.Better(d, declared.Shape[i])).ToArray();
        return new TensorInfo(inferred.Name, inferred.Type, merged, declared.Doc);
    }
}
