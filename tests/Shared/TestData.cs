using System.Reflection;

namespace ModelGen.Tests;

/// <summary>
/// Locates the shared ONNX test data (../shared/testdata beside the repository, or
/// $MODELGEN_TESTDATA). Tests that need it call <see cref="Require"/>: when the data is missing
/// it fails under CI=true and otherwise skips with a reason, so it is never silently ignored.
/// </summary>
public static class TestData
{
    public static string RepoRoot { get; } = FindRepoRoot();

    public static string Root
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("MODELGEN_TESTDATA");
            if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
            return Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "testdata"));
        }
    }

    public static bool IsCi =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The full path of <paramref name="relative"/> under the test data root, which must exist.</summary>
    public static string Require(string relative)
    {
        var path = Path.Combine(Root, relative);
        if (File.Exists(path) || Directory.Exists(path)) return path;
        var message = $"Shared test data '{path}' is missing. Put ../shared/testdata beside the repository or set MODELGEN_TESTDATA.";
        if (IsCi) throw new InvalidOperationException(message);
        Assert.Skip(message);
        return path;
    }

    private static string FindRepoRoot()
    {
        var attr = typeof(TestData).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "ModelGenRepoRoot");
        if (attr?.Value is { Length: > 0 } root && File.Exists(Path.Combine(root, "ModelGen.sln"))) return Path.GetFullPath(root);
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ModelGen.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("cannot find the repository root (ModelGen.sln)");
    }
}
