using ModelGen.Onnx;
using ModelGen.Onnx.Ir;

namespace ModelGen.Benchmarks;

/// <summary>
/// Seeded random weights for ONNX's light models. Upstream made them light by replacing every float weight with a
/// <c>ConstantOfShape</c> node, so every output channel of every layer is the same number and the network's softmax
/// is exactly uniform (0.001 each): ModelGen's and ONNX Runtime's outputs then agree whatever a kernel does to the
/// channels, and the output check before timing could not catch a wrong kernel. Here each such weight becomes an
/// initializer of its shape with seeded values by role (He-uniform conv and Gemm weights, small biases, batch-norm
/// statistics near 1 and 0), so the logits differ and the check compares real numbers. Shapes, ops and therefore the
/// work timed are the model's own.
/// </summary>
internal static class LightWeights
{
    /// <summary>
    /// <paramref name="model"/> with its weight-making <c>ConstantOfShape</c> nodes replaced by seeded initializers;
    /// those whose role is not a weight input named below are left as they are.
    /// </summary>
    public static OnnxModel Randomize(OnnxModel model, int seed)
    {
        var graph = model.Graph;
        var random = new Random(seed);
        foreach (var node in graph.Nodes.Where(n => n.OpType == "ConstantOfShape").ToList())
        {
            int[]? shape = ConstantShape(graph, node.InputOrEmpty(0));
            string output = node.Outputs[0];
            var consumer = graph.Nodes.Select(n => (Node: n, Index: n.Inputs.IndexOf(output))).FirstOrDefault(c => c.Index > 0);
            if (shape is null || consumer.Node is null) continue;
            long count = shape.Aggregate(1L, (a, d) => a * d);
            float[]? values = Values(random, consumer.Node, consumer.Index, shape, (int)count);
            if (values is null) continue;
            graph.Nodes.Remove(node);
            graph.Initializers[output] = OnnxTensor.FromFloats(output, shape, values);
        }
        return model;
    }

    /// <summary>The int64 shape a <c>ConstantOfShape</c> reads, from an initializer or a <c>Constant</c> node.</summary>
    private static int[]? ConstantShape(OnnxGraph graph, string name)
    {
        if (graph.Initializers.TryGetValue(name, out var tensor)) return Array.ConvertAll(tensor.ToInt64Array(), v => checked((int)v));
        var constant = graph.Nodes.FirstOrDefault(n => n.OpType == "Constant" && n.Outputs[0] == name);
        return constant?.Attr("value")?.Tensor is { } value ? Array.ConvertAll(value.ToInt64Array(), v => checked((int)v)) : null;
    }

    /// <summary>Values for input <paramref name="index"/> of <paramref name="consumer"/>, or null for a role kept as it is.</summary>
    private static float[]? Values(Random random, OnnxNode consumer, int index, int[] shape, int count) => (consumer.OpType, index) switch
    {
        ("Conv", 1) => Uniform(random, count, 0f, MathF.Sqrt(6f / (count / shape[0]))),
        ("Conv", 2) => Uniform(random, count, 0f, 0.1f),
        ("Gemm", 1) => Uniform(random, count, 0f, MathF.Sqrt(6f / (consumer.GetInt("transB", 0) != 0 ? shape[1] : shape[0]))),
        ("Gemm", 2) => Uniform(random, count, 0f, 0.1f),
        ("BatchNormalization", 1) => Uniform(random, count, BatchNormScale, 0.05f), // scale
        ("BatchNormalization", 2) => Uniform(random, count, 0f, 0.1f), // bias
        ("BatchNormalization", 3) => Uniform(random, count, 0f, 0.1f), // mean
        ("BatchNormalization", 4) => Uniform(random, count, 1f, 0.2f), // variance, positive
        _ => null,
    };

    /// <summary>
    /// The centre of the batch-norm scales. With random statistics a batch norm does not normalise, so at 1 ResNet-50's
    /// residual stream grew block by block until its softmax was one-hot (exactly 1 and 0, again equal on both sides
    /// whatever the kernels did); at 0.5 its probabilities span 3e-5 to 0.02 (at 0.3, 5e-4 to 1.6e-3: nearly uniform).
    /// </summary>
    private const float BatchNormScale = 0.5f;

    private static float[] Uniform(Random random, int count, float centre, float limit)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++) values[i] = centre + (float)(random.NextDouble() * 2 - 1) * limit;
        return values;
    }
}
