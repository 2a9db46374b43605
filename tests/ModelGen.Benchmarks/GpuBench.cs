using System.Diagnostics;
using System.Globalization;
using ModelGen.Optimizer;
using ModelGen.Optimizer.Planning;
using ModelGen.Runtime;
using ModelGen.Runtime.Devices;

namespace ModelGen.Benchmarks;

/// <summary>
/// The device mode (<c>--gpu</c>): on the best device backend present (Cuda, else OpenCL, else
/// ILGPU's CPU accelerator), the throughput of the light ResNet-50 and a large MLP at batch 64 and
/// 256 against ModelGen's CPU backend, timed interleaved, then the device SGEMM's GFLOP/s at
/// 4096. Every row's device outputs are checked against the CPU's (max normalised error 1e-4,
/// <see cref="OutputCheck"/>'s measure) before any timing. On ILGPU's CPU accelerator, or with
/// <c>--small</c>, sizes are tiny (batch 2 and 4, a narrow MLP, SGEMM 256) and ResNet-50 is left
/// out: the accelerator simulates a GPU with threads and would take minutes per call.
/// </summary>
internal static class GpuBench
{
    private static readonly CultureInfo Culture = CultureInfo.InvariantCulture;

    /// <summary>Runs the device mode; returns the process exit code.</summary>
    /// <param name="seconds">Timing budget per row (both sides together).</param>
    /// <param name="small">Tiny sizes even on a real device.</param>
    public static int Run(double seconds, bool small)
    {
        var backend = new[] { Backend.Cuda, Backend.OpenCL }.FirstOrDefault(b => ModelExecutors.IsAvailable(b, out _), Backend.IlgpuCpu);
        if (!ModelExecutors.IsAvailable(backend, out string device))
        {
            Console.Error.WriteLine($"no device backend: {device}");
            return 1;
        }
        bool tiny = small || backend == Backend.IlgpuCpu;
        int[] batches = tiny ? [2, 4] : [64, 256];
        int[] mlp = tiny ? [64, 256, 256, 10] : [1024, 4096, 4096, 1000];
        int gemm = tiny ? 256 : 4096;
        Console.WriteLine(string.Create(Culture,
            $"# ModelGen {backend} ({device}) vs Cpu ({Environment.ProcessorCount} cores), {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {seconds:G3} s per row{(tiny ? ", tiny sizes" : "")}"));
        Console.WriteLine($"{"model",-24} {"batch",5} {"device_us",12} {"cpu_us",12} {"device_per_s",12} {"cpu_per_s",12} {"speedup",7} {"alloc_B",7}");
        var models = new List<(string Name, Func<int, string> Source)>
        {
            ($"mlp-{string.Join('-', mlp)}", b => Save(BenchModels.Mlp(b, mlp), $"mlp-gpu-b{b}")),
        };
        string resnet = BenchCatalog.LightModels.First(m => m.Model == "resnet50").Path;
        if (tiny) Console.Error.WriteLine("resnet50: left out at tiny sizes");
        else if (BenchPaths.TestData(resnet) is { } path) models.Insert(0, ("resnet50", b => AtBatch.Rewrite(path, b, "resnet50")));
        else Console.Error.WriteLine($"resnet50: {Path.Combine(BenchPaths.TestDataRoot, resnet)} is missing");

        foreach (var (name, source) in models)
        {
            foreach (int batch in batches) Row(backend, name, batch, source(batch), seconds);
        }
        Sgemm(backend, gemm, seconds);
        return 0;
    }

    private static void Row(Backend backend, string name, int batch, string source, double seconds)
    {
        using var pair = DevicePair.Create(backend, source, $"{name}-b{batch}".Replace('-', '_'));
        Console.Error.WriteLine($"{name}/b{batch}: {pair.Check}");
        var timing = Interleaved.Run(pair.Device.Invoke, pair.Cpu.Invoke, seconds);
        Console.WriteLine(string.Create(Culture,
            $"{name,-24} {batch,5} {timing.AMicros,12:F0} {timing.BMicros,12:F0} {batch * 1e6 / timing.AMicros,12:F1} {batch * 1e6 / timing.BMicros,12:F1} {timing.BMicros / timing.AMicros,7:F2} {timing.AAllocBytesPerCall,7:F0}"));
    }

    /// <summary>
    /// n×n×n on the device, timed alone (the CPU at 4096 takes seconds per call, too long to
    /// interleave); the CPU's single checking call is printed for scale.
    /// </summary>
    private static void Sgemm(Backend backend, int n, double seconds)
    {
        string source = Save(BenchModels.Gemm(n), $"gemm-gpu-{n}");
        using var pair = DevicePair.Create(backend, source, $"gemm_gpu_{n}");
        Console.Error.WriteLine($"sgemm {n}: {pair.Check}");
        double flops = 2.0 * n * n * n;
        pair.Device.Invoke(); // warm
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 3 || total.Elapsed.TotalSeconds < seconds)
        {
            long start = Stopwatch.GetTimestamp();
            pair.Device.Invoke();
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        times.Sort();
        double median = times[times.Count / 2];
        Console.WriteLine(string.Create(Culture,
            $"sgemm {n}x{n}x{n} fp32 {backend}: {flops / median / 1e9:F1} GFLOP/s ({median * 1e6:F0} us, median of {times.Count}, copies in and out included); cpu {flops / pair.CpuCheckSeconds / 1e9:F1} GFLOP/s (one call)"));
    }

    private static string Save(ModelGen.Onnx.Ir.OnnxModel model, string name)
    {
        var path = Path.Combine(BenchPaths.WorkFolder("models"), name + ".onnx");
        if (!File.Exists(path)) ModelGen.Onnx.OnnxWriter.Save(model, path);
        return path;
    }
}
