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
               modelgen --version

        Optimizes an ONNX model losslessly (constant folding, BatchNormalization folding,
        bias and activation fusion, dead-node elimination, static memory planning) and writes
        <dir>/<Name>.mgspec, <dir>/<Name>.weights and <dir>/<Name>.onnx.
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
            };
            var result = ModelOptimizer.Optimize(options);
            foreach (var w in result.Warnings) Report(stdout, w.File, "warning", w.Code, w.Message);
            stdout.WriteLine(Summary(command, result));
            if (result.Quantization is { } q)
            {
                // One line per model at normal verbosity: what the lossy step did and what it cost.
                stdout.WriteLine($"modelgen: {command.Name}: {q.Mode} weights {q.WeightsBytesBefore:N0} B -> {q.WeightsBytesAfter:N0} B" +
                    (q.Gate is { } g
                        ? $"; accuracy gate passed: {g.Final.Summary}" + (g.Reverted.Count > 0 ? $" after returning {g.Reverted.Count} layer(s) to fp32: {string.Join(", ", g.Reverted)}" : "")
                        : "; no accuracy gate (AllowUngated)"));
            }
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

    /// <summary>One line in MSBuild's canonical error format; newlines in the message are flattened.</summary>
    public static void Report(TextWriter writer, string file, string severity, string code, string message) =>
        writer.WriteLine($"{file}: {severity} {code}: {message.Replace("\r", " ").Replace("\n", " ")}");

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
