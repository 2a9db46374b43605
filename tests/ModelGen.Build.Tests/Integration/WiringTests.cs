using ModelGen.Tests;

namespace ModelGen.Build.Tests.Integration;

/// <summary>
/// The MSBuild wiring (props/targets + tasks) from the source tree, with a fake optimizer
/// standing in for modelgen (Grpc.Tools style), so these tests do not depend on the optimizer,
/// generator or runtime. They build real projects: slow, so they share one collection.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class WiringTests : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.Parse(ConsumerProject.BuildTimeout);
    private readonly TempFolder _temp = new("mg-wiring-");

    public void Dispose() => _temp.Dispose();

    /// <summary>
    /// Writes the fake "dotnet": it gets "[exec --additionalprobingpath dir] modelgen.dll @rsp", logs the model it was asked for to
    /// calls.log, and writes the three outputs, or fails the way the model's text asks for.
    /// </summary>
    private string WriteFakeDotnet(string folder)
    {
        var script = Path.Combine(folder, "fake-dotnet.sh");
        File.WriteAllText(script, """
            #!/bin/sh
            # The response file is the last argument (host options such as exec and
            # --additionalprobingpath may come before modelgen.dll).
            for a; do last="$a"; done
            rsp="${last#@}"
            { read cmd; read model; read o; read out; read n; read name; } < "$rsp"
            echo "$cmd $model $o $out $n $name" >> "$(dirname "$0")/calls.log"
            if grep -q FAIL "$model"; then echo "$model(1,1): error MG1002: fake optimizer says the model is corrupt"; exit 1; fi
            if grep -q CRASH "$model"; then
              echo "Unhandled exception. System.InvalidOperationException: boom" 1>&2
              echo "   at Fake.Optimizer.Main(String[] args) in /fake/Program.cs:line 3" 1>&2
              exit 134
            fi
            mkdir -p "$out"
            printf 'modelgen-spec 1\n' > "$out/$name.mgspec"
            printf 'weights:%s' "$name" > "$out/$name.weights"
            cp "$model" "$out/$name.onnx"
            echo "fake optimizer wrote $name"
            """.Replace("\r\n", "\n"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return script;
    }

    private string CreateProject(string items)
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("the fake optimizer is a POSIX shell script");
        var folder = _temp.Combine("wired");
        Directory.CreateDirectory(Path.Combine(folder, "models"));
        var script = WriteFakeDotnet(folder);
        var buildDir = Path.Combine(TestData.RepoRoot, "src", "ModelGen.Build", "build");
        ConsumerProject.Write(folder, "wired",
            imports: $"""  <Import Project="{buildDir}/ModelGen.props" />""",
            body: $"""
              <PropertyGroup>
                <RootNamespace>Wired</RootNamespace>
                <ModelGen_TaskAssembly>{typeof(OptimizeModel).Assembly.Location}</ModelGen_TaskAssembly>
                <ModelGen_OptimizerPath>{script}</ModelGen_OptimizerPath>
                <ModelGen_DotnetPath>{script}</ModelGen_DotnetPath>
              </PropertyGroup>
              <ItemGroup>
            {items}
              </ItemGroup>
            """,
            lateImports: $"""  <Import Project="{buildDir}/ModelGen.targets" />""");
        File.WriteAllText(Path.Combine(folder, "Program.cs"), """
            // Prints every embedded resource with its text, so the test sees the weights arrive.
            var assembly = typeof(Program).Assembly;
            foreach (var name in assembly.GetManifestResourceNames().Order())
            {
                using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
                Console.WriteLine($"{name}={reader.ReadToEnd()}");
            }
            """);
        return folder;
    }

    private static CliResult Dotnet(string folder, params string[] args) =>
        DotnetCli.Run(folder, null, Timeout, args);

    private static string[] CallLog(string folder)
    {
        var path = Path.Combine(folder, "calls.log");
        return File.Exists(path) ? File.ReadAllLines(path) : [];
    }

    [Fact]
    public void BuildSkipsUnchangedModelsRerunsTouchedOnesAndCleanRemovesOutputs()
    {
        var folder = CreateProject("""
                <OptimizedModel Include="models/x.onnx" ClassName="Net" Namespace="App" />
                <OptimizedModel Include="models/my-model.v2.onnx" />
            """);
        File.WriteAllText(Path.Combine(folder, "models", "x.onnx"), "model x");
        File.WriteAllText(Path.Combine(folder, "models", "my-model.v2.onnx"), "model v2");
        var outDir = Path.Combine(folder, "obj", "Debug", "net10.0", "modelgen");
        string[] outputs = ["Net.mgspec", "Net.weights", "Net.onnx", "MyModelV2.mgspec", "MyModelV2.weights", "MyModelV2.onnx"];

        // 1. First build: the optimizer runs once per model, with the contract's arguments.
        var first = Dotnet(folder, "build", "-nologo", "-v:n");
        Assert.True(first.ExitCode == 0, first.ToString());
        var calls = CallLog(folder);
        Assert.Equal(2, calls.Length);
        Assert.Contains($"optimize {Path.Combine(folder, "models", "x.onnx")} --out {outDir}{Path.DirectorySeparatorChar} --name Net", calls);
        Assert.Contains(calls, c => c.EndsWith("--name MyModelV2", StringComparison.Ordinal));
        foreach (var file in outputs) Assert.True(File.Exists(Path.Combine(outDir, file)), $"{file} missing\n{first}");

        // The spec reaches the compiler as an AdditionalFile with the ModelGen_* metadata.
        var editorConfig = File.ReadAllText(Path.Combine(folder, "obj", "Debug", "net10.0", "wired.GeneratedMSBuildEditorConfig.editorconfig"));
        Assert.Contains($"[{Path.Combine(outDir, "Net.mgspec")}]", editorConfig);
        Assert.Contains("build_metadata.AdditionalFiles.ModelGen_ClassName = Net", editorConfig);
        Assert.Contains("build_metadata.AdditionalFiles.ModelGen_Namespace = App", editorConfig);
        Assert.Contains("build_metadata.AdditionalFiles.ModelGen_Access = internal", editorConfig);
        Assert.Contains("build_metadata.AdditionalFiles.ModelGen_WeightsResource = ModelGen.App.Net.weights", editorConfig);
        Assert.Contains($"build_metadata.AdditionalFiles.ModelGen_Source = {Path.Combine(folder, "models", "x.onnx")}", editorConfig);
        Assert.Contains("build_metadata.AdditionalFiles.ModelGen_ClassName = MyModelV2", editorConfig);
        Assert.Contains("build_metadata.AdditionalFiles.ModelGen_Namespace = Wired", editorConfig);

        // The weights are embedded under their logical names.
        var run = Dotnet(folder, Path.Combine(folder, "bin", "Debug", "net10.0", "wired.dll"));
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("ModelGen.App.Net.weights=weights:Net", run.Output);
        Assert.Contains("ModelGen.Wired.MyModelV2.weights=weights:MyModelV2", run.Output);

        // 2. No change: the optimizer target is skipped and no output is rewritten.
        var stamps = outputs.ToDictionary(f => f, f => File.GetLastWriteTimeUtc(Path.Combine(outDir, f)));
        var second = Dotnet(folder, "build", "-nologo", "-v:d");
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(2, CallLog(folder).Length);
        Assert.Contains("Skipping target \"_ModelGen_Optimize\" because all output files are up-to-date", second.Output);
        foreach (var file in outputs) Assert.Equal(stamps[file], File.GetLastWriteTimeUtc(Path.Combine(outDir, file)));

        // 3. Touch one model: only that one is optimized again.
        File.SetLastWriteTimeUtc(Path.Combine(folder, "models", "x.onnx"), DateTime.UtcNow.AddSeconds(2));
        var third = Dotnet(folder, "build", "-nologo", "-v:n");
        Assert.True(third.ExitCode == 0, third.ToString());
        calls = CallLog(folder);
        Assert.Equal(3, calls.Length);
        Assert.EndsWith("--name Net", calls[2], StringComparison.Ordinal);
        Assert.Equal(stamps["MyModelV2.weights"], File.GetLastWriteTimeUtc(Path.Combine(outDir, "MyModelV2.weights")));

        // 4. Clean removes every output.
        var clean = Dotnet(folder, "clean", "-nologo", "-v:n");
        Assert.True(clean.ExitCode == 0, clean.ToString());
        foreach (var file in outputs) Assert.False(File.Exists(Path.Combine(outDir, file)), $"{file} survived clean");
    }

    [Theory]
    [InlineData("FAIL", "MG1002")]
    [InlineData("CRASH", "MG1099")]
    public void OptimizerFailureFailsTheBuildWithItsCodeAndNoStackTrace(string behaviour, string code)
    {
        var folder = CreateProject("""    <OptimizedModel Include="models/bad.onnx" />""");
        var model = Path.Combine(folder, "models", "bad.onnx");
        File.WriteAllText(model, behaviour);

        var build = Dotnet(folder, "build", "-nologo", "-v:n");

        Assert.True(build.ExitCode != 0, build.ToString());
        Assert.Equal([code], build.ErrorCodes);
        Assert.All(build.ErrorLines(code), line => Assert.Contains(model, line));
        Assert.False(build.HasStackTrace, build.ToString());
        Assert.DoesNotContain("MSB6006", build.Output);
        Assert.DoesNotContain("MSB4181", build.Output);
    }

    [Fact]
    public void MissingModelIsMG1001AndTheOptimizerNeverRuns()
    {
        var folder = CreateProject("""    <OptimizedModel Include="models/missing.onnx" />""");

        var build = Dotnet(folder, "build", "-nologo", "-v:n");

        Assert.True(build.ExitCode != 0, build.ToString());
        Assert.Equal(["MG1001"], build.ErrorCodes);
        Assert.All(build.ErrorLines("MG1001"), line => Assert.Contains("missing.onnx", line));
        Assert.Empty(CallLog(folder));
        Assert.False(build.HasStackTrace, build.ToString());
    }
}

/// <summary>One collection for every test that runs dotnet builds: they run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class IntegrationCollection
{
    public const string Name = "Integration builds";
}
