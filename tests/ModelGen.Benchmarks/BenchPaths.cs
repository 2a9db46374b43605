using System.Reflection;

namespace ModelGen.Benchmarks;

/// <summary>
/// Where the benchmark finds the shared ONNX models (<c>../shared/testdata</c> beside the
/// repository, or <c>$MODELGEN_TESTDATA</c>, as the tests do) and where it writes its own
/// models and optimizer outputs (a per-process folder under the system temp folder).
/// </summary>
internal static class BenchPaths
{
    private static readonly Lazy<string> LazyWork = new(CreateWorkRoot);

    /// <summary>The repository root (the folder holding ModelGen.sln).</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The shared test data root.</summary>
    public static string TestDataRoot
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("MODELGEN_TESTDATA");
            return !string.IsNullOrEmpty(env) ? Path.GetFullPath(env) : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "testdata"));
        }
    }

    /// <summary>The scratch folder of this process (deleted by <see cref="CleanUp"/>).</summary>
    public static string Work => LazyWork.Value;

    /// <summary>The full path of <paramref name="relative"/> under the test data root, or null when it is missing.</summary>
    public static string? TestData(string relative)
    {
        var path = Path.Combine(TestDataRoot, relative);
        return File.Exists(path) ? path : null;
    }

    /// <summary>A subfolder of <see cref="Work"/>, created.</summary>
    public static string WorkFolder(string name) => Directory.CreateDirectory(Path.Combine(Work, name)).FullName;

    /// <summary>Deletes this process's scratch folder (best effort: a locked file is left for the OS to clean).</summary>
    public static void CleanUp()
    {
        if (!LazyWork.IsValueCreated) return;
        try
        {
            Directory.Delete(LazyWork.Value, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string CreateWorkRoot() =>
        Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), "modelgen-bench", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))).FullName;

    private static string FindRepoRoot()
    {
        var attr = typeof(BenchPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "ModelGenRepoRoot");
        if (attr?.Value is { Length: > 0 } root && File.Exists(Path.Combine(root, "ModelGen.sln"))) return Path.GetFullPath(root);
        // BenchmarkDotNet runs a copy of this assembly from a folder under bin/: walk up from there.
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ModelGen.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException(
            "cannot find the repository root (ModelGen.sln) above " + AppContext.BaseDirectory + "; run the benchmark from a checkout");
    }
}
