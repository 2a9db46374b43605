using System.Diagnostics;
using System.Globalization;
using ModelGen.Optimizer;
using ModelGen.Optimizer.Planning;
using ModelGen.Runtime;
using ModelGen.Runtime.Devices;

namespace ModelGen.Benchmarks;

/// <summary>
/// One model compiled once and bound twice over the same weights and seeded inputs: on a device
/// backend (<see cref="ModelExecutors.Create"/>) and on the CPU <see cref="PlanExecutor"/>; their
/// outputs are compared before any timing, so a fast but wrong kernel gives no number.
/// </summary>
internal sealed class DevicePair : IDisposable
{
    private readonly ModelWeights _weights;

    private DevicePair(ModelWeights weights, ExecutorRunner device, ExecutorRunner cpu, string check, double cpuSeconds)
    {
        _weights = weights;
        Device = device;
        Cpu = cpu;
        Check = check;
        CpuCheckSeconds = cpuSeconds;
    }

    /// <summary>The device side.</summary>
    public ExecutorRunner Device { get; }

    /// <summary>The CPU side.</summary>
    public ExecutorRunner Cpu { get; }

    /// <summary>What the output check measured.</summary>
    public string Check { get; }

    /// <summary>Seconds the CPU's (cold) checking call took.</summary>
    public double CpuCheckSeconds { get; }

    /// <summary>Optimizes <paramref name="source"/> (fp32), binds both sides and checks that they agree.</summary>
    /// <exception cref="InvalidOperationException">The device is not the one asked for, or the outputs disagree.</exception>
    public static DevicePair Create(Backend backend, string source, string name)
    {
        var result = ModelOptimizer.Optimize(new OptimizeOptions(source, BenchPaths.WorkFolder(Path.Combine("out", name)), name));
        var plan = SpecToPlan.Convert(result.Compiled.Spec);
        var weights = ModelWeights.FromBytes(result.Compiled.Weights);
        ExecutorRunner? device = null, cpu = null;
        try
        {
            var inputs = plan.Inputs.Select((id, i) => SeededData.Uniform(checked((int)plan.Slots[id].ElementCount), seed: 7 + i)).ToArray();
            var executor = ModelExecutors.Create(plan, weights, backend, out var active, out _);
            device = ExecutorRunner.Create(executor, plan, inputs);
            if (active != backend) throw new InvalidOperationException($"{name}: asked for {backend}, got {active}");
            cpu = ExecutorRunner.Create(new PlanExecutor(plan, weights), plan, inputs);
            var watch = Stopwatch.StartNew();
            cpu.Invoke();
            double cpuSeconds = watch.Elapsed.TotalSeconds;
            device.Invoke();
            string check = Compare(name, backend, device.Outputs, cpu.Outputs);
            return new DevicePair(weights, device, cpu, check, cpuSeconds);
        }
        catch
        {
            device?.Dispose();
            cpu?.Dispose();
            weights.Dispose();
            throw;
        }
    }

    /// <summary>max |device − cpu| / max |cpu| per output, at most <see cref="OutputCheck.Fp32Tolerance"/>.</summary>
    private static string Compare(string name, Backend backend, float[][] device, float[][] cpu)
    {
        double worst = 0;
        for (int o = 0; o < cpu.Length; o++)
        {
            double scale = 0, maxDiff = 0;
            for (int i = 0; i < cpu[o].Length; i++)
            {
                float a = device[o][i], b = cpu[o][i];
                if (!float.IsFinite(a) || !float.IsFinite(b))
                {
                    throw new InvalidOperationException($"{name}: output {o}[{i}] is not finite ({backend} {a}, Cpu {b}); nothing was timed");
                }
                scale = Math.Max(scale, Math.Abs(b));
                maxDiff = Math.Max(maxDiff, Math.Abs(a - b));
            }
            double error = maxDiff == 0 ? 0 : maxDiff / Math.Max(scale, 1e-30);
            if (error > OutputCheck.Fp32Tolerance)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"{name}: {backend} and Cpu disagree on output {o}: max |diff| {maxDiff:G4} = {error:G3} of max |cpu| {scale:G4}; nothing was timed. Run the device tests."));
            }
            worst = Math.Max(worst, error);
        }
        return string.Create(CultureInfo.InvariantCulture, $"{backend} and Cpu agree: max normalised error {worst:G3} (tolerance {OutputCheck.Fp32Tolerance:G2})");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Device.Dispose();
        Cpu.Dispose();
        _weights.Dispose();
    }
}
