using System.Globalization;
using ModelGen.Onnx;
using ModelGen.Optimizer;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Quantization;

namespace ModelGen.Cli;

/// <summary>
/// The `modelgen` command. Problems are printed in MSBuild's canonical format
/// (<c>file: error MG1xxx: message</c>), which the build task turns into build errors; a stack
/// trace is printed only with --verbose. Exit codes: 0 success, 1 bad input, 2 internal error.
/// </summary>
public static class CliApp
{
    public const int Success = 0;
    public const int BadInput = 1;
    public const int InternalError = 2;

    public const string Usage =
        """
        usage: modelgen optimize <model.onnx> --out <dir> [--name <Name>] [--verbose]
                   [--quantize None|Fp16|Int8|Int8Dynamic|Int8Weights] [--validation-data <npz>] ...
                   [--fallback OnnxRuntime|Error] [--max-batch <N>] [--backend Auto|Cpu|Cuda|OpenCL|IlgpuCpu]
               modelgen inspect <model.onnx>
               modelgen --version

        Optimizes an ONNX model losslessly (constant folding, BatchNormalization folding,
        bias and activation fusion, dead-node elimination, static memory planning) and writes
        <dir>/<Name>.mgspec, <dir>/<Name>.weights and <dir>/<Name>.onnx.
        'inspect' lists each op of a model and whether ModelGen compiles it or ONNX Runtime runs it.
        Lossy options: --quantize, --calibration, --calibration-percentile, --calibration-data,
        --validation-data, --metric, --max-accuracy-drop, --accuracy-fallback, --allow-ungated,
        --prune None|Magnitude|Neurons|Filters|N:M, --sparsity <fraction>, --prune-scope Layer|Global,
        --low-rank None|<fraction>|Energy:<fraction>, --recover None|BiasCorrection|Reconstruct.
        Arguments may also come from a response file: modelgen @args.rsp (one per line).
        """;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        CommandLine command;
        try
        {
            command = CommandLine.Parse(ResponseFiles.Expand(args));
        }
        catch (OnnxException e)
        {
            Report(stderr, e.File ?? "modelgen", "error", e.Code, e.Message);
            stderr.WriteLine(Usage);
            return BadInput;
        }

        if (command.Help)
        {
            stdout.WriteLine(Usage);
            return Success;
        }
        if (command.Version)
        {
            stdout.WriteLine(typeof(CliApp).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
            return Success;
        }

        if (command.Command == "inspect") return Inspect(command, stdout, stderr);
        try
        {
            var options = new OptimizeOptions(command.ModelPath!, command.OutputDirectory!, command.Name!)
            {
                Log = command.Verbose ? stdout.WriteLine : null,
                Quantize = Enum.Parse<QuantizeMode>(command.Quantize),
                Calibration = Enum.Parse<CalibrationMethod>(command.Calibration),
                CalibrationPercentile = command.CalibrationPercentile,
                CalibrationData = command.CalibrationData,
                ValidationData = command.ValidationData,
                Metric = command.Metric is null ? null : Enum.Parse<MetricKind>(command.Metric),
                MaxAccuracyDrop = command.MaxAccuracyDrop,
                AccuracyFallback = command.AccuracyFallback,
                AllowUngated = command.AllowUngated,
                Fallback = Enum.Parse<FallbackMode>(command.Fallback),
                MaxBatch = command.MaxBatch,
                Backend = Enum.Parse<Backend>(command.Backend),
                Pruning = Optimizer.Pruning.PruneOptions.Parse(command.Prune, command.Sparsity, command.PruneScope, command.LowRank, command.Recover,
                    Path.GetFullPath(command.ModelPath!)),
            };
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var result = ModelOptimizer.Optimize(options);
            foreach (var w in result.Warnings) Report(stdout, w.File, "warning", w.Code, w.Message);
            stdout.WriteLine(Summary(command, result));
            stdout.WriteLine(result.BackendSummary(command.Name!));
            if (result.Quantization is { } q) stdout.WriteLine(LossySummary(command.Name!, q, clock.Elapsed));
            return Success;
        }
        catch (OnnxException e)
        {
            Report(stderr, e.File ?? command.ModelPath!, "error", e.Code, e.Message);
            if (command.Verbose) stderr.WriteLine(e);
            return BadInput;
        }
        catch (Exception e)
        {
            Report(stderr, command.ModelPath!, "error", ErrorCodes.InternalError,
                $"internal error in ModelGen ({e.GetType().Name}: {e.Message}). This is a bug: please report it with the model, " +
                "or run the command printed above with --verbose for details.");
            if (command.Verbose) stderr.WriteLine(e);
            return InternalError;
        }
    }

    private static int Inspect(CommandLine command, TextWriter stdout, TextWriter stderr)
    {
        try
        {
            stdout.Write(ModelGen.Optimizer.Inspection.ModelInspector.Inspect(command.ModelPath!, command.MaxBatch));
            return Success;
        }
        catch (OnnxException e)
        {
            Report(stderr, e.File ?? command.ModelPath!, "error", e.Code, e.Message);
            return BadInput;
        }
    }

    /// <summary>One line in MSBuild's canonical error format; newlines in the message are flattened.</summary>
    public static void Report(TextWriter writer, string file, string severity, string code, string message) =>
        writer.WriteLine($"{file}: {severity} {code}: {message.Replace("\r", " ").Replace("\n", " ")}");

    /// <summary>
    /// The one line per lossy model that a CI log shows at normal verbosity, e.g.
    /// <c>ModelGen: Digits 0.41 MB -> 0.10 MB (Int8), Top1 96.30% -> 96.30% (drop 0.00 pp) on 1000 samples, limit 0.50 pp, 0 layers fp32, 3.4 s</c>.
    /// </summary>
    internal static string LossySummary(string name, QuantizationReport q, TimeSpan elapsed)
    {
        var inv = CultureInfo.InvariantCulture;
        string size = $"{(q.WeightsBytesBefore / 1048576.0).ToString("F2", inv)} MB -> {(q.WeightsBytesAfter / 1048576.0).ToString("F2", inv)} MB ({q.Mode})";
        string gate;
        if (q.Gate is { } g)
        {
            string limit = g.Final.Metric is MetricKind.Top1 or MetricKind.Agreement
                ? (g.Budget * 100).ToString("F2", inv) + " pp"
                : g.Budget.ToString("G3", inv);
            gate = $"{g.Final.Summary}, limit {limit}, {g.Reverted.Count} layer{(g.Reverted.Count == 1 ? "" : "s")} fp32";
        }
        else
        {
            gate = "no accuracy gate (AllowUngated)";
        }
        return $"ModelGen: {name} {size}, {gate}, {elapsed.TotalSeconds.ToString("F1", inv)} s";
    }

    private static string Summary(CommandLine command, OptimizeResult r)
    {
        var passes = string.Join(", ", r.PassCounts.Where(p => p.Value > 0).Select(p => $"{p.Key} {p.Value}"));
        var inv = CultureInfo.InvariantCulture;
        return $"modelgen: {Path.GetFileName(command.ModelPath)} -> {command.Name}: {r.OriginalNodes} nodes -> {r.Steps} steps; " +
            $"weights {r.WeightsBytes.ToString("N0", inv)} B, arena {r.ArenaBytes.ToString("N0", inv)} B" +
            (passes.Length > 0 ? $" ({passes})" : "") +
            $"; wrote {string.Join(", ", r.Files.Select(Path.GetFileName))}";
    }
}
