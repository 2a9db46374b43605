using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Passes;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Quantization;

/// <summary>
/// Rewrites a copy of the fp32 graph into the plan form of docs/quantization.md for a chosen set
/// of layers: int8 weights + a float scales input 3 (and the <c>quant</c> attributes for int8
/// compute), or float16 weights. Layers not in the set are left exactly as they were, which is
/// how the accuracy gate returns a layer to fp32.
/// </summary>
internal static class QuantizationRewriter
{
    /// <summary>Step attribute: <c>static</c> or <c>dynamic</c> int8 compute.</summary>
    public const string Quant = "quant";

    /// <summary>Step attribute: the static activation scale.</summary>
    public const string InputScale = "input_scale";

    /// <summary>Step attribute: the static activation zero point (0..255).</summary>
    public const string InputZeroPoint = "input_zero_point";

    /// <summary>Fp16 stores only initializers at least this large (docs/quantization.md): smaller ones save nothing worth a conversion.</summary>
    public const int Fp16MinElements = 16;

    /// <summary>
    /// Applies <paramref name="mode"/> to the layers named in <paramref name="quantize"/>.
    /// </summary>
    /// <returns>Per layer, why its bias could not be corrected (when calibration asked for it).</returns>
    public static Dictionary<string, string> Apply(OnnxModel model, QuantizeMode mode, IReadOnlySet<string> quantize,
        IReadOnlyDictionary<string, LayerCalibration> calibration)
    {
        var notes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (mode == QuantizeMode.Fp16)
        {
            ToFloat16(model.Graph, quantize);
            return notes;
        }
        var graph = model.Graph;
        var cache = new Dictionary<(string, int), (string Values, string Scales)>();
        foreach (var layer in QuantLayer.Find(graph).Where(l => quantize.Contains(l.Name)))
        {
            var node = graph.Nodes.First(n => n.Name == layer.Name);
            if (!cache.TryGetValue((layer.Weight, layer.Axis), out var names))
            {
                var w = graph.Initializers[layer.Weight];
                var (q, s) = WeightQuantizer.Quantize(w.AsSpan<float>(), w.Shape, layer.Axis);
                names = (BatchNormFolding.Unique(graph, $"{layer.Weight}__int8_axis{layer.Axis}"),
                    BatchNormFolding.Unique(graph, $"{layer.Weight}__scales_axis{layer.Axis}"));
                graph.Initializers[names.Values] = new OnnxTensor(names.Values, ElementType.Int8, w.Shape, (byte[])(Array)q);
                graph.Initializers[names.Scales] = OnnxTensor.FromFloats(names.Scales, new[] { s.Length }, s);
                cache[(layer.Weight, layer.Axis)] = names;
            }
            node.Inputs[1] = names.Values;
            while (node.Inputs.Count < 4) node.Inputs.Add("");
            node.Inputs[3] = names.Scales;
            calibration.TryGetValue(layer.Name, out var cal);
            if (mode == QuantizeMode.Int8)
            {
                var a = cal?.Activation ?? throw new InvalidOperationException($"layer '{layer.Name}' has no calibrated activation range");
                node.Set(OnnxAttribute.OfString(Quant, "static"));
                node.Set(OnnxAttribute.OfFloat(InputScale, a.Scale));
                node.Set(OnnxAttribute.OfInt(InputZeroPoint, a.ZeroPoint));
            }
            else if (mode == QuantizeMode.Int8Dynamic)
            {
                node.Set(OnnxAttribute.OfString(Quant, "dynamic"));
            }
            if (cal?.BiasDelta is { } delta)
            {
                string? why = CorrectBias(graph, node, layer, delta);
                if (why is not null) notes[layer.Name] = why;
            }
        }
        return notes;
    }

    /// <summary>Subtracts <paramref name="delta"/> from the layer's bias (a new initializer; a shared bias is left alone).</summary>
    private static string? CorrectBias(OnnxGraph graph, OnnxNode node, QuantLayer layer, float[] delta)
    {
        float beta = node.OpType == "Gemm" ? node.GetFloat("beta", 1f) : 1f;
        if (beta == 0) return "Gemm beta = 0 ignores the bias";
        string bias = node.Inputs[2];
        float[] values;
        if (bias.Length == 0)
        {
            values = new float[layer.Channels];
        }
        else if (graph.Initializers.TryGetValue(bias, out var b) && b.Type == ElementType.Float && b.ElementCount == layer.Channels
            && (b.Shape.Length == 0 || b.Shape[^1] == layer.Channels || node.OpType == "Conv"))
        {
            values = b.ToFloatArray();
        }
        else
        {
            return $"bias '{bias}' is not a per-channel float initializer";
        }
        for (int c = 0; c < values.Length; c++) values[c] -= delta[c] / beta;
        string name = BatchNormFolding.Unique(graph, node.Name + "__bias_corrected");
        graph.Initializers[name] = OnnxTensor.FromFloats(name, new[] { layer.Channels }, values);
        node.Inputs[2] = name;
        return null;
    }

    /// <summary>
    /// Stores as float16 every float initializer of at least <see cref="Fp16MinElements"/> elements
    /// that only the chosen layers read (as weight or bias), so a layer kept in fp32 keeps fp32 weights.
    /// </summary>
    private static void ToFloat16(OnnxGraph graph, IReadOnlySet<string> layers)
    {
        var consumers = PassContext.Consumers(graph);
        var candidates = graph.Nodes.Where(n => layers.Contains(n.Name)).SelectMany(n => n.Inputs.Skip(1).Take(2)).Distinct().ToList();
        foreach (var name in candidates)
        {
            if (name.Length == 0 || !graph.Initializers.TryGetValue(name, out var t) || t.Type != ElementType.Float) continue;
            if (t.ElementCount < Fp16MinElements || PassContext.IsGraphOutput(graph, name)) continue;
            bool onlyLayers = consumers[name].All(n => layers.Contains(n.Name) && n.Inputs[0] != name);
            if (!onlyLayers) continue;
            var values = t.AsSpan<float>();
            var half = new Half[values.Length];
            for (int i = 0; i < half.Length; i++) half[i] = (Half)values[i];
            graph.Initializers[name] = new OnnxTensor(name, ElementType.Float16, t.Shape,
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(half.AsSpan()).ToArray());
        }
    }
}
