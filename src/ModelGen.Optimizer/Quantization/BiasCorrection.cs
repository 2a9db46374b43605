using ModelGen.Onnx.Ir;

namespace ModelGen.Optimizer.Quantization;

/// <summary>
/// Empirical bias correction (Nagel et al., "Data-Free Quantization", §4.2, with calibration data
/// instead of BatchNorm statistics). The quantized layer computes <c>x̂·Ŵ</c> where x̂ is the
/// quantize–dequantized input (x itself for weight-only) and Ŵ the dequantized weight; the
/// fp32 layer computes <c>x·W</c>. By linearity of the mean, the mean per-output-channel error
/// is <c>E[x̂]·Ŵ − E[x]·W</c> — exact for Gemm and MatMul; for Conv it uses each input
/// channel's mean over all positions, which ignores the zero padding at the borders.
/// Subtracting it from the bias makes the layer's error zero-mean on the calibration data.
/// </summary>
internal static class BiasCorrection
{
    /// <summary>The per-output-channel mean error, or null when the layer's form is not covered (batched MatMul weights, Gemm transA).</summary>
    public static float[]? Delta(OnnxNode node, QuantLayer layer, OnnxTensor weight, double[] meanX, double[] meanXHat)
    {
        var w = weight.AsSpan<float>();
        var (q, s) = WeightQuantizer.Quantize(w, weight.Shape, layer.Axis);
        var wHat = WeightQuantizer.Dequantize(q, s, weight.Shape, layer.Axis);
        var shape = weight.Shape;
        var delta = new double[layer.Channels];
        switch (layer.Op)
        {
            case "Gemm" when node.GetInt("transA", 0) == 0:
            case "MatMul" when shape.Length == 2:
            {
                bool transB = layer.Op == "Gemm" && node.GetInt("transB", 0) != 0;
                int k = transB ? shape[1] : shape[0], n = layer.Channels;
                if (meanX.Length != k) return null;
                for (int kk = 0; kk < k; kk++)
                {
                    for (int c = 0; c < n; c++)
                    {
                        int i = transB ? c * k + kk : kk * n + c;
                        delta[c] += meanXHat[kk] * wHat[i] - meanX[kk] * w[i];
                    }
                }
                double alpha = layer.Op == "Gemm" ? node.GetFloat("alpha", 1f) : 1;
                for (int c = 0; c < n; c++) delta[c] *= alpha;
                break;
            }
            case "Conv":
            {
                int m = shape[0], perGroup = shape[1], taps = shape.Skip(2).Aggregate(1, (a, b) => a * b);
                int groups = (int)node.GetInt("group", 1);
                if (groups < 1 || m % groups != 0 || meanX.Length != perGroup * groups) return null;
                int outPerGroup = m / groups;
                for (int oc = 0; oc < m; oc++)
                {
                    int firstChannel = oc / outPerGroup * perGroup;
                    for (int ic = 0; ic < perGroup; ic++)
                    {
                        int channel = firstChannel + ic;
                        int start = (oc * perGroup + ic) * taps;
                        for (int t = start; t < start + taps; t++) delta[oc] += meanXHat[channel] * wHat[t] - meanX[channel] * w[t];
                    }
                }
                break;
            }
            default:
                return null;
        }
        return delta.Select(d => (float)d).ToArray();
    }

    /// <summary>The axis of input 0 whose index the weight's input dimension runs over, or null when not covered.</summary>
    public static int? FeatureAxis(OnnxNode node, int inputRank) => node.OpType switch
    {
        "Conv" when inputRank >= 3 => 1,
        "Gemm" when node.GetInt("transA", 0) == 0 && inputRank == 2 => 1,
        "MatMul" when inputRank >= 1 => inputRank - 1,
        _ => null,
    };
}
