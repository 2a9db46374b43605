using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Tests;

/// <summary>
/// Small models built in code (with the IR directly), written to a temp folder. Weights are
/// seeded random values, so every run tests the same numbers.
/// </summary>
internal sealed class TestModels
{
    private readonly Random _rng;
    private readonly OnnxModel _model = new() { ProducerName = "ModelGen tests", IrVersion = 8 };

    public TestModels(int seed, long opset = 13)
    {
        _rng = new Random(seed);
        _model.Opsets[""] = opset;
    }

    public OnnxGraph Graph => _model.Graph;

    public OnnxModel Model => _model;

    public string Input(string name, params int[] shape)
    {
        Graph.Inputs.Add(TensorInfo.Static(name, ElementType.Float, shape));
        return name;
    }

    public string Weight(string name, int[] shape, float scale = 0.5f, float offset = 0f)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var values = new float[n];
        for (int i = 0; i < n; i++) values[i] = offset + scale * (float)(_rng.NextDouble() * 2 - 1);
        Graph.Initializers[name] = OnnxTensor.FromFloats(name, shape, values);
        return name;
    }

    public string Ints(string name, params long[] values)
    {
        Graph.Initializers[name] = OnnxTensor.FromInt64s(name, new[] { values.Length }, values);
        return name;
    }

    public string Node(string op, string[] inputs, params OnnxAttribute[] attributes)
    {
        string output = $"{op.ToLowerInvariant()}_{Graph.Nodes.Count}";
        var node = new OnnxNode(op, $"n{Graph.Nodes.Count}_{op}", inputs, new[] { output });
        foreach (var a in attributes) node.Set(a);
        Graph.Nodes.Add(node);
        return output;
    }

    public TestModels Output(string name)
    {
        Graph.Outputs.Add(new TensorInfo(name, ElementType.Float, null));
        return this;
    }

    public string Save(string directory, string fileName)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, fileName);
        OnnxWriter.Save(_model, path);
        return path;
    }

    public float[] RandomInput(int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(_rng.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>MLP 196-128-10 with Gemm (transB), Relu and Softmax.</summary>
    public static TestModels Mlp(int seed = 1)
    {
        var m = new TestModels(seed);
        var x = m.Input("input", 1, 196);
        var h = m.Node("Gemm", new[] { x, m.Weight("w1", new[] { 128, 196 }, 0.15f), m.Weight("b1", new[] { 128 }, 0.1f) },
            OnnxAttribute.OfInt("transB", 1));
        h = m.Node("Relu", new[] { h });
        var y = m.Node("Gemm", new[] { h, m.Weight("w2", new[] { 10, 128 }, 0.2f), m.Weight("b2", new[] { 10 }, 0.1f) },
            OnnxAttribute.OfInt("transB", 1));
        return m.Output(m.Node("Softmax", new[] { y }, OnnxAttribute.OfInt("axis", 1)));
    }

    /// <summary>MLP in PyTorch-export style: MatMul + Add + activation, a Reshape from a constant.</summary>
    public static TestModels MatMulMlp(int seed = 2)
    {
        var m = new TestModels(seed);
        var x = m.Input("x", 1, 1, 8, 8);
        var flat = m.Node("Reshape", new[] { x, m.Ints("shape", 1, 64) });
        var h = m.Node("MatMul", new[] { flat, m.Weight("w1", new[] { 64, 32 }, 0.25f) });
        h = m.Node("Add", new[] { h, m.Weight("b1", new[] { 32 }, 0.1f) });
        h = m.Node("LeakyRelu", new[] { h }, OnnxAttribute.OfFloat("alpha", 0.1f));
        h = m.Node("MatMul", new[] { h, m.Weight("w2", new[] { 32, 16 }, 0.3f) });
        h = m.Node("Add", new[] { h, m.Weight("b2", new[] { 1, 16 }, 0.1f) });
        h = m.Node("Sigmoid", new[] { h });
        var y = m.Node("Gemm", new[] { h, m.Weight("w3", new[] { 16, 4 }, 0.5f), m.Weight("b3", new[] { 4 }, 0.1f) });
        return m.Output(m.Node("Tanh", new[] { y }));
    }

    /// <summary>Conv, Relu, MaxPool, Conv, Relu, GlobalAveragePool, Flatten, Gemm on 1x28x28.</summary>
    public static TestModels SmallCnn(int seed = 3)
    {
        var m = new TestModels(seed);
        var x = m.Input("image", 1, 1, 28, 28);
        var c = m.Node("Conv", new[] { x, m.Weight("conv1.w", new[] { 8, 1, 3, 3 }, 0.4f), m.Weight("conv1.b", new[] { 8 }, 0.1f) },
            OnnxAttribute.OfInts("kernel_shape", 3, 3), OnnxAttribute.OfInts("pads", 1, 1, 1, 1));
        c = m.Node("Relu", new[] { c });
        c = m.Node("MaxPool", new[] { c }, OnnxAttribute.OfInts("kernel_shape", 2, 2), OnnxAttribute.OfInts("strides", 2, 2));
        c = m.Node("Conv", new[] { c, m.Weight("conv2.w", new[] { 16, 8, 3, 3 }, 0.2f), m.Weight("conv2.b", new[] { 16 }, 0.1f) },
            OnnxAttribute.OfInts("kernel_shape", 3, 3), OnnxAttribute.OfInts("strides", 1, 1));
        c = m.Node("Relu", new[] { c });
        c = m.Node("GlobalAveragePool", new[] { c });
        c = m.Node("Flatten", new[] { c }, OnnxAttribute.OfInt("axis", 1));
        var y = m.Node("Gemm", new[] { c, m.Weight("fc.w", new[] { 10, 16 }, 0.5f), m.Weight("fc.b", new[] { 10 }, 0.1f) },
            OnnxAttribute.OfInt("transB", 1));
        return m.Output(y);
    }

    /// <summary>
    /// Two ResNet blocks: an identity block (Conv → Add(stem) → Relu) and a downsample block whose shortcut Conv
    /// comes after the main branch in node order, joined by a Sum (Conv → Sum(shortcut) → Relu). Both residuals fuse
    /// into their Convs; the second must move to the Sum's place, after the shortcut is computed.
    /// </summary>
    public static TestModels ResidualCnn(int seed = 5)
    {
        var m = new TestModels(seed);
        var x = m.Input("x", 1, 4, 10, 10);
        var (_, a) = StemAndIdentityBlock(m, x);
        var pad1 = OnnxAttribute.OfInts("pads", 1, 1, 1, 1);
        var stride2 = OnnxAttribute.OfInts("strides", 2, 2);
        var main = m.Node("Relu", new[] { m.Node("Conv", new[] { a, m.Weight("b1.w", new[] { 16, 8, 3, 3 }, 0.2f), m.Weight("b1.b", new[] { 16 }, 0.1f) }, pad1, stride2) });
        main = m.Node("Conv", new[] { main, m.Weight("b2.w", new[] { 16, 16, 1, 1 }, 0.3f) });
        var shortcut = m.Node("Conv", new[] { a, m.Weight("sc.w", new[] { 16, 8, 1, 1 }, 0.3f), m.Weight("sc.b", new[] { 16 }, 0.1f) }, stride2);
        var b = m.Node("Relu", new[] { m.Node("Sum", new[] { main, shortcut }) });
        var pooled = m.Node("Flatten", new[] { m.Node("GlobalAveragePool", new[] { b }) });
        var y = m.Node("Gemm", new[] { pooled, m.Weight("fc.w", new[] { 10, 16 }, 0.5f), m.Weight("fc.b", new[] { 10 }, 0.1f) }, OnnxAttribute.OfInt("transB", 1));
        return m.Output(y);
    }

    /// <summary>
    /// A residual that is read again after its Conv: Conv → Add(stem) → Relu fuses the stem into the Conv as its residual,
    /// and a later Add reads the stem once more, so the Conv must not write its output over the stem's bytes.
    /// </summary>
    public static TestModels ResidualReadTwice(int seed = 8)
    {
        var m = new TestModels(seed);
        var x = m.Input("x", 1, 4, 9, 9);
        var (stem, a) = StemAndIdentityBlock(m, x);
        var again = m.Node("Add", new[] { a, stem });
        var pooled = m.Node("Flatten", new[] { m.Node("GlobalAveragePool", new[] { again }) });
        var y = m.Node("Gemm", new[] { pooled, m.Weight("fc.w", new[] { 10, 8 }, 0.5f), m.Weight("fc.b", new[] { 10 }, 0.1f) }, OnnxAttribute.OfInt("transB", 1));
        return m.Output(y);
    }

    /// <summary>
    /// A 3×3 stem 4→8 with Relu, then a ResNet identity block on it (3×3, Relu, 1×1, Add(stem), Relu): the stem and the
    /// block's output. The stem is read twice, by the block's first Conv and by its Add.
    /// </summary>
    private static (string Stem, string Block) StemAndIdentityBlock(TestModels m, string x)
    {
        var pad1 = OnnxAttribute.OfInts("pads", 1, 1, 1, 1);
        var stem = m.Node("Relu", new[] { m.Node("Conv", new[] { x, m.Weight("stem.w", new[] { 8, 4, 3, 3 }, 0.3f), m.Weight("stem.b", new[] { 8 }, 0.1f) }, pad1) });
        var a = m.Node("Relu", new[] { m.Node("Conv", new[] { stem, m.Weight("a1.w", new[] { 8, 8, 3, 3 }, 0.2f), m.Weight("a1.b", new[] { 8 }, 0.1f) }, pad1) });
        a = m.Node("Conv", new[] { a, m.Weight("a2.w", new[] { 8, 8, 1, 1 }, 0.3f), m.Weight("a2.b", new[] { 8 }, 0.1f) });
        return (stem, m.Node("Relu", new[] { m.Node("Add", new[] { a, stem }) }));
    }

    /// <summary>
    /// Two SqueezeNet fire modules (squeeze 1×1, then 1×1 and 3×3 expands concatenated on channels): the first
    /// concatenates its expands in the order they are computed, the second in the reverse order.
    /// </summary>
    public static TestModels FireModules(int seed = 6)
    {
        var m = new TestModels(seed);
        var x = m.Input("x", 1, 8, 12, 12);
        var pad1 = OnnxAttribute.OfInts("pads", 1, 1, 1, 1);
        string Fire(string input, int inC, string name, bool reverse)
        {
            var sq = m.Node("Relu", new[] { m.Node("Conv", new[] { input, m.Weight(name + ".sq", new[] { 4, inC, 1, 1 }, 0.4f), m.Weight(name + ".sqb", new[] { 4 }, 0.1f) }) });
            var e1 = m.Node("Relu", new[] { m.Node("Conv", new[] { sq, m.Weight(name + ".e1", new[] { 8, 4, 1, 1 }, 0.4f), m.Weight(name + ".e1b", new[] { 8 }, 0.1f) }) });
            var e3 = m.Node("Relu", new[] { m.Node("Conv", new[] { sq, m.Weight(name + ".e3", new[] { 8, 4, 3, 3 }, 0.3f), m.Weight(name + ".e3b", new[] { 8 }, 0.1f) }, pad1) });
            return m.Node("Concat", reverse ? new[] { e3, e1 } : new[] { e1, e3 }, OnnxAttribute.OfInt("axis", 1));
        }
        var f = Fire(Fire(x, 8, "f1", reverse: false), 16, "f2", reverse: true);
        var pooled = m.Node("Flatten", new[] { m.Node("GlobalAveragePool", new[] { f }) });
        var y = m.Node("Gemm", new[] { pooled, m.Weight("fc.w", new[] { 10, 16 }, 0.5f), m.Weight("fc.b", new[] { 10 }, 0.1f) }, OnnxAttribute.OfInt("transB", 1));
        return m.Output(y);
    }

    /// <summary>Conv + BatchNormalization + Clip, and Gemm + BatchNormalization: both fold.</summary>
    public static TestModels ConvBatchNorm(int seed = 4)
    {
        var m = new TestModels(seed);
        var x = m.Input("x", 1, 3, 12, 12);
        var c = m.Node("Conv", new[] { x, m.Weight("w", new[] { 6, 3, 3, 3 }, 0.4f) },
            OnnxAttribute.OfInts("kernel_shape", 3, 3), OnnxAttribute.OfInts("strides", 2, 2), OnnxAttribute.OfString("auto_pad", "SAME_UPPER"));
        c = m.Node("BatchNormalization", new[]
        {
            c, m.Weight("gamma", new[] { 6 }, 0.5f, 1f), m.Weight("beta", new[] { 6 }, 0.2f),
            m.Weight("mean", new[] { 6 }, 0.2f), m.Weight("var", new[] { 6 }, 0.3f, 1f),
        }, OnnxAttribute.OfFloat("epsilon", 1e-3f));
        c = m.Node("Clip", new[] { c, m.Scalar("lo", 0f), m.Scalar("hi", 1.5f) });
        var f = m.Node("Flatten", new[] { c });
        var g = m.Node("Gemm", new[] { f, m.Weight("fc", new[] { 6 * 6 * 6, 5 }, 0.2f), m.Weight("fcb", new[] { 5 }, 0.1f) });
        g = m.Node("BatchNormalization", new[]
        {
            g, m.Weight("g2", new[] { 5 }, 0.5f, 1f), m.Weight("b2", new[] { 5 }, 0.2f),
            m.Weight("m2", new[] { 5 }, 0.2f), m.Weight("v2", new[] { 5 }, 0.3f, 1f),
        });
        return m.Output(g);
    }

    /// <summary>Makes the first dimension of every input the symbolic batch <paramref name="param"/>.</summary>
    public TestModels WithSymbolicBatch(string param = "N")
    {
        foreach (var input in Graph.Inputs) input.Shape![0] = Dim.Symbolic(param);
        return this;
    }

    /// <summary>Adds a node with several outputs (named after the op and position).</summary>
    public string[] MultiNode(string op, string[] inputs, int outputs, params OnnxAttribute[] attributes)
    {
        var names = Enumerable.Range(0, outputs).Select(k => $"{op.ToLowerInvariant()}_{Graph.Nodes.Count}_{k}").ToArray();
        var node = new OnnxNode(op, $"n{Graph.Nodes.Count}_{op}", inputs, names);
        foreach (var a in attributes) node.Set(a);
        Graph.Nodes.Add(node);
        return names;
    }

    public string Scalar(string name, float value)
    {
        Graph.Initializers[name] = OnnxTensor.FromFloats(name, Array.Empty<int>(), new[] { value });
        return name;
    }
}
