using System.Security.Cryptography;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Batching;
using ModelGen.Optimizer.Devices;
using ModelGen.Optimizer.Fallback;
using ModelGen.Optimizer.Output;
using ModelGen.Optimizer.Passes;
using ModelGen.Optimizer.Planning;
using ModelGen.Optimizer.Pruning;
using ModelGen.Optimizer.Validation;
using ModelGen.Optimizer.Quantization;
using ModelGen.Runtime;

namespace ModelGen.Optimizer;

/// <summary>The outcome of <see cref="ModelOptimizer.Optimize"/>.</summary>
public sealed class OptimizeResult
{
    internal OptimizeResult(CompiledModel compiled, OnnxModel optimized, IReadOnlyList<Diagnostic> warnings,
        IReadOnlyDictionary<string, int> passes, IReadOnlyList<string> files, int originalNodes)
    {
        Compiled = compiled;
        Optimized = optimized;
        Warnings = warnings;
        PassCounts = passes;
        Files = files;
        OriginalNodes = originalNodes;
    }

    internal CompiledModel Compiled { get; }

    /// <summary>The optimized graph (with fused steps).</summary>
    public OnnxModel Optimized { get; }

    /// <summary>Warnings (MG1xxx) that did not stop the build.</summary>
    public IReadOnlyList<Diagnostic> Warnings { get; }

    /// <summary>How many rewrites each pass made.</summary>
    public IReadOnlyDictionary<string, int> PassCounts { get; }

    /// <summary>The files written (empty when no output directory was asked for).</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>What quantization did and what the accuracy gate measured; null when <see cref="OptimizeOptions.Quantize"/> is None.</summary>
    public QuantizationReport? Quantization { get; init; }

    /// <summary>The steps that device backends run on the CPU (empty when every step has a device kernel).</summary>
    public IReadOnlyList<ModelGen.Runtime.Devices.DeviceFallback> DeviceFallbacks { get; init; } = Array.Empty<ModelGen.Runtime.Devices.DeviceFallback>();

    /// <summary>Where the model's ops run, in one line for the build log.</summary>
    public string BackendSummary(string name) => DeviceSupport.Summary(name, Compiled, DeviceFallbacks);

    /// <summary>Node count of the source graph.</summary>
    public int OriginalNodes { get; }

    /// <summary>Steps in the plan.</summary>
    public int Steps => Compiled.Spec.Steps.Count;

    /// <summary>Bytes of the weights blob.</summary>
    public long WeightsBytes => Compiled.Spec.WeightsBytes;

    /// <summary>Bytes of the arena.</summary>
    public long ArenaBytes => Compiled.Spec.ArenaBytes;

    /// <summary>An interpreter over the compiled plan (the caller disposes it).</summary>
    public ModelInterpreter CreateInterpreter() => new(Compiled);
}

/// <summary>
/// The lossless optimizer: load, validate, fold constants, remove identities, fold
/// BatchNormalization, drop dead nodes, fuse bias and activations, plan memory, check that the
/// runtime can run every step, and write the spec, weights and optimized model.
/// </summary>
public static class ModelOptimizer
{
    /// <summary>Warning: a symbolic input dimension was compiled as 1.</summary>
    public const string SymbolicDimensionWarning = "MG1013";

    /// <summary>Optimizes a model; writes outputs when <see cref="OptimizeOptions.OutputDirectory"/> is not empty.</summary>
    /// <exception cref="OnnxException">Bad input, with its MG1xxx code and file.</exception>
    public static OptimizeResult Optimize(OptimizeOptions options)
    {
        string path = Path.GetFullPath(options.ModelPath);
        bool write = options.OutputDirectory.Length > 0;
        if (write) OutputWriter.DeleteStale(options.OutputDirectory, options.Name);
        try
        {
            return Run(options, path, write);
        }
        catch (OnnxException e)
        {
            e.File ??= path;
            throw;
        }
    }

    private static OptimizeResult Run(OptimizeOptions options, string path, bool write)
    {
        if (!File.Exists(path))
        {
            throw new OnnxException(ErrorCodes.FileNotFound, $"the model file '{path}' does not exist. Check the path in <OptimizedModel Include=\"...\" />.", path);
        }
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OnnxException(ErrorCodes.FileNotFound, $"cannot read the model file '{path}': {e.Message}", path, e);
        }
        string sha = Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();
        var model = OnnxLoader.Load(bytes, Path.GetDirectoryName(path), path);
        int originalNodes = model.Graph.Nodes.Count;
        var warnings = new List<Diagnostic>();
        Validate(model, path);

        var uncompiled = OpSupport.Uncompiled(model.Graph);
        if (uncompiled.Count > 0) return FallBack(options, bytes, path, sha, write, warnings, uncompiled, originalNodes, null);

        bool batched = options.MaxBatch > 0 && BatchDimension.IsSymbolic(model);
        string batchParam = BatchDimension.Param(model);
        FixSymbolicInputs(model, path, warnings, batched);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        RunLosslessPasses(model, new PassContext(path, options.Log), counts, FusesResiduals(options));
        // A batch-polymorphic plan is rescaled per batch size, which a Concat's views cannot follow.
        var compiled = PlanBuilder.Build(model, options.Name, path, sha, elideConcats: !batched);
        if (RuntimeRefusal(compiled) is { } refusal)
        {
            var node = new UncompiledNode(refusal.Op, "", refusal.Step, refusal.Message);
            return FallBack(options, bytes, path, sha, write, warnings, [node], originalNodes, refusal.Exception);
        }
        var batchVerdict = batched ? CompileAtBatchTwo(bytes, path, model, FusesResiduals(options)) : null;

        // Pruning and factorization (lossy, gated) come before quantization: prune, factorize, then quantize.
        var pruning = PruningPipeline.Run(model, compiled, options, path, sha, warnings);
        if (pruning is not null)
        {
            (model, compiled) = (pruning.Model, pruning.Compiled);
            CheckRuntimeSupport(compiled, path);
        }
        QuantizationReport? report = null;
        if (options.Quantize.IsLossy())
        {
            // After the lossless passes, before writing: a failed gate leaves nothing behind.
            var outcome = QuantizationPipeline.Run(model, compiled, options, path, sha, warnings);
            (model, compiled, report) = (outcome.Model, outcome.Compiled, outcome.Report);
            CheckRuntimeSupport(compiled, path);
        }
        if (pruning is not null) report = PruningPipeline.Attach(report, pruning, options, compiled.Spec.WeightsBytes);
        if (batchVerdict is not null) compiled = ApplyBatch(compiled, model, batchVerdict, options.MaxBatch, path, warnings);
        var deviceFallbacks = DeviceSupport.Fallbacks(compiled);
        if (DeviceSupport.Warning(options.Backend, deviceFallbacks, path) is { } deviceWarning) warnings.Add(deviceWarning);
        var files = write
            ? OutputWriter.Write(options.OutputDirectory, options.Name, compiled.Spec, compiled.Weights,
                BatchAnalysis.ForOutput(model, compiled.Spec, batchParam), report, path, options.ReportPath)
            : Array.Empty<string>();
        if (!write && report is not null && options.ReportPath is not null)
        {
            files = OutputWriter.WriteReport(options.ReportPath, report, options.Name, path);
        }
        return new OptimizeResult(compiled, model, warnings, counts, files, originalNodes) { Quantization = report, DeviceFallbacks = deviceFallbacks };
    }

    /// <summary>
    /// Whether Conv → Add residuals are fused: not when quantization or pruning follows, whose rewriters work on
    /// ONNX Conv's own inputs (the residual Add stays a step of its own there).
    /// </summary>
    private static bool FusesResiduals(OptimizeOptions options) => !options.Quantize.IsLossy() && !options.Pruning.IsActive;

    /// <summary>The lossless pipeline: fold, simplify, fuse. Shapes are inferred where the passes need them.</summary>
    private static void RunLosslessPasses(OnnxModel model, PassContext context, Dictionary<string, int> counts, bool fuseResiduals)
    {
        ShapeInference.Run(model);
        RunPass(new ConstantFolding(), model, context, counts);
        RunPass(new IdentityElimination(), model, context, counts);
        RunPass(new BatchNormFolding(), model, context, counts);
        RunPass(new DeadNodeElimination(), model, context, counts);
        // Shapes of every remaining value are final now; fusion only removes values.
        model.Graph.ValueInfo.Clear();
        ShapeInference.Run(model);
        RunPass(new ActivationFusion(fuseResiduals), model, context, counts);
        RunPass(new DeadNodeElimination(), model, context, counts);
    }

    /// <summary>
    /// Compiles the source again with the batch at 2 and compares it with the batch-1 graph
    /// (<see cref="BatchAnalysis"/>), which decides how <c>Predict(batchSize, ...)</c> runs.
    /// </summary>
    private static BatchVerdict CompileAtBatchTwo(byte[] bytes, string path, OnnxModel atOne, bool fuseResiduals)
    {
        var twin = OnnxLoader.Load(bytes, Path.GetDirectoryName(path), path);
        try
        {
            BatchDimension.Fix(twin, 2);
            FixSymbolicInputs(twin, path, warnings: null, batched: false);
            RunLosslessPasses(twin, new PassContext(path, null), new Dictionary<string, int>(StringComparer.Ordinal), fuseResiduals);
        }
        catch (OnnxException e)
        {
            return BatchAnalysis.Compare(atOne, null, e.Message);
        }
        return BatchAnalysis.Compare(atOne, twin, null);
    }

    private static CompiledModel ApplyBatch(CompiledModel compiled, OnnxModel final, BatchVerdict verdict, int maxBatch, string path, List<Diagnostic> warnings)
    {
        if (verdict.Mode == BatchMode.Polymorphic)
        {
            try
            {
                return BatchAnalysis.Apply(compiled, final, verdict, maxBatch);
            }
            catch (Exception e) when (e is InvalidOperationException or OnnxException)
            {
                verdict = new BatchVerdict(BatchMode.PerSample, e.Message);
            }
        }
        string what = verdict.Mode == BatchMode.PerSample
            ? $"Predict(batchSize, ...) runs the batch one sample at a time, because {verdict.Reason}."
            : $"no Predict(batchSize, ...) is generated and the batch is compiled as 1, because {verdict.Reason}.";
        warnings.Add(new Diagnostic(ErrorCodes.BatchNotPolymorphic, path, "the model's first input dimension is a symbolic batch, but " + what));
        return BatchAnalysis.Apply(compiled, final, verdict, maxBatch);
    }

    /// <summary>
    /// The model holds ops ModelGen cannot run: fail with MG1004 under <c>Fallback="Error"</c>, else
    /// warn with MG1017 and compile it for ONNX Runtime (<see cref="OnnxRuntimeFallback"/>).
    /// </summary>
    private static OptimizeResult FallBack(
        OptimizeOptions options, byte[] bytes, string path, string sha, bool write, List<Diagnostic> warnings,
        IReadOnlyList<UncompiledNode> nodes, int originalNodes, Exception? cause)
    {
        string list = OpSupport.Describe(nodes);
        if (options.Fallback == FallbackMode.Error)
        {
            throw new OnnxException(ErrorCodes.UnsupportedOp,
                $"ModelGen cannot compile {list}{(cause is null ? "" : $": {cause.Message}")}. Fallback=\"Error\" is set; remove it (the default, " +
                "Fallback=\"OnnxRuntime\", builds a predictor that runs this model through ONNX Runtime) or replace the op in the model.", path, cause);
        }
        warnings.Add(new Diagnostic(ErrorCodes.OnnxRuntimeFallback, path,
            $"ModelGen does not compile {list}{(cause is null ? "" : $" ({cause.Message})")}; the predictor keeps its typed API and runs this model " +
            "through ONNX Runtime. Set Fallback=\"Error\" to fail instead."));
        if (options.Quantize.IsLossy())
        {
            warnings.Add(new Diagnostic(ErrorCodes.LossyIgnoredOnFallback, path,
                $"Quantize=\"{options.Quantize}\" is ignored: ONNX Runtime runs this model as it is, in full precision."));
        }
        if (options.Pruning.IsActive)
        {
            warnings.Add(new Diagnostic(ErrorCodes.LossyIgnoredOnFallback, path,
                "Prune and LowRank are ignored: ONNX Runtime runs this model as it is, with every weight."));
        }
        // A fresh load: the fallback keeps the model as given, symbolic dimensions included.
        var model = OnnxLoader.Load(bytes, Path.GetDirectoryName(path), path);
        var compiled = OnnxRuntimeFallback.Build(model, options.Name, path, sha, options.MaxBatch, warnings);
        var files = write
            ? OutputWriter.Write(options.OutputDirectory, options.Name, compiled.Spec, compiled.Weights, model, null, path, options.ReportPath)
            : Array.Empty<string>();
        return new OptimizeResult(compiled, model, warnings, new Dictionary<string, int>(), files, originalNodes);
    }

    private static void RunPass(IGraphPass pass, OnnxModel model, PassContext context, Dictionary<string, int> counts)
    {
        counts[pass.Name] = counts.GetValueOrDefault(pass.Name) + pass.Run(model, context);
    }

    /// <summary>Structural checks the passes rely on, reported as bad input rather than crashes.</summary>
    private static void Validate(OnnxModel model, string path)
    {
        var graph = model.Graph;
        OpsetSupport.Check(model, path);
        RequiredAttributes.Check(model, path);
        if (graph.Outputs.Count == 0)
        {
            throw new OnnxException(ErrorCodes.InvalidGraph, "the graph has no outputs, so there is nothing to compute.", path);
        }
        var produced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            foreach (var o in node.Outputs.Where(o => o.Length > 0))
            {
                if (!produced.Add(o) || graph.Initializers.ContainsKey(o) || graph.Inputs.Any(i => i.Name == o))
                {
                    throw new OnnxException(ErrorCodes.InvalidGraph, $"value '{o}' is defined more than once (again by node '{node.Name}').", path);
                }
            }
        }
        foreach (var input in graph.Inputs)
        {
            if (!Enum.IsDefined(input.Type))
            {
                throw new OnnxException(ErrorCodes.UnsupportedType, $"input '{input.Name}' has element type {input.Type}, which ModelGen does not support.", path);
            }
        }
    }

    /// <summary>
    /// Symbolic dimensions of graph inputs are compiled as 1, since the plan is static: silently for
    /// the batch dimension when the batch is <paramref name="batched"/> (the plan serves every batch
    /// size then), with warning MG1013 for any other.
    /// </summary>
    private static void FixSymbolicInputs(OnnxModel model, string path, List<Diagnostic>? warnings, bool batched)
    {
        foreach (var input in model.Graph.Inputs)
        {
            if (input.Shape is null)
            {
                throw new OnnxException(ErrorCodes.DynamicShape,
                    $"input '{input.Name}' has no shape; ModelGen needs the rank and size of every input. Export the model with input shapes.", path);
            }
            for (int d = 0; d < input.Shape.Length; d++)
            {
                if (input.Shape[d].IsKnown) continue;
                string label = input.Shape[d].Param ?? "?";
                if (!(batched && BatchDimension.IsBatch(input, d))) warnings?.Add(new Diagnostic(SymbolicDimensionWarning, path,
                    $"input '{input.Name}' dimension {d} is symbolic ('{label}'); the predictor is compiled for size 1 there."));
                input.Shape[d] = Dim.Of(1);
            }
        }
    }

    /// <summary>Why the runtime refuses a compiled step (an attribute its kernel lacks, say), or null when it runs them all.</summary>
    private static (string Op, string Step, string Message, Exception Exception)? RuntimeRefusal(CompiledModel compiled)
    {
        try
        {
            using var interpreter = new ModelInterpreter(compiled);
            return null;
        }
        catch (ModelGenException e)
        {
            var step = compiled.Spec.Steps.FirstOrDefault(s => e.Message.Contains($"'{s.Name}'", StringComparison.Ordinal));
            return (step?.Op ?? "?", step?.Name ?? "?", e.Message, e);
        }
    }

    /// <summary>Binds every step's kernel once, so an op or attribute the runtime lacks fails the build, not the app.</summary>
    private static void CheckRuntimeSupport(CompiledModel compiled, string path)
    {
        try
        {
            using var interpreter = new ModelInterpreter(compiled);
        }
        catch (ModelGenException e)
        {
            throw new OnnxException(ErrorCodes.UnsupportedOp, e.Message, path, e);
        }
    }
}
