using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Onnx;

/// <summary>
/// Builds small ONNX models in code (for tests and the sample trainer):
/// <code>
/// var b = new GraphBuilder("mlp", opset: 13);
/// var x = b.Input("input", ElementType.Float, 1, 784);
/// var w = b.Initializer("w1", new[] { 10, 784 }, weights);
/// var y = b.Node("Gemm", new[] { x, w }, OnnxAttribute.OfInt("transB", 1));
/// b.Output(b.Node("Relu", y));
/// OnnxModel model = b.Build();
/// </code>
/// Node outputs are named after the node (<c>gemm_0</c>, or <c>split_1_0</c>, <c>split_1_1</c>…
/// for several outputs). <see cref="Build"/> sorts the nodes and runs shape inference, so every
/// value has its type and shape; outputs added without a type get the inferred one.
/// </summary>
public sealed class GraphBuilder
{
    private readonly string _name;
    private readonly long _opset;
    private readonly List<TensorInfo> _inputs = new();
    private readonly List<OnnxTensor> _initializers = new();
    private readonly List<OnnxNode> _nodes = new();
    private readonly List<(string Name, TensorInfo? Declared)> _outputs = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    /// <summary>Starts a graph named <paramref name="name"/> that imports the default ONNX domain at <paramref name="opset"/>.</summary>
    public GraphBuilder(string name, long opset = 13)
    {
        _name = name;
        _opset = opset;
    }

    /// <summary>Adds a graph input with a static shape; returns its name.</summary>
    public string Input(string name, ElementType type, params int[] shape) =>
        Input(name, type, shape.Select(d => Dim.Of(d)).ToArray());

    /// <summary>Adds a graph input whose shape may have symbolic or unknown dims (null: unknown rank).</summary>
    public string Input(string name, ElementType type, Dim[]? shape)
    {
        Claim(name);
        _inputs.Add(new TensorInfo(name, type, shape));
        return name;
    }

    /// <summary>Adds a float32 initializer; returns its name.</summary>
    public string Initializer(string name, int[] shape, float[] values) =>
        Initializer(OnnxTensor.FromFloats(name, shape, values));

    /// <summary>Adds an int64 initializer (shapes, axes…); returns its name.</summary>
    public string Initializer(string name, int[] shape, long[] values) =>
        Initializer(OnnxTensor.FromInt64s(name, shape, values));

    /// <summary>Adds an initializer of any type; returns its name.</summary>
    public string Initializer(OnnxTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Claim(tensor.Name);
        _initializers.Add(tensor);
        return tensor.Name;
    }

    /// <summary>Adds a one-input, one-output node; returns the output's name.</summary>
    public string Node(string opType, string input, params OnnxAttribute[] attributes) =>
        Node(opType, new[] { input }, attributes);

    /// <summary>Adds a one-output node ("" in <paramref name="inputs"/> omits an optional input); returns the output's name.</summary>
    public string Node(string opType, string[] inputs, params OnnxAttribute[] attributes) =>
        Node(opType, inputs, 1, attributes)[0];

    /// <summary>Adds a one-output node whose output has the given name (a graph output's public name, say).</summary>
    public string NamedNode(string opType, string[] inputs, string output, params OnnxAttribute[] attributes)
    {
        Claim(output);
        var node = new OnnxNode(opType, $"{opType.ToLowerInvariant()}_{_nodes.Count}", inputs, new[] { output });
        foreach (var a in attributes) node.Set(a);
        _nodes.Add(node);
        return output;
    }

    /// <summary>Adds a node with <paramref name="outputCount"/> outputs; returns their names.</summary>
    public string[] Node(string opType, string[] inputs, int outputCount, params OnnxAttribute[] attributes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(outputCount, 1);
        string name = $"{opType.ToLowerInvariant()}_{_nodes.Count}";
        var outputs = outputCount == 1 ? new[] { name } : Enumerable.Range(0, outputCount).Select(i => $"{name}_{i}").ToArray();
        foreach (var o in outputs) Claim(o);
        var node = new OnnxNode(opType, name, inputs, outputs);
        foreach (var a in attributes) node.Set(a);
        _nodes.Add(node);
        return outputs;
    }

    /// <summary>Marks a value as a graph output with a declared type and static shape (checked by inference).</summary>
    public GraphBuilder Output(string name, ElementType type, params int[] shape)
    {
        _outputs.Add((name, TensorInfo.Static(name, type, shape)));
        return this;
    }

    /// <summary>Marks a value as a graph output whose type and shape come from inference.</summary>
    public GraphBuilder Output(string name)
    {
        _outputs.Add((name, null));
        return this;
    }

    /// <summary>
    /// Makes the model: nodes in topological order, value infos and undeclared outputs filled
    /// by shape inference. May be called again (each call builds a fresh model).
    /// </summary>
    /// <exception cref="OnnxException">The graph is invalid or its shapes do not agree.</exception>
    public OnnxModel Build()
    {
        if (_outputs.Count == 0) throw new InvalidOperationException($"graph '{_name}' has no outputs; call Output(...) first");
        var model = new OnnxModel { IrVersion = 8, ProducerName = "ModelGen.GraphBuilder" };
        model.Opsets[""] = _opset;
        var graph = model.Graph;
        graph.Name = _name;
        foreach (var i in _inputs) graph.Inputs.Add(new TensorInfo(i.Name, i.Type, i.Shape?.ToArray()));
        foreach (var t in _initializers) graph.Initializers.Add(t.Name, t);
        foreach (var n in _nodes)
        {
            var copy = new OnnxNode(n.OpType, n.Name, n.Inputs, n.Outputs, n.Domain);
            foreach (var a in n.Attributes.Values) copy.Set(a);
            graph.Nodes.Add(copy);
        }
        foreach (var (_, declared) in _outputs)
        {
            if (declared is not null) graph.Outputs.Add(new TensorInfo(declared.Name, declared.Type, declared.Shape?.ToArray()));
        }
        GraphOrder.Sort(graph);
        ShapeInference.Run(model);
        // Outputs without a declared type take the inferred one, in the order they were added.
        var ordered = new List<TensorInfo>();
        foreach (var (name, declared) in _outputs)
        {
            var info = declared is not null
                ? graph.Outputs.First(o => o.Name == name)
                : graph.Info(name) ?? throw new OnnxException(ErrorCodes.InvalidGraph, $"output '{name}' of graph '{_name}' is not an input, initializer or node output");
            ordered.Add(new TensorInfo(name, info.Type, info.Shape?.ToArray()));
        }
        graph.Outputs.Clear();
        graph.Outputs.AddRange(ordered);
        return model;
    }

    private void Claim(string name)
    {
        if (string.IsNullOrEmpty(name)) throw new ArgumentException("value names must not be empty", nameof(name));
        if (!_names.Add(name)) throw new ArgumentException($"the name '{name}' is already used in graph '{_name}'", nameof(name));
    }
}
