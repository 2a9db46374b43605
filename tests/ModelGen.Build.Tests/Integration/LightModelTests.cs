using System.Runtime.InteropServices;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Runtime;
using ModelGen.Tests;

namespace ModelGen.Build.Tests.Integration;

/// <summary>
/// ONNX's four "light" real-architecture models (AlexNet, SqueezeNet, ResNet-50, VGG-19; full-size
/// networks whose weights are ConstantOfShape fills) built through <c>&lt;OptimizedModel&gt;</c>
/// into generated classes, in one consumer app, and run on <c>test_data_set_0/input_0.pb</c>.
/// Each output must match <c>output_0.pb</c> the way ONNX's own runner checks it:
/// |actual − expected| ≤ atol + rtol·|expected| with rtol = 1e-3, atol = 1e-7.
/// One build and one run cover all four (CI has two cores); the models are copied into the
/// temp project only, never committed.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class LightModelTests(ITestOutputHelper log) : IDisposable
{
    private const double RelativeTolerance = 1e-3;
    private const double AbsoluteTolerance = 1e-7;

    /// <summary>Shared folder name under onnx-light and the generated class name.</summary>
    private static readonly (string Folder, string ClassName)[] Models =
    [
        ("light_bvlc_alexnet", "AlexNet"),
        ("light_squeezenet", "SqueezeNet"),
        ("light_resnet50", "ResNet50"),
        ("light_vgg19", "Vgg19"),
    ];

    private static readonly TimeSpan Timeout = TimeSpan.Parse(ConsumerProject.BuildTimeout);
    private readonly TempFolder _temp = new("mg-light-");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void AllFourLightModelsMatchTheirExpectedOutputsThroughGeneratedClasses()
    {
        var sources = Models.Select(m => TestData.Require(Path.Combine("onnx-light", m.Folder))).ToArray();
        var package = PackedPackage.Get();
        var folder = _temp.Combine("light");
        Directory.CreateDirectory(Path.Combine(folder, "models"));
        ConsumerProject.WriteNugetConfig(folder, package.Feed);
        var items = string.Join("\n", Models.Select(m =>
            $"""    <OptimizedModel Include="models/{m.ClassName}.onnx" ClassName="{m.ClassName}" Namespace="App" />"""));
        ConsumerProject.Write(folder, "app", $"""
              <ItemGroup>
                <PackageReference Include="ModelGen" Version="0.1.0" />
            {items}
              </ItemGroup>
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), Program);

        var expected = new Dictionary<string, OnnxTensor>();
        var runArgs = new List<string> { Path.Combine(folder, "bin", "Debug", "net10.0", "app.dll") };
        for (int i = 0; i < Models.Length; i++)
        {
            var (_, className) = Models[i];
            File.Copy(Path.Combine(sources[i], "model.onnx"), Path.Combine(folder, "models", className + ".onnx"));
            var input = OnnxLoader.LoadTensor(Path.Combine(sources[i], "test_data_set_0", "input_0.pb"));
            Assert.Equal(ElementType.Float, input.Type);
            File.WriteAllBytes(Path.Combine(folder, className + ".in.bin"), input.Data);
            expected[className] = OnnxLoader.LoadTensor(Path.Combine(sources[i], "test_data_set_0", "output_0.pb"));
            runArgs.Add($"{className}:{expected[className].ElementCount}");
        }

        var build = DotnetCli.Run(folder, package.Environment, Timeout, "build", "-nologo", "-v:m");
        Assert.True(build.ExitCode == 0, build.ToString());
        Assert.False(build.HasStackTrace, build.ToString());
        foreach (var generated in Directory.EnumerateFiles(Path.Combine(folder, "obj"), "*.g.cs", SearchOption.AllDirectories))
        {
            log.WriteLine($"generated {Path.GetFileName(generated)}: {new FileInfo(generated).Length:N0} bytes");
        }

        var run = DotnetCli.Run(folder, package.Environment, Timeout, [.. runArgs]);
        log.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, run.ToString());

        var failures = new List<string>();
        foreach (var (_, className) in Models)
        {
            var want = expected[className].ToFloatArray();
            var got = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(folder, className + ".out.bin"))).ToArray();
            if (got.Length != want.Length)
            {
                failures.Add($"{className}: {got.Length} outputs, expected {want.Length}");
                continue;
            }
            int bad = 0, worstAt = -1;
            double worst = 0;
            for (int i = 0; i < want.Length; i++)
            {
                double excess = Math.Abs(got[i] - want[i]) - (AbsoluteTolerance + RelativeTolerance * Math.Abs(want[i]));
                if (!(excess <= 0)) bad++;
                if (!(excess <= worst)) (worst, worstAt) = (double.IsNaN(excess) ? double.PositiveInfinity : excess, i);
            }
            if (bad > 0)
            {
                failures.Add($"{className}: {bad} of {want.Length} outputs outside rtol {RelativeTolerance:G} / atol {AbsoluteTolerance:G}; "
                    + $"worst at [{worstAt}]: {got[worstAt]:G9} vs expected {want[worstAt]:G9}");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>
    /// The consumer app. Usage: app Class:outputLength…; reads Class.in.bin (raw fp32), predicts,
    /// writes Class.out.bin, and prints the first and a steady-state call's time (for the log:
    /// the first call of a model also does its one-time constant fills; tests never assert times).
    /// </summary>
    private const string Program = """
        using System.Diagnostics;
        using System.Runtime.InteropServices;

        foreach (var arg in args)
        {
            var parts = arg.Split(':');
            string name = parts[0];
            var input = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(name + ".in.bin")).ToArray();
            var output = new float[int.Parse(parts[1])];
            var clock = Stopwatch.StartNew();
            using IDisposable model = name switch
            {
                "AlexNet" => new App.AlexNet(),
                "SqueezeNet" => new App.SqueezeNet(),
                "ResNet50" => new App.ResNet50(),
                "Vgg19" => new App.Vgg19(),
                _ => throw new ArgumentException("unknown model " + name),
            };
            double load = clock.Elapsed.TotalMilliseconds;
            Action predict = model switch
            {
                App.AlexNet m => () => m.Predict(input, output),
                App.SqueezeNet m => () => m.Predict(input, output),
                App.ResNet50 m => () => m.Predict(input, output),
                App.Vgg19 m => () => m.Predict(input, output),
                _ => throw new InvalidOperationException(),
            };
            clock.Restart();
            predict();
            double first = clock.Elapsed.TotalMilliseconds;
            clock.Restart();
            predict();
            double second = clock.Elapsed.TotalMilliseconds;
            File.WriteAllBytes(name + ".out.bin", MemoryMarshal.AsBytes(output.AsSpan()).ToArray());
            Console.WriteLine($"{name}: load {load:F0} ms, first call {first:F0} ms, second call {second:F0} ms");
        }
        """;
}
