using System.Diagnostics;
using System.Globalization;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Gate;
using ModelGen.Optimizer.Planning;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Quantization;

/// <summary>The quantized model that passed the gate (or was built ungated), its plan and the report.</summary>
internal sealed record QuantizationOutcome(OnnxModel Model, CompiledModel Compiled, QuantizationReport Report);

/// <summary>
/// The lossy half of the optimizer: checks the options, calibrates on the fp32 plan, rewrites the
/// chosen layers, drops those the runtime cannot bind, and runs the accuracy gate (reference:
/// ONNX Runtime on the original model; candidate: our executor on the plan that ships).
/// </summary>
internal static class QuantizationPipeline
{
    /// <summary>Samples used to rank layer sensitivity in the fallback (a subset: ranking needs a signal, not the full score).</summary>
    private const int SensitivitySamples = 256;

    public static QuantizationOutcome Run(OnnxModel fp32, CompiledModel fp32Compiled, OptimizeOptions o, string sourcePath, string sha,
        List<Diagnostic> warnings)
    {
        var log = o.Log ?? (_ => { });
        double budget = AccuracyBudget.Parse(o.MaxAccuracyDrop);
        if (o.Calibration == CalibrationMethod.Percentile && (o.CalibrationPercentile is <= 50 or > 100 || double.IsNaN(o.CalibrationPercentile)))
        {
            throw new OnnxException(GateErrors.BadQuantizationOption,
                string.Create(CultureInfo.InvariantCulture, $"CalibrationPercentile {o.CalibrationPercentile} is out of range; give a percentile in (50, 100], e.g. 99.99"), sourcePath);
        }
        if (o.MaxValidationSamples is < 1)
        {
            throw new OnnxException(GateErrors.BadQuantizationOption, $"MaxValidationSamples {o.MaxValidationSamples} must be at least 1", sourcePath);
        }
        if (o.ValidationData is null)
        {
            if (!o.AllowUngated)
            {
                throw new OnnxException(GateErrors.NoValidationData,
                    $"Quantize={o.Quantize} changes the model's results, but no ValidationData was given to check its accuracy; add ValidationData=\"data.npz\" (or a folder of test_data_set_*) to the OptimizedModel item, or set AllowUngated=\"true\" to build without the check", sourcePath);
            }
            warnings.Add(new Diagnostic(GateErrors.Ungated, sourcePath,
                $"{o.Name} is built with Quantize={o.Quantize} without an accuracy gate (AllowUngated); its accuracy was not checked. Add ValidationData to check it."));
        }
        string? calibrationPath = o.CalibrationData ?? o.ValidationData;
        if (o.Quantize == QuantizeMode.Int8 && calibrationPath is null)
        {
            throw new OnnxException(GateErrors.NoCalibrationData,
                "Quantize=Int8 (static) needs calibration data to choose activation ranges; add CalibrationData or ValidationData, or use Quantize=Int8Dynamic or Int8Weights", sourcePath);
        }

        var layers = QuantLayer.Find(fp32.Graph);
        var calibration = new Dictionary<string, LayerCalibration>(StringComparer.Ordinal);
        var timer = Stopwatch.StartNew();
        int calibrationSamples = 0;
        if (o.Quantize.IsInt8() && calibrationPath is not null && layers.Count > 0)
        {
            var calibrationSet = ValidationSet.Load(Resolve(calibrationPath), fp32.Graph.Inputs);
            calibrationSamples = Math.Min(calibrationSet.Count, o.MaxValidationSamples ?? int.MaxValue);
            calibration = Calibrator.Run(fp32, layers, calibrationSet, calibrationSamples, o.Quantize, o.Calibration, o.CalibrationPercentile,
                biasCorrection: true, sourcePath);
            log($"calibrated {layers.Count} layers on {calibrationSamples} samples in {timer.Elapsed.TotalSeconds:F2} s");
        }
        var calibrationTime = timer.Elapsed;

        // Layers the runtime cannot bind quantized stay fp32 (found by binding, as the build check does).
        var unsupported = new Dictionary<string, string>(StringComparer.Ordinal);
        var all = layers.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        if (BindError(Build(fp32, o, all, calibration, sourcePath, sha).Compiled) is not null)
        {
            foreach (var l in layers)
            {
                var one = new HashSet<string>(StringComparer.Ordinal) { l.Name };
                if (BindError(Build(fp32, o, one, calibration, sourcePath, sha).Compiled) is { } why) unsupported[l.Name] = why;
            }
        }
        var candidates = layers.Where(l => !unsupported.ContainsKey(l.Name)).Select(l => l.Name).ToList();

        (OnnxModel Model, CompiledModel Compiled, Dictionary<string, string> Notes) Variant(IReadOnlySet<string> keepFp32) =>
            Build(fp32, o, candidates.Where(c => !keepFp32.Contains(c)).ToHashSet(StringComparer.Ordinal), calibration, sourcePath, sha);

        GateResult? gate = null;
        timer.Restart();
        if (o.ValidationData is not null)
        {
            var data = ValidationSet.Load(Resolve(o.ValidationData), fp32.Graph.Inputs);
            var metric = o.Metric ?? Metric.Default(data.Labels is not null);
            using var runner = new ReferenceRunner(sourcePath);
            var reference = AccuracyEvaluator.Compute(data, runner, o.MaxValidationSamples);
            var subset = new ReferenceOutputs(data, reference.Outputs.Take(SensitivitySamples).ToArray(), reference.OutputShape, reference.OutputName);
            EvaluationResult Score(IReadOnlySet<string> keep, ReferenceOutputs on, MetricKind kind)
            {
                using var interpreter = new ModelInterpreter(Variant(keep).Compiled);
                return AccuracyEvaluator.Evaluate(on, AccuracyEvaluator.Candidate(interpreter), kind);
            }
            gate = AccuracyGate.Run(candidates, keep => Score(keep, reference, metric), keep => Score(keep, subset, MetricKind.Mse).CandidateScore,
                budget, o.MaxAccuracyDrop, o.AccuracyFallback, Path.GetFileName(o.ValidationData), log);
        }
        var evaluationTime = timer.Elapsed;

        var reverted = gate?.Reverted.ToHashSet(StringComparer.Ordinal) ?? new HashSet<string>(StringComparer.Ordinal);
        var final = Variant(reverted);
        var report = new QuantizationReport
        {
            Mode = o.Quantize,
            Calibration = o.Quantize == QuantizeMode.Int8 ? o.Calibration : null,
            Percentile = o.Quantize == QuantizeMode.Int8 && o.Calibration == CalibrationMethod.Percentile ? o.CalibrationPercentile : null,
            Layers = layers.Select(l => Describe(l, fp32, final.Model, calibration, unsupported, reverted, final.Notes, o.Quantize)).ToList(),
            WeightsBytesBefore = fp32Compiled.Spec.WeightsBytes,
            WeightsBytesAfter = final.Compiled.Spec.WeightsBytes,
            Gate = gate,
            BudgetText = o.MaxAccuracyDrop,
            ValidationData = o.ValidationData,
            CalibrationData = calibrationPath,
            CalibrationSamples = calibrationSamples,
            CalibrationTime = calibrationTime,
            EvaluationTime = evaluationTime,
        };
        return new QuantizationOutcome(final.Model, final.Compiled, report);
    }

    private static string Resolve(string path) => Path.GetFullPath(path);

    private static (OnnxModel Model, CompiledModel Compiled, Dictionary<string, string> Notes) Build(OnnxModel fp32, OptimizeOptions o,
        IReadOnlySet<string> quantize, IReadOnlyDictionary<string, LayerCalibration> calibration, string sourcePath, string sha)
    {
        var model = GraphCopy.Of(fp32);
        var notes = QuantizationRewriter.Apply(model, o.Quantize, quantize, calibration);
        return (model, PlanBuilder.Build(model, o.Name, sourcePath, sha), notes);
    }

    private static string? BindError(CompiledModel compiled)
    {
        try
        {
            using var interpreter = new ModelInterpreter(compiled);
            return null;
        }
        catch (ModelGenException e)
        {
            return "the runtime cannot run it quantized: " + e.Message;
        }
    }

    private static LayerReport Describe(QuantLayer l, OnnxModel fp32, OnnxModel final, IReadOnlyDictionary<string, LayerCalibration> calibration,
        IReadOnlyDictionary<string, string> unsupported, IReadOnlySet<string> reverted, IReadOnlyDictionary<string, string> notes, QuantizeMode mode)
    {
        var node = final.Graph.Nodes.First(n => n.Name == l.Name);
        string after = final.Graph.Initializers.TryGetValue(node.Inputs[1], out var w) ? w.Type.ToOnnxName() : "?";
        string? kept = unsupported.TryGetValue(l.Name, out var why) ? why
            : reverted.Contains(l.Name) ? "accuracy fallback: most sensitive layer"
            : after == "float" ? "weight shared with a layer kept in fp32, or too small" : null;
        string? activation = null;
        if (kept is null && node.GetString(QuantizationRewriter.Quant, "") == "static" && calibration.TryGetValue(l.Name, out var cal) && cal.Activation is { } a)
        {
            activation = string.Create(CultureInfo.InvariantCulture, $"u8 [{cal.Low:G4}, {cal.High:G4}] scale {a.Scale:G4} zp {a.ZeroPoint}");
        }
        else if (kept is null && node.GetString(QuantizationRewriter.Quant, "") == "dynamic")
        {
            activation = "u8, range per call";
        }
        bool corrected = kept is null && mode.IsInt8() && calibration.TryGetValue(l.Name, out var c2) && c2.BiasDelta is not null && !notes.ContainsKey(l.Name);
        return new LayerReport(l.Name, l.Op, fp32.Graph.Initializers[l.Weight].Type.ToOnnxName(), after, activation, kept, corrected);
    }
}
