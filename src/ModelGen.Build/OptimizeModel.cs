using System;
using System.Collections.Generic;
using System.IO;
using System.Text;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace ModelGen.Build
{
    /// <summary>
    /// Runs <c>dotnet modelgen.dll @rsp</c> (the <c>optimize</c> command) for one
    /// <c>OptimizedModel</c> item, out of process so that the build host never loads ONNX
    /// parsing or native code. The tool's canonical-format output lines become MSBuild errors
    /// and warnings with file, line and code.
    /// </summary>
    public class OptimizeModel : ToolTask
    {
        private const string GenericFailureCode = "MG1099";
        private const string FileNotFoundCode = "MG1001";
        private const string BadArgumentsCode = "MG1010";

        private bool _sawCrashLines;

        /// <summary>
        /// The .onnx model: the item's <c>%(FullPath)</c>. Passed as the argument after
        /// <c>optimize</c>.
        /// </summary>
        [Required]
        public string ModelPath { get; set; } = string.Empty;

        /// <summary>
        /// Folder for the outputs: metadata <c>%(OptimizedModel.OutputDir)</c>; switch
        /// <c>--out</c>.
        /// </summary>
        [Required]
        public string OutputDirectory { get; set; } = string.Empty;

        /// <summary>
        /// Name of the generated class and of the output files: metadata
        /// <c>%(OptimizedModel.ClassName)</c>; switch <c>--name</c>.
        /// </summary>
        [Required]
        public string ClassName { get; set; } = string.Empty;

        /// <summary>
        /// Full path of <c>modelgen.dll</c>: property <c>ModelGen_OptimizerPath</c> (default:
        /// the package's <c>tools/net10.0/any/modelgen.dll</c>, or env <c>MODELGEN_OPTIMIZER</c>).
        /// Named so because <see cref="ToolTask.ToolPath"/> already means the host's folder.
        /// </summary>
        [Required]
        public string OptimizerPath { get; set; } = string.Empty;

        /// <summary>
        /// The dotnet host to run the optimizer with: property <c>ModelGen_DotnetPath</c>.
        /// Empty means <c>DOTNET_HOST_PATH</c>, then <c>dotnet</c> on <c>PATH</c>.
        /// </summary>
        public string? DotnetPath { get; set; }

        /// <summary>Metadata <c>Quantize</c>: None, Fp16, Int8, Int8Dynamic, Int8Weights; switch <c>--quantize</c>.</summary>
        public string? Quantize { get; set; }

        /// <summary>Metadata <c>Calibration</c>: MinMax, Percentile, Entropy; switch <c>--calibration</c>.</summary>
        public string? Calibration { get; set; }

        /// <summary>Metadata <c>CalibrationPercentile</c> (e.g. 99.99); switch <c>--calibration-percentile</c>.</summary>
        public string? CalibrationPercentile { get; set; }

        /// <summary>Metadata <c>CalibrationData</c> (full path); switch <c>--calibration-data</c>.</summary>
        public string? CalibrationData { get; set; }

        /// <summary>Metadata <c>ValidationData</c> (full path: .npz or a folder of test_data_set_*); switch <c>--validation-data</c>.</summary>
        public string? ValidationData { get; set; }

        /// <summary>Metadata <c>Metric</c>: Top1, Agreement, Cosine, MaxAbsError, Mse; switch <c>--metric</c>.</summary>
        public string? Metric { get; set; }

        /// <summary>Metadata <c>MaxAccuracyDrop</c> (e.g. 0.5% or 0.01); switch <c>--max-accuracy-drop</c>.</summary>
        public string? MaxAccuracyDrop { get; set; }

        /// <summary>Metadata <c>AccuracyFallback</c> (true/false); switch <c>--accuracy-fallback</c>.</summary>
        public string? AccuracyFallback { get; set; }

        /// <summary>Metadata <c>AllowUngated</c> (true/false); switch <c>--allow-ungated</c>.</summary>
        public string? AllowUngated { get; set; }

        /// <summary>Metadata <c>Fallback</c>: OnnxRuntime or Error; switch <c>--fallback</c>.</summary>
        public string? Fallback { get; set; }

        /// <summary>Metadata <c>MaxBatch</c> (0 or more); switch <c>--max-batch</c>.</summary>
        public string? MaxBatch { get; set; }

        /// <summary>Metadata <c>Backend</c>: Auto, Cpu, Cuda, OpenCL, IlgpuCpu; switch <c>--backend</c> (for the per-op device warning).</summary>
        public string? Backend { get; set; }
        /// <summary>Metadata <c>Prune</c> (None, Magnitude, Neurons, Filters or N:M); switch <c>--prune</c>.</summary>
        public string? Prune { get; set; }

        /// <summary>Metadata <c>Sparsity</c> (a fraction, e.g. 0.5); switch <c>--sparsity</c>.</summary>
        public string? Sparsity { get; set; }

        /// <summary>Metadata <c>PruneScope</c> (Layer or Global); switch <c>--prune-scope</c>.</summary>
        public string? PruneScope { get; set; }

        /// <summary>Metadata <c>LowRank</c> (None, a rank fraction or Energy:x); switch <c>--low-rank</c>.</summary>
        public string? LowRank { get; set; }

        /// <summary>Metadata <c>Recover</c> (None, BiasCorrection or Reconstruct); switch <c>--recover</c>.</summary>
        public string? Recover { get; set; }

        /// <summary>
        /// Folders the dotnet host probes for the CLI's dependencies that are not next to it
        /// (<c>--additionalprobingpath</c>): the NuGet package root, where restore put ONNX
        /// Runtime's native library for this machine. Property <c>NuGetPackageRoot</c>.
        /// </summary>
        public string? ProbingPath { get; set; }

        /// <summary>The item spec as the user wrote it, used to name the item in errors.</summary>
        public string? ItemSpec { get; set; }

        /// <inheritdoc />
        protected override string ToolName => DotnetHost.FileName;

        /// <summary>The response file is UTF-8 without a byte order mark, one argument a line.</summary>
        protected override Encoding ResponseFileEncoding => new UTF8Encoding(false);

        /// <inheritdoc />
        public override bool Execute()
        {
            // ToolTask returns true when the exit code is 0 even if the tool printed errors;
            // those errors were logged, so the build must fail too (and MSB4181 never shows).
            return base.Execute() && !Log.HasLoggedErrors;
        }

        /// <summary>The arguments, one per line, exactly as the response file holds them.</summary>
        internal IReadOnlyList<string> GetArguments()
        {
            var arguments = new List<string>
            {
                "optimize",
                Path.GetFullPath(ModelPath),
                "--out",
                Path.GetFullPath(OutputDirectory),
                "--name",
                ClassName,
            };
            // Optional switches: only metadata with a value is passed, so the CLI's defaults apply.
            Add(arguments, "--quantize", Quantize);
            Add(arguments, "--calibration", Calibration);
            Add(arguments, "--calibration-percentile", CalibrationPercentile);
            Add(arguments, "--calibration-data", CalibrationData);
            Add(arguments, "--validation-data", ValidationData);
            Add(arguments, "--metric", Metric);
            Add(arguments, "--max-accuracy-drop", MaxAccuracyDrop);
            Add(arguments, "--accuracy-fallback", AccuracyFallback);
            Add(arguments, "--allow-ungated", AllowUngated);
            Add(arguments, "--fallback", Fallback);
            Add(arguments, "--max-batch", MaxBatch);
            Add(arguments, "--backend", Backend);
            Add(arguments, "--prune", Prune);
            Add(arguments, "--sparsity", Sparsity);
            Add(arguments, "--prune-scope", PruneScope);
            Add(arguments, "--low-rank", LowRank);
            Add(arguments, "--recover", Recover);
            return arguments;
        }

        private static void Add(List<string> arguments, string option, string? value)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                arguments.Add(option);
                arguments.Add(value!.Trim());
            }
        }

        /// <inheritdoc />
        protected override string GenerateFullPathToTool() => DotnetHost.Resolve(DotnetPath);

        /// <summary>The dll is the host's first argument; everything else is in the response file.</summary>
        protected override string GenerateCommandLineCommands()
        {
            var builder = new CommandLineBuilder();
            AppendHostArguments(builder);
            return builder.ToString();
        }

        /// <summary><c>exec [--additionalprobingpath dir] modelgen.dll</c>.</summary>
        private void AppendHostArguments(CommandLineBuilder builder)
        {
            if (!string.IsNullOrWhiteSpace(ProbingPath))
            {
                builder.AppendSwitch("exec");
                builder.AppendSwitchIfNotNull("--additionalprobingpath ", ProbingPath!.TrimEnd('/', '\\'));
            }

            builder.AppendFileNameIfNotNull(OptimizerPath);
        }

        /// <inheritdoc />
        protected override string GenerateResponseFileCommands() =>
            // No quoting: the CLI reads one raw argument per line, so spaces need no escaping.
            string.Join("\n", GetArguments()) + "\n";

        /// <summary>
        /// Prints a command that works when pasted into a shell: the response file is a
        /// temporary file deleted after the run, so the arguments are spelled out instead.
        /// </summary>
        protected override void LogToolCommand(string message)
        {
            Log.LogMessage(MessageImportance.Normal, "{0}", GetPasteableCommand());
        }

        /// <summary>The whole command line with every argument quoted where it needs to be.</summary>
        internal string GetPasteableCommand()
        {
            var builder = new CommandLineBuilder();
            builder.AppendFileNameIfNotNull(GenerateFullPathToTool());
            AppendHostArguments(builder);
            foreach (var argument in GetArguments())
            {
                builder.AppendTextUnquoted(" ");
                builder.AppendTextUnquoted(Quote(argument));
            }

            return builder.ToString();
        }

        private static readonly char[] ShellSpecial = { ' ', '\t', '"', '\'', '&', ';', '(', ')', '|', '<', '>' };

        private static string Quote(string argument) =>
            argument.Length > 0 && argument.IndexOfAny(ShellSpecial) < 0
                ? argument
                : "\"" + argument.Replace("\"", "\\\"") + "\"";

        /// <summary>Checks inputs before anything runs, so bad metadata never reaches the tool.</summary>
        protected override bool ValidateParameters()
        {
            var item = string.IsNullOrEmpty(ItemSpec) ? ModelPath : ItemSpec;
            if (string.IsNullOrWhiteSpace(ModelPath) || !File.Exists(ModelPath))
            {
                Log.LogError(null, FileNotFoundCode, null, ModelPath, 0, 0, 0, 0,
                    "The model file of OptimizedModel item '{0}' does not exist: '{1}'. Check the item's " +
                    "Include path (it is relative to the project folder).", item, ModelPath);
                return false;
            }

            if (!ClassNames.IsIdentifier(ClassName))
            {
                Log.LogError(null, BadArgumentsCode, null, ModelPath, 0, 0, 0, 0,
                    "OptimizedModel item '{0}' has ClassName '{1}', which is not a C# identifier. Set the " +
                    "item's ClassName metadata to letters, digits and underscores.", item, ClassName);
                return false;
            }

            if (string.IsNullOrWhiteSpace(OutputDirectory))
            {
                Log.LogError(null, BadArgumentsCode, null, ModelPath, 0, 0, 0, 0,
                    "OptimizedModel item '{0}' has an empty OutputDir. Remove the metadata to use the " +
                    "default, or set it to a folder.", item);
                return false;
            }

            if (string.IsNullOrWhiteSpace(OptimizerPath) || !File.Exists(OptimizerPath))
            {
                Log.LogError(null, BadArgumentsCode, null, ModelPath, 0, 0, 0, 0,
                    "The ModelGen optimizer '{0}' does not exist. Restore the ModelGen package again, or " +
                    "point the property ModelGen_OptimizerPath (or env MODELGEN_OPTIMIZER) at modelgen.dll.",
                    OptimizerPath);
                return false;
            }

            try
            {
                Directory.CreateDirectory(OutputDirectory);
            }
            catch (Exception e) when (e is IOException || e is UnauthorizedAccessException || e is ArgumentException
                || e is NotSupportedException)
            {
                Log.LogError(null, "MG1011", null, ModelPath, 0, 0, 0, 0,
                    "Cannot create the output folder '{0}' for OptimizedModel item '{1}': {2}",
                    OutputDirectory, item, e.Message);
                return false;
            }

            return true;
        }

        /// <summary>Turns each canonical-format line into an error or warning; others are messages.</summary>
        protected override void LogEventsFromTextOutput(string singleLine, MessageImportance messageImportance)
        {
            var diagnostic = ToolOutputParser.Parse(singleLine);
            if (diagnostic is null)
            {
                if (ToolOutputParser.IsCrashLine(singleLine))
                {
                    // Kept for -v:detailed; the summary error below tells the user what happened.
                    _sawCrashLines = true;
                    Log.LogMessage(MessageImportance.Low, "{0}", singleLine);
                }
                else if (singleLine.StartsWith("ModelGen: ", StringComparison.Ordinal))
                {
                    // The per-model summary of a lossy optimization (sizes, metric, drop, limit):
                    // shown at the default verbosity, so every CI log has it.
                    Log.LogMessage(MessageImportance.High, "{0}", singleLine);
                }
                else if (singleLine.StartsWith("modelgen: ", StringComparison.Ordinal))
                {
                    Log.LogMessage(MessageImportance.Normal, "{0}", singleLine);
                }
                else
                {
                    Log.LogMessage(messageImportance, "{0}", singleLine);
                }

                return;
            }

            var file = diagnostic.File.Length > 0 ? diagnostic.File : ModelPath;
            if (diagnostic.Kind == ToolDiagnosticKind.Error)
            {
                Log.LogError(diagnostic.Subcategory, diagnostic.Code, null, file, diagnostic.Line,
                    diagnostic.Column, diagnostic.EndLine, diagnostic.EndColumn, "{0}", diagnostic.Message);
            }
            else
            {
                Log.LogWarning(diagnostic.Subcategory, diagnostic.Code, null, file, diagnostic.Line,
                    diagnostic.Column, diagnostic.EndLine, diagnostic.EndColumn, "{0}", diagnostic.Message);
            }
        }

        /// <summary>A failing exit without a parsed error still fails with a clear, actionable error.</summary>
        protected override bool HandleTaskExecutionErrors()
        {
            if (!Log.HasLoggedErrors)
            {
                var what = _sawCrashLines ? "crashed" : "failed";
                Log.LogError(null, GenericFailureCode, null, ModelPath, 0, 0, 0, 0,
                    "The ModelGen optimizer {0} (exit code {1}) on '{2}' without reporting an error. Run this " +
                    "command to see its full output, and report it as a ModelGen bug if it persists: {3}",
                    what, ExitCode, ItemSpec ?? ModelPath, GetPasteableCommand());
            }

            return false;
        }
    }
}
