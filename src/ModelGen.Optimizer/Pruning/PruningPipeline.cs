using System.Globalization;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Gate;
using ModelGen.Optimizer.LowRank;
using ModelGen.Optimizer.Planning;
using ModelGen.Optimizer.Quantization;
using ModelGen.Optimizer.Recovery;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Pruning;

/// <summary>The pruned (and factorized) model that passed the gate, the plan that ships and the report.</summary>
internal sealed record PruningOutcome(OnnxModel Model, CompiledModel Compiled, PruningReport Report);

/// <summary>
/// The pruning half of the lossy optimizer, run after the lossless passes and before
/// quantization: prune (unstructured, N:M, or whole neurons and filters), factorize, recover
/// accuracy on calibration data without training, check the result against the accuracy gate
/// (the fallback leaves the most sensitive layers whole), and store sparse weights compressed in
/// the plan where the cost model says it is faster. The graph it returns stays dense standard
/// ONNX (smaller where units were removed), so quantization can follow and ONNX Runtime can run it.
/// </summary>
internal static class PruningPipeline
{
    /// <summary>Calibration samples recovery uses when MaxValidationSamples does not say.</summary>
    private const int DefaultCalibrationSamples = 1024;

    /// <summary>Samples used to rank layer sensitivity in the fallback.</summary>
    private const int SensitivitySamples = 256;

    /// <summary>At most this many input rows per layer feed the least-squares statistics (Conv positions are thinned to fit).</summary>
    private const long MaxRecoveryRows = 60000;

    /// <summary>What one application of the settings did, per layer.</summary>
    private sealed class LayerNote
    {
        public string Change = "none";
        public int? Rank;
        public string? Recovery;
        public string? KeptWhole;
    }

    private sealed record Applied(OnnxModel Model, List<string> Changed, Dictionary<string, LayerNote> Notes);

    /// <summary>Runs pruning when <see cref="OptimizeOptions.Pruning"/> asks for it; null otherwise.</summary>
    public static PruningOutcome? Run(OnnxModel model, CompiledModel compiled, OptimizeOptions o, string sourcePath, string sha, List<Diagnostic> warnings)
    {
        var p = o.Pruning;
        if (!p.IsActive) return null;
        var log = o.Log ?? (_ => { });
        double budget = AccuracyBudget.Parse(o.MaxAccuracyDrop);
        if (o.ValidationData is null)
        {
            if (!o.AllowUngated)
            {
                throw new OnnxException(GateErrors.NoValidationData,
                    $"Prune={p.MethodText} LowRank={p.LowRankText} changes the model's results, but no ValidationData was given to check its accuracy; add ValidationData=\"data.npz\" to the OptimizedModel item, or set AllowUngated=\"true\" to build without the check", sourcePath);
            }
            if (!o.Quantize.IsLossy())
            {
                warnings.Add(new Diagnostic(GateErrors.Ungated, sourcePath,
                    $"{o.Name} is built with Prune={p.MethodText} LowRank={p.LowRankText} without an accuracy gate (AllowUngated); its accuracy was not checked. Add ValidationData to check it."));
            }
        }
        string? calibrationPath = o.CalibrationData ?? o.ValidationData;
        var recover = p.Recover ?? (calibrationPath is null ? RecoverMode.None : RecoverMode.Reconstruct);
        if (recover != RecoverMode.None && calibrationPath is null)
        {
            throw new OnnxException(PruneErrors.RecoverWithoutData,
                $"Recover={recover} needs calibration data to measure the layers' outputs; add CalibrationData or ValidationData, or set Recover=\"None\"", sourcePath);
        }
        var calibration = recover == RecoverMode.None ? null : ValidationSet.Load(Path.GetFullPath(calibrationPath!), model.Graph.Inputs);
        int samples = calibration is null ? 0 : Math.Min(calibration.Count, o.MaxValidationSamples ?? DefaultCalibrationSamples);
        bool encode = !o.Quantize.IsLossy();

        var variants = new Dictionary<string, Applied>(StringComparer.Ordinal);
        Applied Variant(IReadOnlySet<string> keepWhole)
        {
            string key = string.Join("\n", keepWhole.Order(StringComparer.Ordinal));
            if (!variants.TryGetValue(key, out var v)) variants[key] = v = Apply(model, p, recover, calibration, samples, sourcePath, keepWhole, log);
            return v;
        }
        (CompiledModel Compiled, Dictionary<string, string> Formats) Plan(Applied a)
        {
            var planModel = GraphCopy.Of(a.Model);
            var formats = encode ? SparseEncoding.Apply(planModel.Graph, p.Method == PruneMethod.NM ? p.N : 0, p.M)
                : new Dictionary<string, string>(StringComparer.Ordinal);
            return (PlanBuilder.Build(planModel, o.Name, sourcePath, sha), formats);
        }

        var empty = new HashSet<string>(StringComparer.Ordinal);
        var all = Variant(empty);
        log($"pruning: changed {all.Changed.Count} layers ({string.Join(", ", all.Changed)})");
        GateResult? gate = null;
        if (o.ValidationData is not null)
        {
            var data = ValidationSet.Load(Path.GetFullPath(o.ValidationData), model.Graph.Inputs);
            var metric = o.Metric ?? Metric.Default(data.Labels is not null);
            using var runner = new ReferenceRunner(sourcePath);
            var reference = AccuracyEvaluator.Compute(data, runner, o.MaxValidationSamples);
            var subset = new ReferenceOutputs(data, reference.Outputs.Take(SensitivitySamples).ToArray(), reference.OutputShape, reference.OutputName);
            EvaluationResult Score(IReadOnlySet<string> keep, ReferenceOutputs on, MetricKind kind)
            {
                using var interpreter = new ModelInterpreter(Plan(Variant(keep)).Compiled);
                return AccuracyEvaluator.Evaluate(on, AccuracyEvaluator.Candidate(interpreter), kind);
            }
            gate = AccuracyGate.Run(all.Changed, keep => Score(keep, reference, metric), keep => Score(keep, subset, MetricKind.Mse).CandidateScore,
                budget, o.MaxAccuracyDrop, o.AccuracyFallback, Path.GetFileName(o.ValidationData), log);
        }
        var final = Variant(gate?.Reverted.ToHashSet(StringComparer.Ordinal) ?? empty);
        var (finalCompiled, finalFormats) = Plan(final);
        if (gate is not null)
        {
            foreach (var name in gate.Reverted) final.Notes[name].KeptWhole = "accuracy fallback: most sensitive layer";
        }
        var report = new PruningReport
        {
            Options = p,
            Recover = recover,
            Layers = Describe(model.Graph, final, finalFormats),
            WeightsBytesBefore = compiled.Spec.WeightsBytes,
            WeightsBytesAfter = finalCompiled.Spec.WeightsBytes,
            Gate = gate,
            CalibrationSamples = samples,
        };
        return new PruningOutcome(final.Model, finalCompiled, report);
    }

    /// <summary>The report of a pruning run, inside a quantization report (one made for it when nothing was quantized).</summary>
    public static QuantizationReport Attach(QuantizationReport? report, PruningOutcome outcome, OptimizeOptions o, long weightsBytesAfter)
    {
        report ??= new QuantizationReport
        {
            Mode = QuantizeMode.None,
            Layers = Array.Empty<LayerReport>(),
            WeightsBytesBefore = outcome.Report.WeightsBytesBefore,
            WeightsBytesAfter = weightsBytesAfter,
            Gate = outcome.Report.Gate,
            BudgetText = o.MaxAccuracyDrop,
            ValidationData = o.ValidationData,
        };
        report.Pruning = outcome.Report;
        return report;
    }

    private static Applied Apply(OnnxModel original, PruneOptions p, RecoverMode recover, ValidationSet? data, int samples, string sourcePath,
        IReadOnlySet<string> keepWhole, Action<string> log)
    {
        var model = GraphCopy.Of(original);
        var g = model.Graph;
        var notes = new Dictionary<string, LayerNote>(StringComparer.Ordinal);
        var changed = new List<string>();
        var masks = new Dictionary<string, bool[]>(StringComparer.Ordinal);
        var keptUnits = new Dictionary<string, int[]>(StringComparer.Ordinal);
        var targets = new HashSet<string>(StringComparer.Ordinal);
        var layers = new List<LayerWeights>();
        foreach (var node in g.Nodes.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul"))
        {
            var note = notes[node.Name] = new LayerNote();
            var layer = LayerWeights.Of(g, node, out var why);
            if (layer is null) note.KeptWhole = why;
            else if (keepWhole.Contains(node.Name)) note.KeptWhole = "accuracy fallback";
            else layers.Add(layer);
        }

        if (p.Method is PruneMethod.Magnitude or PruneMethod.NM)
        {
            var weights = layers.Select(l => l.Read(g)).ToList();
            var chosen = p.Method == PruneMethod.NM
                ? layers.Select((l, i) => MaskSelection.NOfM(weights[i], l.Outputs, l.Inputs, p.N, p.M)).ToArray()
                : p.Scope == PruneScope.Global ? MaskSelection.GlobalMagnitude(weights, p.Sparsity)
                : weights.Select(w => MaskSelection.Magnitude(w, p.Sparsity)).ToArray();
            for (int i = 0; i < layers.Count; i++)
            {
                var w = weights[i];
                for (long k = 0; k < w.LongLength; k++) if (!chosen[i][k]) w[k] = 0;
                layers[i].Write(g, w, layers[i].Outputs, layers[i].InnerShape);
                string name = layers[i].Node.Name;
                masks[name] = chosen[i];
                changed.Add(name);
                targets.Add(name);
                notes[name].Change = p.Method == PruneMethod.NM ? $"{p.N}:{p.M}" : "magnitude";
            }
        }
        else if (p.Method is PruneMethod.Neurons or PruneMethod.Filters)
        {
            string unit = p.Method == PruneMethod.Filters ? "filters" : "neurons";
            var eligible = layers.Where(l => p.Method == PruneMethod.Filters ? l.Op == "Conv" : l.Op != "Conv").ToList();
            var scores = eligible.Select(l => MaskSelection.RowNorms(l.Read(g), l.Outputs, l.Inputs)).ToList();
            var keeps = p.Scope == PruneScope.Global ? MaskSelection.GlobalUnits(scores, p.Sparsity)
                : scores.Select(s => MaskSelection.Units(s, p.Sparsity)).ToArray();
            for (int i = 0; i < eligible.Count; i++)
            {
                var node = eligible[i].Node;
                var layer = LayerWeights.Require(g, node); // fresh: an earlier cut may have changed its inputs
                if (keeps[i].Length == layer.Outputs)
                {
                    notes[node.Name].KeptWhole = "no unit falls under the threshold";
                    continue;
                }
                var absorbed = new List<string>();
                string? why = StructuredPruner.Remove(g, layer, keeps[i], absorbed);
                if (why is not null)
                {
                    notes[node.Name].KeptWhole = why;
                    log($"pruning: {node.Name} left whole: {why}");
                    continue;
                }
                keptUnits[node.Name] = keeps[i];
                changed.Add(node.Name);
                notes[node.Name].Change = $"{unit} {layer.Outputs} -> {keeps[i].Length}";
                foreach (var consumer in absorbed)
                {
                    targets.Add(consumer);
                    if (notes.TryGetValue(consumer, out var cn) && cn.Change == "none") cn.Change = "inputs cut";
                }
            }
        }

        if (p.LowRank)
        {
            foreach (var node in g.Nodes.Where(n => n.OpType is "Gemm" or "MatMul").ToList())
            {
                if (!notes.TryGetValue(node.Name, out var note) || keepWhole.Contains(node.Name) || masks.ContainsKey(node.Name)) continue;
                var layer = LayerWeights.Of(g, node, out _);
                if (layer is null) continue;
                int? rank = LowRankFactorizer.Apply(g, layer, p, out var why);
                if (rank is null)
                {
                    if (note.Change == "none") note.KeptWhole = why;
                    continue;
                }
                note.Rank = rank;
                note.Change = note.Change is "none" or "inputs cut" ? $"rank {rank} of {Math.Min(layer.Outputs, layer.Inputs)}" : $"{note.Change}, rank {rank}";
                if (!changed.Contains(node.Name)) changed.Add(node.Name);
                targets.Add(node.Name);
            }
        }

        if (recover != RecoverMode.None && data is not null && samples > 0 && targets.Count > 0)
        {
            Recover(original, model, targets, masks, keptUnits, notes, recover, data, samples, sourcePath, log);
        }
        LayerWeights.DropUnusedInitializers(g);
        return new Applied(model, changed, notes);
    }

    /// <summary>Recovers each target layer in graph order, each on the model as already recovered before it (so errors do not pile up).</summary>
    private static void Recover(OnnxModel original, OnnxModel model, HashSet<string> targets, Dictionary<string, bool[]> masks,
        Dictionary<string, int[]> keptUnits, Dictionary<string, LayerNote> notes, RecoverMode recover, ValidationSet data, int samples,
        string sourcePath, Action<string> log)
    {
        var g = model.Graph;
        var og = original.Graph;
        var order = g.Nodes.Where(n => targets.Contains(n.Name)).Select(n => n.Name).ToList();
        var originalInputs = order.Select(name => og.Nodes.First(n => n.Name == name).Inputs[0]).Distinct(StringComparer.Ordinal).ToList();
        using var originalCapture = new ActivationCapture(original, originalInputs, sourcePath);
        var c = CultureInfo.InvariantCulture;
        foreach (var name in order)
        {
            var node = g.Nodes.First(n => n.Name == name);
            var originalNode = og.Nodes.First(n => n.Name == name);
            var current = LayerWeights.Require(g, node);
            var source = LayerWeights.Require(og, originalNode);
            var rowsNow = LayerRows.For(g, node, out var why);
            var rowsThen = rowsNow is null ? null : LayerRows.For(og, originalNode, out why);
            var wo = source.Read(og);
            var bo = source.ReadBias(og);
            var w = current.Read(g);
            var b = current.ReadBias(g);
            if (rowsNow is null || rowsThen is null || bo is null || b is null)
            {
                notes[name].Recovery = $"not applied: {why ?? "its bias is not one constant per unit"}";
                continue;
            }
            if (rowsNow.Positions > 0)
            {
                int stride = (int)Math.Max(1, (long)samples * rowsNow.Positions / MaxRecoveryRows + 1);
                rowsNow.PositionStride = rowsThen.PositionStride = stride;
            }
            int[] units = keptUnits.TryGetValue(name, out var kept) ? kept : Enumerable.Range(0, source.Outputs).ToArray();
            var stats = new LayerRecovery(current.Inputs, current.Outputs);
            int valueIndex = originalInputs.IndexOf(originalNode.Inputs[0]);
            var y = new double[units.Length];
            using (var capture = new ActivationCapture(model, [node.Inputs[0]], sourcePath))
            {
                for (int s = 0; s < samples; s++)
                {
                    var inputs = data.Sample(s);
                    var now = capture.Run(inputs)[0];
                    var then = originalCapture.Run(inputs)[valueIndex];
                    using var a = rowsNow.Rows(now).GetEnumerator();
                    using var e = rowsThen.Rows(then).GetEnumerator();
                    while (a.MoveNext() && e.MoveNext())
                    {
                        var xo = e.Current;
                        for (int k = 0; k < units.Length; k++)
                        {
                            long row = (long)units[k] * source.Inputs;
                            double sum = bo[units[k]];
                            for (int i = 0; i < source.Inputs; i++) sum += wo[row + i] * xo[i];
                            y[k] = sum;
                        }
                        stats.Add(a.Current, y);
                    }
                }
            }
            var (before, scale) = stats.Error(w, b);
            bool solved = true;
            if (recover == RecoverMode.Reconstruct) solved = stats.Reconstruct(w, b, masks.GetValueOrDefault(name));
            else stats.CorrectBias(w, b);
            var (after, _) = stats.Error(w, b);
            double rel0 = scale > 0 ? before / scale : before, rel1 = scale > 0 ? after / scale : after;
            if (!solved || !(after <= before))
            {
                notes[name].Recovery = string.Create(c, $"{recover} not kept (error {rel0:G3} -> {rel1:G3})");
                continue;
            }
            current.Write(g, w, current.Outputs, current.InnerShape);
            current.WriteBias(g, b);
            notes[name].Recovery = string.Create(c, $"{recover}: {rel0:G3} -> {rel1:G3}");
            log($"recovery: {name}: {notes[name].Recovery}");
        }
    }

    private static List<PrunedLayerReport> Describe(OnnxGraph before, Applied final, Dictionary<string, string> formats)
    {
        var g = final.Model.Graph;
        var list = new List<PrunedLayerReport>();
        foreach (var node in before.Nodes.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul"))
        {
            var note = final.Notes.GetValueOrDefault(node.Name) ?? new LayerNote();
            var source = LayerWeights.Of(before, node, out _);
            long paramsBefore = source is null ? 0 : (long)source.Outputs * source.Inputs;
            long flopsBefore = source is null ? 0 : source.Flops(before, paramsBefore);
            var now = g.Nodes.FirstOrDefault(n => n.Name == node.Name);
            var layer = now is null ? null : LayerWeights.Of(g, now, out _);
            long paramsAfter = paramsBefore, flopsAfter = flopsBefore, zeros = 0, total = paramsBefore;
            string format = formats.GetValueOrDefault(node.Name, SparseEncoding.Dense);
            if (layer is not null)
            {
                var rows = layer.Read(g);
                long nnz = rows.LongCount(v => v != 0);
                total = rows.LongLength;
                zeros = total - nnz;
                paramsAfter = format == SparseEncoding.Dense ? total : nnz;
                flopsAfter = layer.Flops(g, paramsAfter);
                var lead = g.Nodes.FirstOrDefault(n => n.Name == node.Name + "__lowrank");
                if (lead is not null && LayerWeights.Of(g, lead, out _) is { } first)
                {
                    long leadParams = (long)first.Outputs * first.Inputs;
                    paramsAfter += leadParams;
                    flopsAfter += first.Flops(g, leadParams);
                    total += leadParams;
                }
            }
            list.Add(new PrunedLayerReport(node.Name, node.OpType, note.Change, total == 0 ? 0 : (double)zeros / total, note.Rank,
                paramsBefore, paramsAfter, flopsBefore, flopsAfter, format, note.Recovery, note.Change == "none" ? note.KeptWhole : null));
        }
        return list;
    }
}
