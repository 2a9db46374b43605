using ModelGen.Tests;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;

namespace ModelGen.Build.Tests.Integration;

/// <summary>
/// Issue 4 as a user meets it, through the packed package and real <c>dotnet build</c>s:
/// a model with an op ModelGen does not compile (ArgMax) builds with warning MG1017 into a typed
/// predictor that runs through ONNX Runtime, and fails with MG1004 under <c>Fallback="Error"</c>;
/// a model with a symbolic batch gets <c>Predict(int batchSize, ...)</c>. Both match ONNX Runtime
/// (rtol 1e-4, atol 1e-5; the argmax exactly) and allocate 0 bytes per call after warm-up.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class AnyModelBuildTests(ITestOutputHelper log) : IDisposable
{
    private const float RelativeTolerance = 1e-4f, AbsoluteTolerance = 1e-5f;
    private static readonly TimeSpan Timeout = TimeSpan.Parse(ConsumerProject.BuildTimeout);
    private readonly TempFolder _temp = new("mg-any-");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void FallbackAndSymbolicBatchBuildTypedPredictorsThatMatchOnnxRuntime()
    {
        var package = PackedPackage.Get();
        var folder = _temp.Combine("app");
        Directory.CreateDirectory(Path.Combine(folder, "models"));
        ConsumerProject.WriteNugetConfig(folder, package.Feed);
        byte[] argmax = TestModels.ArgMaxNet().Encode(), batch = TestModels.BatchMlp().Encode();
        File.WriteAllBytes(Path.Combine(folder, "models", "argmax.onnx"), argmax);
        File.WriteAllBytes(Path.Combine(folder, "models", "batch.onnx"), batch);
        ConsumerProject.Write(folder, "app", """
              <ItemGroup>
                <PackageReference Include="ModelGen" Version="0.1.0" />
                <OptimizedModel Include="models/argmax.onnx" ClassName="ArgMaxNet" Namespace="App" />
                <OptimizedModel Include="models/batch.onnx" ClassName="BatchMlp" Namespace="App" MaxBatch="64" />
                <OptimizedModel Include="models/batch.onnx" ClassName="PrunedMlp" Namespace="App" Prune="Magnitude" Sparsity="0.5" AllowUngated="true" />
              </ItemGroup>
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), Program);
        var x = TestModels.Random(new Random(7), 64 * 8, 1f);
        File.WriteAllBytes(Path.Combine(folder, "x.bin"), MemoryMarshal.AsBytes(x.AsSpan()).ToArray());

        var build = DotnetCli.Run(folder, package.Environment, Timeout, "build", "-nologo", "-v:m");
        Assert.True(build.ExitCode == 0, build.ToString());
        var warning = build.Output.Split('\n').FirstOrDefault(l => l.Contains("warning MG1017", StringComparison.Ordinal));
        Assert.True(warning is not null, "no MG1017 warning:\n" + build);
        Assert.Contains("argmax.onnx", warning);
        Assert.Contains("ArgMax (node 'ArgMax_1')", warning);
        Assert.DoesNotContain("batch.onnx: warning MG1019", build.Output);
        // ORT's native library is copied only because a model falls back to it.
        Assert.True(Directory.EnumerateFiles(Path.Combine(folder, "bin", "Debug", "net10.0"), "*onnxruntime*").Any(f => !f.EndsWith(".dll", StringComparison.Ordinal)),
            "ONNX Runtime's native library is missing from the output");

        var run = DotnetCli.Run(folder, package.Environment, Timeout, Path.Combine(folder, "bin", "Debug", "net10.0", "app.dll"));
        log.WriteLine(run.Output);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("argmax allocated 0 bytes over 1000 calls", run.Output);
        Assert.Contains("batch 7 allocated 0 bytes over 1000 calls", run.Output);
        Assert.Contains("batch 65: ArgumentOutOfRangeException", run.Output);
        // Backends: the default (Auto) stays on the CPU for this small model; ILGPU's CPU
        // accelerator runs the device kernels; a missing CUDA device and a device backend for
        // the ONNX Runtime fallback are refused with ModelGenDeviceException.
        Assert.Contains("default backend: Cpu", run.Output);
        Assert.Contains("IlgpuCpu backend: IlgpuCpu", run.Output);
        Assert.Contains("argmax on OpenCL: ModelGenDeviceException", run.Output);
        Assert.Matches("cuda: (ModelGenDeviceException: Backend.Cuda was requested, but it is not available|ran on Cuda)", run.Output);
        Assert.Matches("opencl: (ModelGenDeviceException: Backend.OpenCL was requested, but it is not available: looked for an OpenCL|ran on OpenCL)", run.Output);

        // The fallback predictor against ONNX Runtime on the same model.
        var (y, label) = Ort.RunArgMax(argmax, x.AsSpan(0, 6).ToArray());
        Close(y, Floats(folder, "argmax.y.bin"), "ArgMaxNet y");
        Assert.Equal(label, MemoryMarshal.Cast<byte, long>(File.ReadAllBytes(Path.Combine(folder, "argmax.label.bin"))).ToArray());

        // The batched predictor at 1, 7 and 64 samples, and the single-sample overload.
        foreach (int n in new[] { 1, 7, 64 })
        {
            var expected = Ort.RunBatch(batch, x.AsSpan(0, n * 8).ToArray(), n);
            Close(expected, Floats(folder, $"batch.{n}.bin"), $"BatchMlp batch {n}");
        }
        Close(Ort.RunBatch(batch, x.AsSpan(0, 8).ToArray(), 1), Floats(folder, "batch.single.bin"), "BatchMlp Predict(x, y)");
        Close(Ort.RunBatch(batch, x.AsSpan(0, 7 * 8).ToArray(), 7), Floats(folder, "batch.ilgpu.7.bin"), "BatchMlp on IlgpuCpu, batch 7");

        // Pruning through the item metadata: the optimized .onnx it wrote holds half the weights
        // as zeros, and the generated class (sparse or dense kernels, by the cost model) matches
        // ONNX Runtime on that file, batched.
        var pruned = File.ReadAllBytes(Path.Combine(folder, "obj", "Debug", "net10.0", "modelgen", "PrunedMlp.onnx"));
        Close(Ort.RunBatch(pruned, x.AsSpan(0, 7 * 8).ToArray(), 7), Floats(folder, "pruned.7.bin"), "PrunedMlp batch 7");
        Assert.NotEqual(Ort.RunBatch(batch, x.AsSpan(0, 8).ToArray(), 1), Floats(folder, "pruned.7.bin").AsSpan(0, 3).ToArray());

        // Fallback="Error": the same model fails the build, naming the op.
        var strict = _temp.Combine("strict");
        Directory.CreateDirectory(Path.Combine(strict, "models"));
        ConsumerProject.WriteNugetConfig(strict, package.Feed);
        File.WriteAllBytes(Path.Combine(strict, "models", "argmax.onnx"), argmax);
        ConsumerProject.Write(strict, "strict", """
              <ItemGroup>
                <PackageReference Include="ModelGen" Version="0.1.0" />
                <OptimizedModel Include="models/argmax.onnx" Fallback="Error" />
              </ItemGroup>
            """);
        File.WriteAllText(Path.Combine(strict, "Program.cs"), "System.Console.WriteLine();");
        var failed = DotnetCli.Run(strict, package.Environment, Timeout, "build", "-nologo", "-v:m");
        Assert.NotEqual(0, failed.ExitCode);
        Assert.False(failed.HasStackTrace, failed.ToString());
        var error = failed.ErrorLines("MG1004").FirstOrDefault();
        Assert.True(error is not null, failed.ToString());
        Assert.Contains("argmax.onnx", error);
        Assert.Contains("ArgMax (node 'ArgMax_1')", error);
        Assert.DoesNotContain("MG1017", failed.Output);
    }

    private static float[] Floats(string folder, string file) =>
        MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Path.Combine(folder, file))).ToArray();

    private static void Close(float[] expected, float[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            float limit = AbsoluteTolerance + RelativeTolerance * Math.Abs(expected[i]);
            Assert.True(Math.Abs(expected[i] - actual[i]) <= limit, $"{what}[{i}]: {actual[i]:G9} vs ONNX Runtime {expected[i]:G9}");
        }
    }

    /// <summary>ONNX Runtime on the model bytes the build compiled.</summary>
    private static class Ort
    {
        public static (float[] Y, long[] Label) RunArgMax(byte[] model, float[] x)
        {
            using var session = new InferenceSession(model);
            using var input = OrtValue.CreateTensorValueFromMemory(x, [1, 6]);
            using var outputs = session.Run(new RunOptions(), ["x"], [input], ["y", "label"]);
            return (outputs[0].GetTensorDataAsSpan<float>().ToArray(), outputs[1].GetTensorDataAsSpan<long>().ToArray());
        }

        public static float[] RunBatch(byte[] model, float[] x, int n)
        {
            using var session = new InferenceSession(model);
            using var input = OrtValue.CreateTensorValueFromMemory(x, [n, 8]);
            using var outputs = session.Run(new RunOptions(), ["x"], [input], ["y"]);
            return outputs[0].GetTensorDataAsSpan<float>().ToArray();
        }
    }

    /// <summary>
    /// The consumer app: runs both predictors, writes their outputs, and measures allocations in
    /// methods compiled fully optimized up front (on-stack replacement would charge its own bookkeeping).
    /// </summary>
    private const string Program = """
        using System.Runtime.CompilerServices;
        using System.Runtime.InteropServices;

        var x = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes("x.bin")).ToArray();
        using (var m = new App.ArgMaxNet())
        {
            var y = new float[App.ArgMaxNet.YLength];
            var label = new long[App.ArgMaxNet.LabelLength];
            m.Predict(x.AsSpan(0, App.ArgMaxNet.XLength), y, label);
            File.WriteAllBytes("argmax.y.bin", MemoryMarshal.AsBytes(y.AsSpan()).ToArray());
            File.WriteAllBytes("argmax.label.bin", MemoryMarshal.AsBytes(label.AsSpan()).ToArray());
            Console.WriteLine($"argmax allocated {Measure.ArgMax(m, x, y, label)} bytes over 1000 calls");
        }
        using (var m = new App.BatchMlp())
        {
            foreach (int n in new[] { 1, 7, 64 })
            {
                var y = new float[n * App.BatchMlp.YLength];
                m.Predict(n, x.AsSpan(0, n * App.BatchMlp.XLength), y);
                File.WriteAllBytes($"batch.{n}.bin", MemoryMarshal.AsBytes(y.AsSpan()).ToArray());
            }
            var single = new float[App.BatchMlp.YLength];
            m.Predict(x.AsSpan(0, App.BatchMlp.XLength), single);
            File.WriteAllBytes("batch.single.bin", MemoryMarshal.AsBytes(single.AsSpan()).ToArray());
            Console.WriteLine($"batch 7 allocated {Measure.Batch(m, x, new float[7 * App.BatchMlp.YLength])} bytes over 1000 calls");
            Console.WriteLine($"default backend: {m.ActiveBackend} ({m.DeviceName})");
            try
            {
                m.Predict(65, new float[65 * App.BatchMlp.XLength], new float[65 * App.BatchMlp.YLength]);
                Console.WriteLine("batch 65: no exception");
            }
            catch (ArgumentOutOfRangeException e)
            {
                Console.WriteLine($"batch 65: {e.GetType().Name}: {e.Message}");
            }
        }

        using (var p = new App.PrunedMlp())
        {
            var y = new float[7 * App.PrunedMlp.YLength];
            p.Predict(7, x.AsSpan(0, 7 * App.PrunedMlp.XLength), y);
            File.WriteAllBytes("pruned.7.bin", MemoryMarshal.AsBytes(y.AsSpan()).ToArray());
        }
        using (var g = new App.BatchMlp(ModelGen.Backend.IlgpuCpu))
        {
            Console.WriteLine($"IlgpuCpu backend: {g.ActiveBackend} ({g.DeviceName})");
            var y = new float[7 * App.BatchMlp.YLength];
            g.Predict(7, x.AsSpan(0, 7 * App.BatchMlp.XLength), y);
            File.WriteAllBytes("batch.ilgpu.7.bin", MemoryMarshal.AsBytes(y.AsSpan()).ToArray());
        }
        try
        {
            using var c = new App.BatchMlp(ModelGen.Backend.Cuda);
            Console.WriteLine($"cuda: ran on {c.ActiveBackend}");
        }
        catch (ModelGen.Runtime.ModelGenDeviceException e)
        {
            Console.WriteLine($"cuda: {e.GetType().Name}: {e.Message}");
        }
        try
        {
            using var cl = new App.BatchMlp(ModelGen.Backend.OpenCL);
            Console.WriteLine($"opencl: ran on {cl.ActiveBackend}");
        }
        catch (ModelGen.Runtime.ModelGenDeviceException e)
        {
            Console.WriteLine($"opencl: {e.GetType().Name}: {e.Message}");
        }
        try
        {
            using var o = new App.ArgMaxNet(ModelGen.Backend.OpenCL);
            Console.WriteLine("argmax on OpenCL: no exception");
        }
        catch (ModelGen.Runtime.ModelGenDeviceException e)
        {
            Console.WriteLine($"argmax on OpenCL: {e.GetType().Name}: {e.Message}");
        }

        static class Measure
        {
            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public static long ArgMax(App.ArgMaxNet m, float[] x, float[] y, long[] label)
            {
                var input = x.AsSpan(0, App.ArgMaxNet.XLength);
                for (int i = 0; i < 100; i++) m.Predict(input, y, label);
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 1000; i++) m.Predict(input, y, label);
                return GC.GetAllocatedBytesForCurrentThread() - before;
            }

            [MethodImpl(MethodImplOptions.AggressiveOptimization)]
            public static long Batch(App.BatchMlp m, float[] x, float[] y)
            {
                var input = x.AsSpan(0, 7 * App.BatchMlp.XLength);
                for (int i = 0; i < 100; i++) m.Predict(7, input, y);
                long before = GC.GetAllocatedBytesForCurrentThread();
                for (int i = 0; i < 1000; i++) m.Predict(7, input, y);
                return GC.GetAllocatedBytesForCurrentThread() - before;
            }
        }
        """;
}
