using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Passes;

/// <summary>
/// Fuses Conv/Gemm/MatMul + (constant bias Add) + (Relu | LeakyRelu | Sigmoid | Clip | Tanh)
/// into one step: the bias becomes the op's bias input and the activation its epilogue
/// (<see cref="FusedActivation"/>). Each fused value must have no other consumer and must
/// not be a graph output. The optimized .onnx still holds standard ops: <see cref="Output.FusionExpander"/>
/// writes fused steps back out as their original node sequence.
/// </summary>
internal sealed class ActivationFusion : IGraphPass
{
    public string Name => "activation-fusion";

    public int Run(OnnxModel model, PassContext context)
    {
        var graph = model.Graph;
        int fused = 0;
        foreach (var host in graph.Nodes.Where(n => FusedActivation.Hosts.Contains(n.OpType) && n.Domain is "" or "ai.onnx").ToList())
        {
            if (!graph.Nodes.Contains(host)) continue;
            if (TryFuseBias(graph, host))
            {
                fused++;
                context.Log($"fused bias Add into {host}");
            }
            if (TryFuseActivation(graph, host, model.DefaultOpset))
            {
                fused++;
                context.Log($"fused activation {host.GetString(FusedActivation.Activation, "")} into {host}");
            }
        }
        return fused;
    }

    /// <summary>The single consumer of the host's output, when fusing into it is allowed.</summary>
    private static OnnxNode? SoleConsumer(OnnxGraph graph, OnnxNode host)
    {
        if (host.Outputs.Count != 1 || PassContext.IsGraphOutput(graph, host.Outputs[0])) return null;
        var users = graph.Nodes.Where(n => n.Inputs.Contains(host.Outputs[0])).ToList();
        return users.Count == 1 && users[0].Inputs.Count(i => i == host.Outputs[0]) == 1 ? users[0] : null;
    }

    private static bool TryFuseBias(OnnxGraph graph, OnnxNode host)
    {
        if (FusedActivation.HasActivation(host)) return false;
        var add = SoleConsumer(graph, host);
        if (add is null || add.OpType != "Add" || add.Inputs.Count != 2) return false;
        string other = add.Inputs[0] == host.Outputs[0] ? add.Inputs[1] : add.Inputs[0];
        if (!graph.Initializers.TryGetValue(other, out var bias) || bias.Type != ElementType.Float) return false;
        var outInfo = graph.Info(host.Outputs[0]);
        if (outInfo is null || !outInfo.IsStatic) return false;
        var outShape = outInfo.StaticShape();
        var addOut = graph.Info(add.Outputs[0]);
        if (addOut is null || !addOut.IsStatic || !addOut.StaticShape().SequenceEqual(outShape)) return false;

        float[]? perChannel = host.OpType switch
        {
            // Conv output [N, C, spatial...]: a bias of shape [C,1,..] / [1,C,1,..] is per channel.
            "Conv" => ChannelBias(bias, outShape, axis: 1),
            // Gemm/MatMul: a bias broadcast along the last dimension ([N] or [1,…,1,N]).
            _ => ChannelBias(bias, outShape, axis: outShape.Length - 1),
        };
        if (perChannel is null) return false;

        int biasIndex = 2;
        if (host.OpType == "Gemm")
        {
            if (host.InputOrEmpty(2).Length > 0) return false;
        }
        else if (host.InputOrEmpty(2) is { Length: > 0 } existing)
        {
            if (!graph.Initializers.TryGetValue(existing, out var old) || old.ElementCount != perChannel.Length) return false;
            var sum = old.ToFloatArray();
            for (int i = 0; i < sum.Length; i++) perChannel[i] += sum[i];
        }
        string name = BatchNormFolding.Unique(graph, other + "_fused_bias");
        graph.Initializers[name] = OnnxTensor.FromFloats(name, new[] { perChannel.Length }, perChannel);
        while (host.Inputs.Count <= biasIndex) host.Inputs.Add("");
        host.Inputs[biasIndex] = name;
        if (host.OpType == "Gemm") host.Set(OnnxAttribute.OfFloat("beta", 1f));
        host.Outputs[0] = add.Outputs[0];
        graph.Nodes.Remove(add);
        return true;
    }

    /// <summary>The bias as one value per index of <paramref name="axis"/>, if it broadcasts that way.</summary>
    private static float[]? ChannelBias(OnnxTensor bias, int[] outShape, int axis)
    {
        int channels = outShape[axis];
        var shape = bias.Shape;
        if (shape.Length > outShape.Length) return null;
        // Align the bias's dims to the right of the output's, numpy style.
        int offset = outShape.Length - shape.Length;
        for (int d = 0; d < shape.Length; d++)
        {
            int outDim = d + offset;
            if (outDim == axis) { if (shape[d] != channels && shape[d] != 1) return null; }
            else if (shape[d] != 1) return null;
        }
        var values = bias.ToFloatArray();
        if (values.Length == channels) return values;
        if (values.Length == 1) return Enumerable.Repeat(values[0], channels).ToArray();
        return null;
    }

    private static bool TryFuseActivation(OnnxGraph graph, OnnxNode host, long opset)
    {
        if (FusedActivation.HasActivation(host)) return false;
        var act = SoleConsumer(graph, host);
        if (act is null || !FusedActivation.Fusable.Contains(act.OpType) || act.Inputs[0] != host.Outputs[0]) return false;
        if (act.Outputs.Count != 1) return false;
        switch (act.OpType)
        {
            case "LeakyRelu":
                host.Set(OnnxAttribute.OfFloat(FusedActivation.Alpha, act.GetFloat("alpha", 0.01f)));
                break;
            case "Clip":
                var bounds = ClipBounds(graph, act);
                if (bounds is null) return false;
                host.Set(OnnxAttribute.OfFloat(FusedActivation.Min, bounds.Value.Min));
                host.Set(OnnxAttribute.OfFloat(FusedActivation.Max, bounds.Value.Max));
                break;
        }
        host.Set(OnnxAttribute.OfString(FusedActivation.Activation, act.OpType));
        host.Outputs[0] = act.Outputs[0];
        graph.Nodes.Remove(act);
        return true;
    }

    /// <summary>Clip's bounds: attributes before opset 11, optional constant inputs after.</summary>
    private static (float Min, float Max)? ClipBounds(OnnxGraph graph, OnnxNode clip)
    {
        float min = clip.GetFloat("min", float.NegativeInfinity), max = clip.GetFloat("max", float.PositiveInfinity);
        for (int i = 1; i <= 2; i++)
        {
            string name = clip.InputOrEmpty(i);
            if (name.Length == 0) continue;
            if (!graph.Initializers.TryGetValue(name, out var t) || t.ElementCount != 1 || t.Type != ElementType.Float) return null;
            if (i == 1) min = t.ToFloatArray()[0];
            else max = t.ToFloatArray()[0];
        }
        return (min, max);
    }
}
