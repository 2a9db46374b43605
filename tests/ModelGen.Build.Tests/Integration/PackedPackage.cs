using ModelGen.Tests;

namespace ModelGen.Build.Tests.Integration;

/// <summary>
/// The ModelGen package packed from this repository once per test run, into a fresh feed
/// folder, with a private NuGet packages folder so a stale cached ModelGen 0.1.0 is never used.
/// </summary>
internal sealed class PackedPackage
{
    private static readonly Lazy<PackedPackage> Instance = new(Pack, LazyThreadSafetyMode.ExecutionAndPublication);
    private static readonly TempFolder Root = TempFolder.UntilProcessExit("mg-package-");

    private PackedPackage(string feed, string packages, CliResult pack)
    {
        Feed = feed;
        PackagesFolder = packages;
        PackResult = pack;
    }

    /// <summary>The folder holding ModelGen.0.1.0.nupkg.</summary>
    public string Feed { get; }

    /// <summary>NUGET_PACKAGES for consumer builds: new for every test run.</summary>
    public string PackagesFolder { get; }

    public CliResult PackResult { get; }

    public string NupkgPath => Path.Combine(Feed, "ModelGen.0.1.0.nupkg");

    /// <summary>The packed package; fails the calling test with the pack output when packing failed.</summary>
    public static PackedPackage Get()
    {
        var package = Instance.Value;
        Assert.True(package.PackResult.ExitCode == 0 && File.Exists(package.NupkgPath),
            "Packing src/ModelGen.Package failed, so this test cannot run:\n" + package.PackResult);
        return package;
    }

    /// <summary>Environment for a consumer build: the private packages folder.</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["NUGET_PACKAGES"] = PackagesFolder,
    };

    private static PackedPackage Pack()
    {
        var feed = Root.Combine("feed");
        var packages = Root.Combine("packages");
        Directory.CreateDirectory(feed);
        Directory.CreateDirectory(packages);
        var project = Path.Combine(TestData.RepoRoot, "src", "ModelGen.Package", "ModelGen.Package.csproj");
        var result = DotnetCli.Run(TestData.RepoRoot, null, TimeSpan.FromMinutes(8),
            "pack", project, "-c", "Release", "-o", feed, "-nologo", "-v:m");
        return new PackedPackage(feed, packages, result);
    }
}
