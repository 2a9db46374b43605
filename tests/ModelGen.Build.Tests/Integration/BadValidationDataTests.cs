using ModelGen.Tests;
using ModelGen.Cli;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Runtime;

namespace ModelGen.Build.Tests.Integration;

/// <summary>
/// Bad validation data, through the modelgen CLI that the build runs (in process here: a build
/// per case would cost ~20 s; <see cref="GateTests"/> shows one, MG1020, through a real build).
/// Each kind of problem has its own MG code, names the data file, prints no stack trace, and
/// writes no outputs, so an incremental build can never take a half-done run as up to date.
/// </summary>
public sealed class BadValidationDataTests : IDisposable
{
    private const int Samples = 8;
    private readonly TempFolder _temp = new("mg-baddata-");

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("missing-array", "MG1024", "'x'")]
    [InlineData("wrong-shape", "MG1025", "63")]
    [InlineData("nan", "MG1026", "NaN")]
    [InlineData("short-labels", "MG1027", "labels")]
    [InlineData("corrupt", "MG1021", null)]
    public void BadDataGetsItsOwnErrorAndWritesNothing(string kind, string code, string? mention)
    {
        var data = _temp.Combine(kind + ".npz");
        var x = TestModels.GateNetInputs(Samples);
        switch (kind)
        {
            case "missing-array":
                Npz.Write(data, [("features", NpyArray.FromFloats([Samples, 64], x))]);
                break;
            case "wrong-shape":
                Npz.Write(data, [("x", NpyArray.FromFloats([Samples, 63], x.AsSpan(0, Samples * 63)))]);
                break;
            case "nan":
                x[3 * 64 + 5] = float.NaN;
                Npz.Write(data, [("x", NpyArray.FromFloats([Samples, 64], x))]);
                break;
            case "short-labels":
                Npz.Write(data,
                [
                    ("x", NpyArray.FromFloats([Samples, 64], x)),
                    ("labels", NpyArray.From<long>(ElementType.Int64, [Samples - 1], new long[Samples - 1])),
                ]);
                break;
            case "corrupt":
                var noise = new byte[2048];
                new Random(5).NextBytes(noise);
                File.WriteAllBytes(data, noise);
                break;
        }

        var (exit, stdout, stderr) = Optimize(data);

        Assert.Equal(CliApp.BadInput, exit);
        var error = stderr.Split('\n').FirstOrDefault(l => l.Contains($"error {code}: ", StringComparison.Ordinal));
        Assert.True(error is not null, $"expected error {code}:\n{stdout}\n{stderr}");
        Assert.Contains(kind + ".npz", error);
        if (mention is not null) Assert.Contains(mention, error);
        AssertCleanFailure(stdout, stderr);
    }

    [Fact]
    public void UnknownMetricIsMG1028()
    {
        var data = _temp.Combine("good.npz");
        Npz.Write(data, [("x", NpyArray.FromFloats([Samples, 64], TestModels.GateNetInputs(Samples)))]);

        var (exit, stdout, stderr) = Optimize(data, "--metric", "Accuracy");

        Assert.Equal(CliApp.BadInput, exit);
        var error = stderr.Split('\n').FirstOrDefault(l => l.Contains("error MG1028: ", StringComparison.Ordinal));
        Assert.True(error is not null, $"expected error MG1028:\n{stdout}\n{stderr}");
        Assert.Contains("Accuracy", error);
        AssertCleanFailure(stdout, stderr);
    }

    private (int Exit, string Stdout, string Stderr) Optimize(string data, params string[] extra)
    {
        var model = _temp.Combine("gate.onnx");
        if (!File.Exists(model)) File.WriteAllBytes(model, TestModels.GateNet().Encode());
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        string[] args = ["optimize", model, "--out", _temp.Combine("out"), "--name", "Gate", "--quantize", "Int8", "--validation-data", data, .. extra];
        return (CliApp.Run(args, stdout, stderr), stdout.ToString(), stderr.ToString());
    }

    /// <summary>No stack trace, no internal error, and nothing written to the output folder.</summary>
    private void AssertCleanFailure(string stdout, string stderr)
    {
        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotContain("MG1099", stderr);
        var output = _temp.Combine("out");
        var written = Directory.Exists(output) ? Directory.GetFiles(output) : [];
        Assert.True(written.Length == 0, $"a failed run wrote {string.Join(", ", written.Select(Path.GetFileName))}\n{stdout}");
    }
}
