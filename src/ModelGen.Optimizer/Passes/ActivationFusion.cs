using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Passes;

/// <summary>
/// Fuses Conv/Gemm/MatMul + (constant bias Add) + (Conv only: residual Add/Sum) + (Relu | LeakyRelu |
/// Sigmoid | Clip | Tanh) into one step: the bias becomes the op's bias input, a residual (another
/// computed tensor of the output's shape, ResNet's shortcut) the Conv's input
/// <see cref="FusedActivation.ResidualInput"/>, and the activation its epilogue
/// (<see cref="FusedActivation"/>). Each fused value must have no other consumer and must not be a
/// graph output. The optimized .onnx still holds standard ops: <see cref="Output.FusionExpander"/>
/// writes fused steps back out as their original node sequence.
/// </summary>
/// <param name="fuseResiduals">
/// Whether residual adds are fused. Off when the model goes on to quantization or pruning, whose
/// rewriters expect ONNX Conv's own inputs.
/// </param>
internal sealed class ActivationFusion(bool fuseResiduals = true) : IGraphPass
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
            if (fuseResiduals && TryFuseResidual(graph, host))
            {
                fused++;
                context.Log($"fused residual {host.Inputs[FusedActivation.ResidualInput]} into {host}");
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

    /// <summary>
    /// Conv → Add/Sum(conv, r), r a computed float tensor of the same static shape: r becomes the Conv's residual
    /// input and the Conv takes the Add's place in the node order (r may be computed after the Conv's own position,
    /// as a ResNet downsample shortcut is; everything the Conv reads is ready by then too).
    /// </summary>
    private static bool TryFuseResidual(OnnxGraph graph, OnnxNode host)
    {
        if (host.OpType != "Conv" || FusedActivation.HasActivation(host)) return false;
        // Inputs past the bias (weight scales, sparse arrays, an earlier residual) mean a form this fusion does not extend.
        if (FusedActivation.HasResidual(host)) return false;
        for (int i = 3; i < host.Inputs.Count; i++) if (host.Inputs[i].Length > 0) return false;
        var add = SoleConsumer(graph, host);
        if (add is null || add.OpType is not ("Add" or "Sum") || add.Inputs.Count != 2 || add.Outputs.Count != 1) return false;
        if (add.Inputs[0] == add.Inputs[1]) return false;
        string other = add.Inputs[0] == host.Outputs[0] ? add.Inputs[1] : add.Inputs[0];
        if (graph.Initializers.ContainsKey(other)) return false; // a constant is a bias, fused above when it broadcasts
        var outInfo = graph.Info(host.Outputs[0]);
        var otherInfo = graph.Info(other);
        var addOut = graph.Info(add.Outputs[0]);
        if (outInfo is null || otherInfo is null || addOut is null || !outInfo.IsStatic || !otherInfo.IsStatic || !addOut.IsStatic) return false;
        if (outInfo.Type != ElementType.Float || otherInfo.Type != ElementType.Float) return false;
        var shape = outInfo.StaticShape();
        if (!otherInfo.StaticShape().SequenceEqual(shape) || !addOut.StaticShape().SequenceEqual(shape)) return false;

        graph.Nodes.Remove(host);
        graph.Nodes.Insert(graph.Nodes.IndexOf(add), host);
        graph.Nodes.Remove(add);
        while (host.Inputs.Count <= FusedActivation.ResidualInput) host.Inputs.Add("");
        host.Inputs[FusedActivation.ResidualInput] = other;
        host.Set(OnnxAttribute.OfInt(FusedActivation.Residual, FusedActivation.ResidualInput));
        host.Outputs[0] = add.Outputs[0];
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
