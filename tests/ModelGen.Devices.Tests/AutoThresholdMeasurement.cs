using System.Diagnostics;
using System.Runtime.InteropServices;
using ModelGen.Runtime;
using ModelGen.Runtime.Devices;
using ModelGen.Runtime.Tests;

namespace ModelGen.Devices.Tests;

/// <summary>
/// How <see cref="ModelExecutors.DefaultMinDeviceFlops"/> is measured (docs/gpu.md): the CPU
/// executor's time per call for MLP-shaped plans of growing work, and the time of a device
/// round trip (input copy, launches, output copy) for the smallest plan on every device here.
/// The threshold is where the CPU's time reaches the round trip. Runs only with
/// <c>MODELGEN_MEASURE=&lt;file&gt;</c>, writing its table there.
/// </summary>
public class AutoThresholdMeasurement
{
    [Fact]
    public void Measure()
    {
        string? path = Environment.GetEnvironmentVariable("MODELGEN_MEASURE");
        if (string.IsNullOrEmpty(path)) Assert.Skip("a measurement, not a test: set MODELGEN_MEASURE=<file> to run it");
        using var writer = new StreamWriter(path);
        writer.WriteLine("backend\tsize\tflops\tus_per_call");
        foreach (var backend in new[] { Backend.Cpu, Backend.OpenCL, Backend.Cuda })
        {
            if (!ModelExecutors.IsAvailable(backend, out _)) continue;
            foreach (int n in new[] { 16, 64, 128, 256, 512, 1024 })
            {
                var plan = Mlp(n);
                using var weights = plan.Weights();
                var compiled = plan.Plan();
                using var executor = ModelExecutors.Create(compiled, weights, backend, out _, out _);
                var input = Data.Random(1, n);
                var output = new float[n];
                double us = Time(executor, input, output);
                writer.WriteLine($"{backend}\t{n}\t{ModelExecutors.EstimateFlops(compiled)}\t{us:F1}");
            }
        }
    }

    private static TestPlan Mlp(int n)
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", [1, n]);
        int h = plan.Arena("h", [1, n]);
        plan.Step("Gemm", [ix, plan.Weight("W1", Data.Random(2, n * n, -0.1f, 0.1f), [n, n])], [h], PlanAttribute.String("activation", "Relu"));
        int iy = plan.Arena("Y", [1, n]);
        plan.Step("Gemm", [h, plan.Weight("W2", Data.Random(3, n * n, -0.1f, 0.1f), [n, n])], [iy]);
        plan.Output(iy);
        return plan;
    }

    private static double Time(IModelExecutor executor, float[] input, float[] output)
    {
        void Call()
        {
            executor.SetInput(0, MemoryMarshal.AsBytes(input.AsSpan()));
            executor.Run();
            executor.GetOutput(0, MemoryMarshal.AsBytes(output.AsSpan()));
        }
        for (int i = 0; i < 20; i++) Call();
        var watch = Stopwatch.StartNew();
        int calls = 0;
        while (watch.ElapsedMilliseconds < 300)
        {
            Call();
            calls++;
        }
        return watch.Elapsed.TotalMicroseconds / calls;
    }
}
