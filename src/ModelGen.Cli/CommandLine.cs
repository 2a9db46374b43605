using ModelGen.Onnx;

namespace ModelGen.Cli;

/// <summary>Parsed `modelgen` arguments.</summary>
public sealed class CommandLine
{
    public string? ModelPath { get; private set; }
    public string? OutputDirectory { get; private set; }
    public string? Name { get; private set; }
    public bool Verbose { get; private set; }
    public bool Help { get; private set; }
    public bool Version { get; private set; }

    /// <summary>--quantize: None, Fp16, Int8, Int8Dynamic, Int8Weights.</summary>
    public string Quantize { get; private set; } = "None";

    /// <summary>--calibration: MinMax, Percentile, Entropy.</summary>
    public string Calibration { get; private set; } = "MinMax";

    /// <summary>--calibration-percentile, in (0, 100].</summary>
    public double CalibrationPercentile { get; private set; } = 99.99;

    /// <summary>--calibration-data: defaults to the validation data.</summary>
    public string? CalibrationData { get; private set; }

    /// <summary>--validation-data: a .npz or a folder of test_data_set_* folders.</summary>
    public string? ValidationData { get; private set; }

    /// <summary>--metric: Top1, Agreement, Cosine, MaxAbsError, Mse; null = by labels.</summary>
    public string? Metric { get; private set; }

    /// <summary>--max-accuracy-drop: e.g. 1% (percentage points) or 0.01.</summary>
    public string MaxAccuracyDrop { get; private set; } = "1%";

    /// <summary>--accuracy-fallback true|false.</summary>
    public bool AccuracyFallback { get; private set; } = true;

    /// <summary>--allow-ungated true|false.</summary>
    public bool AllowUngated { get; private set; }

    /// <summary>--fallback: OnnxRuntime or Error.</summary>
    public string Fallback { get; private set; } = "OnnxRuntime";

    /// <summary>--max-batch: the largest batch of Predict(int batchSize, ...); 0 = none.</summary>
    public int MaxBatch { get; private set; } = 64;

    /// <summary>--backend: the item's default backend (Auto, Cpu, Cuda, OpenCL, IlgpuCpu), for the device warning.</summary>
    public string Backend { get; private set; } = "Auto";

    private static readonly string[] Backends = { "Auto", "Cpu", "Cuda", "OpenCL", "IlgpuCpu" };

    /// <summary>The command: optimize or inspect.</summary>
    public string Command { get; private set; } = "optimize";

    /// <summary>The largest MaxBatch accepted (each predictor sizes its buffers for it).</summary>
    public const int MaxBatchLimit = 65536;

    private static readonly string[] FallbackModes = { "OnnxRuntime", "Error" };
    /// <summary>--prune: None, Magnitude, Neurons, Filters or N:M (checked by PruneOptions.Parse, MG1040).</summary>
    public string? Prune { get; private set; }

    /// <summary>--sparsity: the fraction removed (MG1041).</summary>
    public string? Sparsity { get; private set; }

    /// <summary>--prune-scope: Layer or Global (MG1042).</summary>
    public string? PruneScope { get; private set; }

    /// <summary>--low-rank: None, a rank fraction or Energy:x (MG1043).</summary>
    public string? LowRank { get; private set; }

    /// <summary>--recover: None, BiasCorrection or Reconstruct (MG1044).</summary>
    public string? Recover { get; private set; }

    private static readonly string[] QuantizeModes = { "None", "Fp16", "Int8", "Int8Dynamic", "Int8Weights" };
    private static readonly string[] CalibrationMethods = { "MinMax", "Percentile", "Entropy" };

    /// <exception cref="OnnxException">BadArguments, saying which argument is wrong.</exception>
    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        var c = new CommandLine();
        if (args.Count == 0 || args[0] is "-h" or "--help" or "help")
        {
            c.Help = true;
            return c;
        }
        if (args[0] == "--version")
        {
            c.Version = true;
            return c;
        }
        if (args[0] is not ("optimize" or "inspect")) throw Bad($"unknown command '{args[0]}'; the commands are 'optimize' and 'inspect'.");
        c.Command = args[0];
        for (int i = 1; i < args.Count; i++)
        {
            string a = args[i];
            switch (a)
            {
                case "--out": c.OutputDirectory = Value(args, ref i, a); break;
                case "--name": c.Name = Value(args, ref i, a); break;
                case "--verbose": c.Verbose = true; break;
                case "--quantize": c.Quantize = OneOf(Value(args, ref i, a), QuantizeModes, a); break;
                case "--calibration": c.Calibration = OneOf(Value(args, ref i, a), CalibrationMethods, a); break;
                case "--calibration-percentile":
                    string p = Value(args, ref i, a);
                    if (!double.TryParse(p, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double pct)
                        || !(pct > 0 && pct <= 100))
                    {
                        throw Bad($"CalibrationPercentile must be a number in (0, 100], not '{p}'.");
                    }
                    c.CalibrationPercentile = pct;
                    break;
                case "--calibration-data": c.CalibrationData = Value(args, ref i, a); break;
                case "--validation-data": c.ValidationData = Value(args, ref i, a); break;
                // Metric.Parse owns the metric names and reports an unknown one as MG1028.
                case "--metric": c.Metric = ModelGen.Optimizer.Evaluation.Metric.Parse(Value(args, ref i, a)).ToString(); break;
                case "--max-accuracy-drop": c.MaxAccuracyDrop = Value(args, ref i, a); break;
                case "--accuracy-fallback": c.AccuracyFallback = Bool(Value(args, ref i, a), "AccuracyFallback"); break;
                case "--allow-ungated": c.AllowUngated = Bool(Value(args, ref i, a), "AllowUngated"); break;
                case "--backend": c.Backend = OneOf(Value(args, ref i, a), Backends, a); break;
                case "--fallback": c.Fallback = OneOf(Value(args, ref i, a), FallbackModes, a); break;
                case "--max-batch":
                    string mb = Value(args, ref i, a);
                    if (!int.TryParse(mb, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int maxBatch)
                        || maxBatch > MaxBatchLimit)
                    {
                        throw Bad($"MaxBatch must be a whole number from 0 to {MaxBatchLimit}, not '{mb}'.");
                    }
                    c.MaxBatch = maxBatch;
                    break;
                case "--prune": c.Prune = Value(args, ref i, a); break;
                case "--sparsity": c.Sparsity = Value(args, ref i, a); break;
                case "--prune-scope": c.PruneScope = Value(args, ref i, a); break;
                case "--low-rank": c.LowRank = Value(args, ref i, a); break;
                case "--recover": c.Recover = Value(args, ref i, a); break;
                case "-h" or "--help": c.Help = true; break;
                default:
                    if (a.StartsWith("--", StringComparison.Ordinal)) throw Bad($"unknown option '{a}'.");
                    if (c.ModelPath is not null) throw Bad($"more than one model given ('{c.ModelPath}' and '{a}').");
                    c.ModelPath = a;
                    break;
            }
        }
        if (c.Help) return c;
        if (c.ModelPath is null) throw Bad($"no model given: modelgen {c.Command} <model.onnx>{(c.Command == "optimize" ? " --out <dir>" : "")}.");
        if (c.Command == "inspect") return c;
        if (c.OutputDirectory is null) throw Bad("no output directory given: add --out <dir>.");
        c.Name ??= ClassNames.FromFileName(c.ModelPath);
        if (!ClassNames.IsValidIdentifier(c.Name))
        {
            throw Bad($"'{c.Name}' is not a valid C# class name; pass --name (ClassName metadata) with a letter or '_' followed by letters, digits or '_'.");
        }
        return c;
    }

    private static string Value(IReadOnlyList<string> args, ref int i, string option)
    {
        if (i + 1 >= args.Count) throw Bad($"'{option}' needs a value.");
        return args[++i];
    }

    /// <summary>Matches a value against allowed names, ignoring case; returns the canonical spelling.</summary>
    private static string OneOf(string value, string[] allowed, string option) =>
        allowed.FirstOrDefault(x => string.Equals(x, value, StringComparison.OrdinalIgnoreCase))
        ?? throw Bad($"'{value}' is not a valid value for {option} ({MetadataName(option)} metadata); use one of {string.Join(", ", allowed)}.");

    private static bool Bool(string value, string metadata) =>
        bool.TryParse(value, out bool b) ? b : throw Bad($"{metadata} must be true or false, not '{value}'.");

    private static string MetadataName(string option) => option switch
    {
        "--quantize" => "Quantize",
        "--calibration" => "Calibration",
        "--fallback" => "Fallback",
        "--backend" => "Backend",
        _ => option,
    };

    private static OnnxException Bad(string message) => new(ErrorCodes.BadArguments, message);
}
