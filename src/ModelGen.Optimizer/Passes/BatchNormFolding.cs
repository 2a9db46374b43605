using ModelGen.Onnx.Ir;

namespace ModelGen.Optimizer.Passes;

/// <summary>
/// Folds an inference BatchNormalization into the Conv or Gemm that feeds it:
/// y = s·(W·x + b − mean) + beta with s = scale / sqrt(var + eps) becomes
/// y = (s·W)·x + (s·(b − mean) + beta). Exact up to float rounding; saves a full pass over the
/// activations. Only applies when the producer's output feeds nothing else and all parameters
/// are constants.
/// </summary>
internal sealed class BatchNormFolding : IGraphPass
{
    public string Name => "batchnorm-folding";

    public int Run(OnnxModel model, PassContext context)
    {
        var graph = model.Graph;
        int folded = 0;
        var consumers = PassContext.Consumers(graph);
        foreach (var bn in graph.Nodes.Where(n => n.OpType == "BatchNormalization").ToList())
        {
            if (bn.Outputs.Count > 1 && bn.Outputs.Skip(1).Any(o => o.Length > 0)) continue; // training outputs
            if (bn.GetInt("training_mode", 0) != 0) continue;
            var producer = graph.Nodes.FirstOrDefault(n => n.Outputs.Contains(bn.Inputs[0]));
            if (producer is null || producer.Outputs.Count != 1) continue;
            if (PassContext.IsGraphOutput(graph, producer.Outputs[0])) continue;
            if (!consumers.TryGetValue(producer.Outputs[0], out var users) || users.Count != 1) continue;
            var p = Params(graph, bn);
            if (p is null) continue;

            bool done = producer.OpType switch
            {
                "Conv" => FoldIntoConv(graph, producer, p.Value),
                "Gemm" => FoldIntoGemm(graph, producer, p.Value),
                _ => false,
            };
            if (!done) continue;
            producer.Outputs[0] = bn.Outputs[0];
            graph.Nodes.Remove(bn);
            consumers = PassContext.Consumers(graph);
            folded++;
            context.Log($"folded {bn} into {producer}");
        }
        return folded;
    }

    /// <summary>Per-channel multiplier s and shift t, so that BN(x) = s·x + t.</summary>
    private static (float[] Scale, float[] Shift)? Params(OnnxGraph graph, OnnxNode bn)
    {
        if (bn.Inputs.Count < 5) return null;
        var tensors = bn.Inputs.Skip(1).Take(4).Select(n => graph.Initializers.GetValueOrDefault(n)).ToArray();
        if (tensors.Any(t => t is null || t.Shape.Length != 1)) return null;
        var gamma = tensors[0]!.ToFloatArray();
        var beta = tensors[1]!.ToFloatArray();
        var mean = tensors[2]!.ToFloatArray();
        var variance = tensors[3]!.ToFloatArray();
        int c = gamma.Length;
        if (beta.Length != c || mean.Length != c || variance.Length != c) return null;
        float eps = bn.GetFloat("epsilon", 1e-5f);
        var s = new float[c];
        var t = new float[c];
        for (int i = 0; i < c; i++)
        {
            // Computed in double so folding adds no error beyond the final rounding to float.
            double si = gamma[i] / Math.Sqrt((double)variance[i] + eps);
            s[i] = (float)si;
            t[i] = (float)(beta[i] - mean[i] * si);
        }
        return (s, t);
    }

    private static bool FoldIntoConv(OnnxGraph graph, OnnxNode conv, (float[] Scale, float[] Shift) p)
    {
        if (!graph.Initializers.TryGetValue(conv.Inputs[1], out var w) || w.Type != Runtime.ElementType.Float) return false;
        int m = w.Shape[0];
        if (m != p.Scale.Length) return false;
        float[]? bias = null;
        if (conv.InputOrEmpty(2) is { Length: > 0 } b)
        {
            if (!graph.Initializers.TryGetValue(b, out var bt) || bt.ElementCount != m) return false;
            bias = bt.ToFloatArray();
        }
        var weights = w.ToFloatArray();
        int per = weights.Length / m;
        for (int o = 0; o < m; o++)
        {
            for (int k = 0; k < per; k++) weights[o * per + k] *= p.Scale[o];
        }
        var newBias = new float[m];
        for (int o = 0; o < m; o++) newBias[o] = (bias?[o] ?? 0f) * p.Scale[o] + p.Shift[o];

        string wName = Unique(graph, conv.Inputs[1] + "_bnfold");
        string bName = Unique(graph, conv.Outputs[0] + "_bnfold_bias");
        graph.Initializers[wName] = OnnxTensor.FromFloats(wName, w.Shape, weights);
        graph.Initializers[bName] = OnnxTensor.FromFloats(bName, new[] { m }, newBias);
        conv.Inputs[1] = wName;
        if (conv.Inputs.Count > 2) conv.Inputs[2] = bName;
        else conv.Inputs.Add(bName);
        return true;
    }

    private static bool FoldIntoGemm(OnnxGraph graph, OnnxNode gemm, (float[] Scale, float[] Shift) p)
    {
        if (!graph.Initializers.TryGetValue(gemm.Inputs[1], out var bw) || bw.Type != Runtime.ElementType.Float || bw.Shape.Length != 2)
        {
            return false;
        }
        bool transB = gemm.GetInt("transB", 0) != 0;
        int n = transB ? bw.Shape[0] : bw.Shape[1];
        int k = transB ? bw.Shape[1] : bw.Shape[0];
        if (n != p.Scale.Length) return false;
        // alpha scales A·B only, and the scaled B already carries s, so alpha stays as it is.
        float beta = gemm.GetFloat("beta", 1f);
        float[]? c = null;
        if (gemm.InputOrEmpty(2) is { Length: > 0 } cName)
        {
            // Only a per-column C ([N] or [1,N]) folds; a full [M,N] C would need M copies.
            if (!graph.Initializers.TryGetValue(cName, out var ct) || ct.ElementCount != n || (ct.Shape.Length == 2 && ct.Shape[0] != 1))
            {
                return false;
            }
            c = ct.ToFloatArray();
        }
        var weights = bw.ToFloatArray();
        for (int j = 0; j < n; j++)
        {
            for (int i = 0; i < k; i++)
            {
                int index = transB ? j * k + i : i * n + j;
                weights[index] *= p.Scale[j];
            }
        }
        var newC = new float[n];
        for (int j = 0; j < n; j++) newC[j] = beta * (c?[j] ?? 0f) * p.Scale[j] + p.Shift[j];

        string wName = Unique(graph, gemm.Inputs[1] + "_bnfold");
        string cNew = Unique(graph, gemm.Outputs[0] + "_bnfold_bias");
        graph.Initializers[wName] = OnnxTensor.FromFloats(wName, bw.Shape, weights);
        graph.Initializers[cNew] = OnnxTensor.FromFloats(cNew, new[] { n }, newC);
        gemm.Inputs[1] = wName;
        if (gemm.Inputs.Count > 2) gemm.Inputs[2] = cNew;
        else gemm.Inputs.Add(cNew);
        gemm.Set(OnnxAttribute.OfFloat("beta", 1f));
        return true;
    }

    internal static string Unique(OnnxGraph graph, string name)
    {
        string candidate = name;
        for (int i = 2; graph.Initializers.ContainsKey(candidate) || graph.ValueInfo.ContainsKey(candidate) ||
             graph.Nodes.Any(n => n.Outputs.Contains(candidate)); i++)
        {
            candidate = name + "_" + i;
        }
        return candidate;
    }
}
