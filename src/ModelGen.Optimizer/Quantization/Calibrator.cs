using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Planning;

namespace ModelGen.Optimizer.Quantization;

/// <summary>
/// Runs the fp32 plan with the runtime's executor over the calibration samples and collects, for
/// the input of every quantizable layer, its range and histogram (static int8) and the
/// per-feature means that bias correction needs. The layer inputs are made extra graph outputs
/// of a calibration-only plan, so the memory planner cannot reuse their memory before they are
/// read.
/// </summary>
internal static class Calibrator
{
    public static Dictionary<string, LayerCalibration> Run(OnnxModel fp32, IReadOnlyList<QuantLayer> layers, ValidationSet data, int samples,
        QuantizeMode mode, CalibrationMethod method, double percentile, bool biasCorrection, string sourcePath)
    {
        var model = GraphCopy.Of(fp32);
        var graph = model.Graph;
        var inputNames = graph.Inputs.Select(i => i.Name).ToList();
        var tracked = layers.Select(l => l.Input).Distinct(StringComparer.Ordinal).ToList();
        foreach (var value in tracked)
        {
            if (inputNames.Contains(value) || graph.Outputs.Any(o => o.Name == value)) continue;
            var info = graph.Info(value) ?? throw new InvalidOperationException($"value '{value}' has no shape");
            graph.Outputs.Add(info);
        }
        var outputIndex = graph.Outputs.Select((o, i) => (o.Name, i)).GroupBy(p => p.Name).ToDictionary(g => g.Key, g => g.First().i, StringComparer.Ordinal);
        var compiled = PlanBuilder.Build(model, "Calibration", sourcePath, "");
        using var interpreter = new ModelInterpreter(compiled);

        var histograms = tracked.ToDictionary(v => v, _ => new ActivationHistogram(), StringComparer.Ordinal);
        var shapes = tracked.ToDictionary(v => v, v => graph.Info(v)!.StaticShape(), StringComparer.Ordinal);
        var nodes = layers.ToDictionary(l => l.Name, l => graph.Nodes.First(n => n.Name == l.Name), StringComparer.Ordinal);
        // Per layer input: the feature axis, the mean of x and the mean of x as the kernel sees it (x̂).
        var axes = new Dictionary<string, int>(StringComparer.Ordinal);
        if (biasCorrection)
        {
            foreach (var l in layers)
            {
                if (BiasCorrection.FeatureAxis(nodes[l.Name], shapes[l.Input].Length) is int axis) axes.TryAdd(l.Input, axis);
            }
        }
        var meanX = axes.ToDictionary(kv => kv.Key, kv => new FeatureMeans(shapes[kv.Key], kv.Value), StringComparer.Ordinal);
        var meanXHat = axes.ToDictionary(kv => kv.Key, kv => new FeatureMeans(shapes[kv.Key], kv.Value), StringComparer.Ordinal);

        void ForEachSample(Action<string, float[]> visit)
        {
            for (int s = 0; s < samples; s++)
            {
                var inputs = data.Sample(s);
                var outputs = interpreter.Run(inputs);
                foreach (var value in tracked)
                {
                    int i = inputNames.IndexOf(value);
                    var t = i >= 0 ? inputs[i] : outputs[outputIndex[value]];
                    visit(value, ElementConversion.ToFloats(t.Type, t.Data));
                }
            }
        }

        // Pass 1: ranges; the means of x; for dynamic int8 the means of x̂ with each call's own range.
        ForEachSample((value, x) =>
        {
            histograms[value].ObserveRange(x);
            if (!meanX.TryGetValue(value, out var mx)) return;
            mx.Add(x);
            if (mode == QuantizeMode.Int8Dynamic)
            {
                float min = float.PositiveInfinity, max = float.NegativeInfinity;
                foreach (float v in x) { min = Math.Min(min, v); max = Math.Max(max, v); }
                var q = ActivationQuantization.FromRange(min, max);
                meanXHat[value].Add(x, q.FakeQuantize);
            }
        });
        foreach (var (value, h) in histograms)
        {
            if (h.NonFinite > 0)
            {
                throw new ModelGen.Onnx.OnnxException(EvaluationErrors.DataMismatch,
                    $"calibration: activation '{value}' took {h.NonFinite} NaN or infinite values on the calibration data; check the data for NaN or out-of-range values", data.Path);
            }
        }
        // Pass 2: histograms for the methods that clip.
        var ranges = new Dictionary<string, (float, float)>(StringComparer.Ordinal);
        if (mode == QuantizeMode.Int8)
        {
            if (method != CalibrationMethod.MinMax) ForEachSample((value, x) => histograms[value].ObserveHistogram(x));
            foreach (var (value, h) in histograms) ranges[value] = RangeCalibration.Choose(h, method, percentile);
        }
        var quant = ranges.ToDictionary(kv => kv.Key, kv => ActivationQuantization.FromRange(kv.Value.Item1, kv.Value.Item2), StringComparer.Ordinal);
        // Pass 3 (static): the means of x̂ with the calibrated grid.
        if (mode == QuantizeMode.Int8 && meanXHat.Count > 0)
        {
            ForEachSample((value, x) =>
            {
                if (meanXHat.TryGetValue(value, out var m)) m.Add(x, quant[value].FakeQuantize);
            });
        }

        var result = new Dictionary<string, LayerCalibration>(StringComparer.Ordinal);
        foreach (var l in layers)
        {
            var h = histograms[l.Input];
            var (lo, hi) = ranges.TryGetValue(l.Input, out var r) ? r : (h.Min, h.Max);
            float[]? delta = null;
            if (meanX.TryGetValue(l.Input, out var mx))
            {
                var x = mx.Means();
                var xHat = mode == QuantizeMode.Int8Weights ? x : meanXHat[l.Input].Means();
                delta = BiasCorrection.Delta(nodes[l.Name], l, fp32.Graph.Initializers[l.Weight], x, xHat);
            }
            result[l.Name] = new LayerCalibration(lo, hi, mode == QuantizeMode.Int8 ? quant[l.Input] : null, delta);
        }
        return result;
    }
}
