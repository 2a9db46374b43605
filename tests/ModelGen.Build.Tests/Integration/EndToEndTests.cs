using ModelGen.Tests;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace ModelGen.Build.Tests.Integration;

/// <summary>
/// The whole product as a user gets it: the packed ModelGen package referenced by a brand-new
/// console app, the real modelgen CLI, the source generator and the runtime, checked against
/// ONNX Runtime on the same model and inputs.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class EndToEndTests : IDisposable
{
    /// <summary>
    /// Per element, |modelgen − ORT| / max(|ORT|, 1e-2) must stay within this. Both are fp32 with
    /// different summation orders; 1e-4 leaves ~100× headroom over their rounding differences, and
    /// the floor keeps near-zero outputs from turning rounding noise into a huge ratio.
    /// </summary>
    private const double MaxRelativeError = 1e-4;

    private const int Samples = 16;
    private static readonly TimeSpan Timeout = TimeSpan.Parse(ConsumerProject.BuildTimeout);
    private readonly TempFolder _temp = new("mg-e2e-");

    public void Dispose() => _temp.Dispose();

    private string CreateApp(PackedPackage package, string name, string items)
    {
        var folder = _temp.Combine(name);
        Directory.CreateDirectory(Path.Combine(folder, "models"));
        ConsumerProject.WriteNugetConfig(folder, package.Feed);
        ConsumerProject.Write(folder, name, $"""
              <PropertyGroup>
                <RootNamespace>Consumer</RootNamespace>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="ModelGen" Version="0.1.0" />
            {items}
              </ItemGroup>
            """);
        return folder;
    }

    private static CliResult Dotnet(PackedPackage package, string folder, params string[] args) =>
        DotnetCli.Run(folder, package.Environment, Timeout, args);

    [Fact]
    public void SmallCnnMatchesOnnxRuntimeAndRebuildsOnlyWhenTheModelChanges()
    {
        var package = PackedPackage.Get();
        var folder = CreateApp(package, "app", """
                <OptimizedModel Include="models/x.onnx" ClassName="Net" Namespace="App" />
                <OptimizedModel Include="models/my-model.v2.onnx" />
            """);
        var cnn = TestModels.SmallCnn().Encode();
        var mlp = TestModels.TinyMlp().Encode();
        File.WriteAllBytes(Path.Combine(folder, "models", "x.onnx"), cnn);
        File.WriteAllBytes(Path.Combine(folder, "models", "my-model.v2.onnx"), mlp);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), """
            // Usage: app <net|v2> <input length> <output length> <input.bin> <output.bin>
            // Runs one prediction per input-sized chunk of the input file (raw little-endian fp32).
            using System.Runtime.InteropServices;

            int inLength = int.Parse(args[1]), outLength = int.Parse(args[2]);
            var input = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(args[3])).ToArray();
            var output = new float[input.Length / inLength * outLength];
            if (args[0] == "net")
            {
                using var model = new App.Net();
                for (int i = 0; i * inLength < input.Length; i++)
                    model.Predict(input.AsSpan(i * inLength, inLength), output.AsSpan(i * outLength, outLength));
            }
            else
            {
                using var model = new Consumer.MyModelV2();
                for (int i = 0; i * inLength < input.Length; i++)
                    model.Predict(input.AsSpan(i * inLength, inLength), output.AsSpan(i * outLength, outLength));
            }
            File.WriteAllBytes(args[4], MemoryMarshal.AsBytes(output.AsSpan()).ToArray());

            // Allocation check: 1,000 calls after a warm-up must allocate nothing on this thread.
            // The loop lives in a fully optimized method: a hot loop in tier-0 code (such as
            // Main) is recompiled on the fly (on-stack replacement) on the calling thread, and the
            // JIT's own allocations would be charged to the measurement, not to the predictor.
            using (var net = new App.Net())
            {
                var x = new float[App.Net.XLength];
                var y = new float[App.Net.YLength];
                PredictMany(net, x, y, 1000);
                long allocated = PredictMany(net, x, y, 1000);
                Console.WriteLine($"allocated-bytes-per-1000-calls={allocated}");
            }

            [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
            static long PredictMany(App.Net net, float[] x, float[] y, int calls)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < calls; i++) net.Predict(x, y);
                return GC.GetAllocatedBytesForCurrentThread() - before;
            }
            """);

        // (a) Build, run, compare with ONNX Runtime.
        var build = Dotnet(package, folder, "build", "-nologo", "-v:n");
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.False(build.HasStackTrace, build.ToString());
        var appDll = Path.Combine(folder, "bin", "Debug", "net10.0", "app.dll");
        AssertMatchesOnnxRuntime(package, folder, appDll, "net", cnn, "x", [1, 1, 8, 8], "y", 3, seed: 10);
        AssertMatchesOnnxRuntime(package, folder, appDll, "v2", mlp, "features", [1, 4], "scores", 5, seed: 11);

        // (b) No change: the optimizer is skipped, its outputs untouched.
        var outDir = Path.Combine(folder, "obj", "Debug", "net10.0", "modelgen");
        var outputs = new[] { "Net.mgspec", "Net.weights", "Net.onnx", "MyModelV2.mgspec", "MyModelV2.weights", "MyModelV2.onnx" }
            .Select(f => Path.Combine(outDir, f)).ToArray();
        var stamps = outputs.Select(File.GetLastWriteTimeUtc).ToArray();
        var again = Dotnet(package, folder, "build", "-nologo", "-v:d");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("Skipping target \"_ModelGen_Optimize\" because all output files are up-to-date", again.Output);
        Assert.DoesNotContain("modelgen.dll optimize", again.Output);
        Assert.Equal(stamps, outputs.Select(File.GetLastWriteTimeUtc));

        // Touching one model reruns the optimizer for that model only.
        File.SetLastWriteTimeUtc(Path.Combine(folder, "models", "x.onnx"), DateTime.UtcNow.AddSeconds(2));
        var touched = Dotnet(package, folder, "build", "-nologo", "-v:n");
        Assert.True(touched.ExitCode == 0, touched.ToString());
        Assert.Single(touched.Output.Split('\n'), l => l.Contains("modelgen.dll optimize", StringComparison.Ordinal));
        Assert.Contains("--name Net", touched.Output);
        Assert.True(File.GetLastWriteTimeUtc(outputs[0]) > stamps[0], "Net.mgspec was not rewritten");
        Assert.Equal(stamps[3], File.GetLastWriteTimeUtc(outputs[3]));

        // (c) Clean removes the outputs.
        var clean = Dotnet(package, folder, "clean", "-nologo", "-v:n");
        Assert.True(clean.ExitCode == 0, clean.ToString());
        Assert.All(outputs, f => Assert.False(File.Exists(f), $"{f} survived dotnet clean"));
    }

    private static void AssertMatchesOnnxRuntime(PackedPackage package, string folder, string appDll, string which,
        byte[] model, string inputName, long[] inputShape, string outputName, int outLength, int seed)
    {
        var inLength = (int)inputShape.Aggregate(1L, (a, b) => a * b);
        var input = TestModels.Random(new Random(seed), inLength * Samples, 1f);
        var inPath = Path.Combine(folder, which + ".in.bin");
        var outPath = Path.Combine(folder, which + ".out.bin");
        File.WriteAllBytes(inPath, MemoryMarshal.AsBytes(input.AsSpan()).ToArray());

        var run = Dotnet(package, folder, appDll, which, inLength.ToString(), outLength.ToString(), inPath, outPath);
        Assert.True(run.ExitCode == 0, run.ToString());
        // The generated Predict allocates nothing after construction (GC.GetAllocatedBytesForCurrentThread).
        Assert.Contains("allocated-bytes-per-1000-calls=0", run.Output);
        var actual = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(outPath)).ToArray();
        Assert.Equal(outLength * Samples, actual.Length);

        using var session = new InferenceSession(model);
        using var options = new RunOptions();
        var worst = 0.0;
        for (var s = 0; s < Samples; s++)
        {
            var sample = input.AsSpan(s * inLength, inLength).ToArray();
            using var value = OrtValue.CreateTensorValueFromMemory(sample, inputShape);
            using var results = session.Run(options, [inputName], [value], [outputName]);
            var expected = results[0].GetTensorDataAsSpan<float>();
            Assert.Equal(outLength, expected.Length);
            for (var i = 0; i < outLength; i++)
            {
                var error = Math.Abs(actual[s * outLength + i] - expected[i]) / Math.Max(Math.Abs(expected[i]), 1e-2);
                worst = Math.Max(worst, error);
            }
        }

        Assert.True(worst <= MaxRelativeError, $"{which}: max relative error {worst:E2} > {MaxRelativeError:E0}");
    }

    public static TheoryData<string, string, string> BadInputs => new()
    {
        { "corrupt", "MG1002", "corrupt.onnx" },
        { "truncated", "MG1003", "truncated.onnx" },
        // An unsupported op is no longer bad input: it falls back to ONNX Runtime, and fails with
        // MG1004 only under Fallback="Error" (AnyModelBuildTests).
        { "mismatch", "MG1005", "mismatch.onnx" },
        { "missing", "MG1001", "missing.onnx" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void BadModelFailsTheBuildWithItsOwnCodeNamingTheFileAndNoStackTrace(string kind, string code, string mention)
    {
        var package = PackedPackage.Get();
        var folder = CreateApp(package, "bad-" + kind, $"""    <OptimizedModel Include="models/{kind}.onnx" />""");
        File.WriteAllText(Path.Combine(folder, "Program.cs"), "System.Console.WriteLine();");
        var path = Path.Combine(folder, "models", kind + ".onnx");
        switch (kind)
        {
            case "corrupt":
                var noise = new byte[4096];
                new Random(7).NextBytes(noise);
                File.WriteAllBytes(path, noise);
                break;
            case "truncated":
                var whole = TestModels.SmallCnn().Encode();
                File.WriteAllBytes(path, whole[..(whole.Length / 2)]);
                break;
            case "mismatch":
                File.WriteAllBytes(path, TestModels.GemmShapeMismatch().Encode());
                break;
        }

        var build = Dotnet(package, folder, "build", "-nologo", "-v:n");

        Assert.True(build.ExitCode != 0, build.ToString());
        Assert.True(build.ErrorCodes.SequenceEqual([code]), $"expected only {code}:\n{build}");
        var lines = build.ErrorLines(code);
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.Contains(kind + ".onnx", l));
        Assert.Contains(lines, l => l.Contains(mention, StringComparison.Ordinal));
        Assert.False(build.HasStackTrace, build.ToString());
        Assert.DoesNotContain("MG1099", build.Output);
    }
}
