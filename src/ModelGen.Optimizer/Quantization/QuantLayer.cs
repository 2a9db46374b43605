using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Quantization;

/// <summary>
/// A Conv, Gemm or MatMul whose weight (input 1) is a float initializer: the unit the passes
/// quantize and the gate returns to fp32.
/// </summary>
/// <param name="Name">The node's name (unique in the optimized graph).</param>
/// <param name="Op">Conv, Gemm or MatMul.</param>
/// <param name="Input">The activation (input 0).</param>
/// <param name="Weight">The weight initializer's name.</param>
/// <param name="Axis">The weight's output-channel axis.</param>
/// <param name="Channels">Output channels (the weight's size on <paramref name="Axis"/>).</param>
public sealed record QuantLayer(string Name, string Op, string Input, string Weight, int Axis, int Channels)
{
    /// <summary>The layers of <paramref name="graph"/> that can carry a quantized weight, in graph order.</summary>
    internal static List<QuantLayer> Find(OnnxGraph graph)
    {
        var layers = new List<QuantLayer>();
        foreach (var node in graph.Nodes)
        {
            if (node.OpType is not ("Conv" or "Gemm" or "MatMul") || node.Inputs.Count < 2) continue;
            if (!graph.Initializers.TryGetValue(node.Inputs[1], out var w) || w.Type != ElementType.Float) continue;
            int? axis = WeightQuantizer.OutputChannelAxis(node.OpType, w.Shape.Length, node.GetInt("transB", 0) != 0);
            if (axis is null || w.ElementCount == 0) continue;
            layers.Add(new QuantLayer(node.Name, node.OpType, node.Inputs[0], node.Inputs[1], axis.Value, w.Shape[axis.Value]));
        }
        return layers;
    }
}
