using System.Text;

namespace ModelGen.Build.Tests.Unit;

public sealed class OptimizeModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mg-task-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private sealed class Testable : OptimizeModel
    {
        public string ResponseFile() => GenerateResponseFileCommands();
        public string CommandLine() => GenerateCommandLineCommands();
        public Encoding Encoding => ResponseFileEncoding;
    }

    private (Testable Task, RecordingBuildEngine Engine) Create(string? dotnet = null)
    {
        var model = Path.Combine(_dir, "my model.onnx");
        File.WriteAllBytes(model, [1, 2, 3]);
        var optimizer = Path.Combine(_dir, "modelgen.dll");
        File.WriteAllText(optimizer, "not really a dll");
        var engine = new RecordingBuildEngine();
        var task = new Testable
        {
            BuildEngine = engine,
            ModelPath = model,
            ItemSpec = "my model.onnx",
            OutputDirectory = Path.Combine(_dir, "out"),
            ClassName = "MyModel",
            OptimizerPath = optimizer,
            DotnetPath = dotnet,
        };
        return (task, engine);
    }

    [Fact]
    public void ResponseFileHasOneArgumentPerLineUnquoted()
    {
        var (task, _) = Create();

        var lines = task.ResponseFile().Split('\n');

        Assert.Equal(
            ["optimize", Path.Combine(_dir, "my model.onnx"), "--out", Path.Combine(_dir, "out"), "--name", "MyModel", ""],
            lines);
        Assert.Empty(task.Encoding.GetPreamble());
        Assert.Equal("utf-8", task.Encoding.WebName);
    }

    [Fact]
    public void CommandLineIsTheQuotedOptimizerDll()
    {
        var (task, _) = Create();
        task.OptimizerPath = Path.Combine(_dir, "tools dir", "modelgen.dll");

        Assert.Equal("\"" + task.OptimizerPath + "\"", task.CommandLine());
    }

    [Fact]
    public void PasteableCommandSpellsOutEveryArgument()
    {
        var (task, _) = Create(dotnet: "/usr/bin/dotnet");

        var command = task.GetPasteableCommand();

        Assert.Equal(
            $"/usr/bin/dotnet {Path.Combine(_dir, "modelgen.dll")} optimize \"{Path.Combine(_dir, "my model.onnx")}\" " +
            $"--out {Path.Combine(_dir, "out")} --name MyModel",
            command);
    }

    [Fact]
    public void MissingModelIsMG1001NamingTheItemAndRunsNothing()
    {
        // The "dotnet" is a path that does not exist: if the task tried to run it, it would log
        // MSB6003 instead of (or besides) MG1001.
        var (task, engine) = Create(dotnet: Path.Combine(_dir, "no-such-dotnet"));
        task.ModelPath = Path.Combine(_dir, "missing.onnx");
        task.ItemSpec = "missing.onnx";

        Assert.False(task.Execute());

        var error = Assert.Single(engine.Errors);
        Assert.Equal("MG1001", error.Code);
        Assert.Equal(task.ModelPath, error.File);
        Assert.Contains("'missing.onnx'", error.Message);
    }

    [Fact]
    public void BadClassNameIsMG1010()
    {
        var (task, engine) = Create(dotnet: Path.Combine(_dir, "no-such-dotnet"));
        task.ClassName = "my-model";

        Assert.False(task.Execute());

        Assert.Equal("MG1010", Assert.Single(engine.Errors).Code);
    }

    [Fact]
    public void PruningMetadataBecomesCliSwitches()
    {
        var (task, _) = Create();
        task.Prune = "2:4";
        task.Sparsity = "0.5";
        task.PruneScope = "Global";
        task.LowRank = "Energy:0.99";
        task.Recover = "Reconstruct";

        var lines = task.ResponseFile().Split('\n');

        Assert.Equal(
            ["--prune", "2:4", "--sparsity", "0.5", "--prune-scope", "Global", "--low-rank", "Energy:0.99", "--recover", "Reconstruct", ""],
            lines[6..]);
    }

    [Fact]
    public void MissingOptimizerIsMG1010NamingTheOverride()
    {
        var (task, engine) = Create(dotnet: Path.Combine(_dir, "no-such-dotnet"));
        task.OptimizerPath = Path.Combine(_dir, "nope", "modelgen.dll");

        Assert.False(task.Execute());

        var error = Assert.Single(engine.Errors);
        Assert.Equal("MG1010", error.Code);
        Assert.Contains("ModelGen_OptimizerPath", error.Message);
    }

    /// <summary>Writes a shell script standing in for "dotnet"; it gets "modelgen.dll @rsp".</summary>
    private string FakeDotnet(string body)
    {
        if (OperatingSystem.IsWindows()) Assert.Skip("the fake tool is a POSIX shell script");
        var path = Path.Combine(_dir, "fake-dotnet.sh");
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Fact]
    public void ToolOutputBecomesErrorsWarningsAndMessages()
    {
        var (task, engine) = Create();
        task.DotnetPath = FakeDotnet("""
            echo "Optimizing the model"
            echo "/m/x.onnx(2,5): warning MG1012: dimension N fixed to 1"
            echo "/m/x.onnx: error MG1004: operator 'Foo' is not supported" 1>&2
            exit 1
            """);

        Assert.False(task.Execute());

        var error = Assert.Single(engine.Errors);
        Assert.Equal(("MG1004", "/m/x.onnx", "operator 'Foo' is not supported"), (error.Code, error.File, error.Message));
        var warning = Assert.Single(engine.Warnings);
        Assert.Equal(("MG1012", 2, 5), (warning.Code, warning.LineNumber, warning.ColumnNumber));
        Assert.Contains(engine.Messages, m => m.Message == "Optimizing the model");
    }

    [Fact]
    public void ResponseFileReachesTheTool()
    {
        var (task, engine) = Create();
        var copy = Path.Combine(_dir, "seen.rsp");
        // $1 is modelgen.dll, $2 is @<response file>.
        task.DotnetPath = FakeDotnet($"echo \"$1\" > '{copy}'; cat \"$(echo \"$2\" | cut -c2-)\" >> '{copy}'");

        Assert.True(task.Execute(), string.Join("; ", engine.Errors.Select(e => e.Message)));

        var seen = File.ReadAllText(copy);
        Assert.Equal(task.OptimizerPath + "\n" + task.ResponseFile(), seen);
        Assert.True(Directory.Exists(task.OutputDirectory), "the task creates the output folder");
    }

    [Fact]
    public void ErrorWithExitCodeZeroStillFails()
    {
        var (task, engine) = Create();
        task.DotnetPath = FakeDotnet("echo 'x.onnx: error MG1005: shapes do not match'; exit 0");

        Assert.False(task.Execute());
        Assert.Equal("MG1005", Assert.Single(engine.Errors).Code);
    }

    [Fact]
    public void CrashWithoutErrorIsMG1099WithTheCommandAndNoStackTrace()
    {
        var (task, engine) = Create();
        task.DotnetPath = FakeDotnet("""
            echo "Unhandled exception. System.NullReferenceException: Object reference not set" 1>&2
            echo "   at ModelGen.Cli.CliApp.Run(String[] args)" 1>&2
            exit 134
            """);

        Assert.False(task.Execute());

        var error = Assert.Single(engine.Errors);
        Assert.Equal("MG1099", error.Code);
        Assert.Contains("crashed (exit code 134)", error.Message);
        Assert.Contains("--name MyModel", error.Message);
        // The stack trace is kept only at low importance (visible with -v:detailed).
        Assert.All(engine.Messages.Where(m => m.Message!.Contains(" at ModelGen")),
            m => Assert.Equal(Microsoft.Build.Framework.MessageImportance.Low, m.Importance));
    }
}
