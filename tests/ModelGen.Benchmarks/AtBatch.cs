using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Benchmarks;

/// <summary>
/// Makes a batch-1 ONNX model (the onnx-light ResNet-50 fixes its batch at 1) into the same
/// model at batch <c>n</c>: the first input dimension becomes <c>n</c>, and a constant Reshape
/// target whose first entry is 1 (ResNet's <c>[1, 2048]</c> before the classifier) gets
/// <c>n</c> instead. Stale intermediate shapes are dropped for the optimizer to infer again.
/// </summary>
internal static class AtBatch
{
    /// <summary>Writes the batch-<paramref name="batch"/> form of <paramref name="path"/> once per process; returns its path.</summary>
    public static string Rewrite(string path, int batch, string name)
    {
        var target = Path.Combine(BenchPaths.WorkFolder("models"), $"{name}-b{batch}.onnx");
        if (File.Exists(target)) return target;
        var model = OnnxLoader.Load(path);
        var graph = model.Graph;
        foreach (var info in graph.Inputs.Concat(graph.Outputs))
        {
            if (info.Shape is { Length: > 0 } shape && !graph.Initializers.ContainsKey(info.Name)) shape[0] = Dim.Of(batch);
        }
        foreach (var node in graph.Nodes.Where(n => n.OpType == "Reshape" && n.Inputs.Count > 1))
        {
            string shapeName = node.Inputs[1];
            if (graph.Initializers.TryGetValue(shapeName, out var tensor) && Scaled(tensor, batch) is { } scaled)
            {
                graph.Initializers[shapeName] = scaled;
                continue;
            }
            var constant = graph.Nodes.FirstOrDefault(c => c.OpType == "Constant" && c.Outputs.Contains(shapeName));
            if (constant?.Attr("value")?.Tensor is { } value && Scaled(value, batch) is { } scaledValue)
            {
                constant.Attributes["value"] = new OnnxAttribute("value", OnnxAttributeKind.Tensor) { Tensor = scaledValue };
            }
        }
        graph.ValueInfo.Clear();
        OnnxWriter.Save(model, target);
        return target;
    }

    private static OnnxTensor? Scaled(OnnxTensor shape, int batch)
    {
        if (shape.Type != ElementType.Int64 || shape.ElementCount < 1) return null;
        var values = shape.ToInt64Array();
        if (values[0] != 1) return null;
        values[0] = batch;
        return OnnxTensor.FromInt64s(shape.Name, shape.Shape, values);
    }
}
