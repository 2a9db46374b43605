using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Pruning;
using ModelGen.Optimizer.Quantization;

namespace ModelGen.Optimizer;

/// <summary>What to optimize and where the results go (the CLI's `optimize` arguments).</summary>
public sealed class OptimizeOptions
{
    public OptimizeOptions(string modelPath, string outputDirectory, string name)
    {
        ModelPath = modelPath;
        OutputDirectory = outputDirectory;
        Name = name;
    }

    /// <summary>The source .onnx file.</summary>
    public string ModelPath { get; }

    /// <summary>Where the .mgspec, .weights and optimized .onnx are written.</summary>
    public string OutputDirectory { get; }

    /// <summary>The model's name: the generated class name and the output files' base name.</summary>
    public string Name { get; }

    /// <summary>Verbose log sink (null: quiet).</summary>
    public Action<string>? Log { get; init; }

    /// <summary>
    /// What to do when the graph holds ops ModelGen cannot compile: run the model through ONNX
    /// Runtime with warning MG1017 (the default), or fail with MG1004.
    /// </summary>
    public FallbackMode Fallback { get; init; } = FallbackMode.OnnxRuntime;

    /// <summary>
    /// The largest batch of the generated <c>Predict(int batchSize, ...)</c> when the model's first
    /// input dimension is symbolic (default 64); 0 compiles the symbolic batch as 1, with no batched overload.
    /// </summary>
    public int MaxBatch { get; init; } = 64;

    /// <summary>
    /// The item's default backend. The optimizer only reports on it: warning MG1050 when it is a
    /// device and some steps have no device kernel.
    /// </summary>
    public Backend Backend { get; init; } = Backend.Auto;

    /// <summary>The lossy precision reduction to apply (default: none, the lossless optimizer only).</summary>
    public QuantizeMode Quantize { get; init; } = QuantizeMode.None;

    /// <summary>How static int8 activation ranges are chosen (only used by <see cref="QuantizeMode.Int8"/>).</summary>
    public CalibrationMethod Calibration { get; init; } = CalibrationMethod.MinMax;

    /// <summary>The percentile, in (50, 100], at which <see cref="CalibrationMethod.Percentile"/> clips each side of an activation's range.</summary>
    public double CalibrationPercentile { get; init; } = 99.99;

    /// <summary>The data calibration runs on (.npz or a folder of test_data_set_*); null: <see cref="ValidationData"/>.</summary>
    public string? CalibrationData { get; init; }

    /// <summary>The data the accuracy gate evaluates on (.npz or a folder of test_data_set_*); required by a lossy mode unless <see cref="AllowUngated"/>.</summary>
    public string? ValidationData { get; init; }

    /// <summary>The gate's metric; null: Top1 when the data has labels, else Agreement.</summary>
    public MetricKind? Metric { get; init; }

    /// <summary>The largest allowed drop of the metric: "1%" = 1 percentage point, "0.01" = an absolute 0.01 (see <see cref="AccuracyBudget"/>).</summary>
    public string MaxAccuracyDrop { get; init; } = "1%";

    /// <summary>When the drop is too large, return the most sensitive layers to fp32 one by one until it fits (else fail at once).</summary>
    public bool AccuracyFallback { get; init; } = true;

    /// <summary>Lets a lossy mode build without validation data, with warning MG1031.</summary>
    public bool AllowUngated { get; init; }

    /// <summary>Evaluate and calibrate on at most this many samples (null: all).</summary>
    public int? MaxValidationSamples { get; init; }

    /// <summary>Where the Markdown report goes; null: <c>&lt;OutputDirectory&gt;/&lt;Name&gt;.report.md</c> when outputs are written.</summary>
    public string? ReportPath { get; init; }

    /// <summary>Pruning, low-rank factorization and recovery (the Prune, Sparsity, PruneScope, LowRank and Recover metadata; default: none).</summary>
    public PruneOptions Pruning { get; init; } = PruneOptions.None;
}
