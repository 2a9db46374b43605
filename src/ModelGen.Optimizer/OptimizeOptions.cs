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
}
