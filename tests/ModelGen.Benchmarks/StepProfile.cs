using System.Diagnostics;
using System.Globalization;
using ModelGen.Runtime;

namespace ModelGen.Benchmarks;

/// <summary>
/// <c>--profile [--filter TEXT] [--seconds S]</c>: where a model's time goes, step by step. Each
/// case is prepared as in the quick mode (outputs checked against ONNX Runtime first), then ONNX
/// Runtime's session is closed, so its threads do not share the cores, and the plan runs for about
/// S seconds through <see cref="PlanExecutor.RunProfiled"/>. Prints the time per op type and the
/// slowest steps, in µs per call and share of the whole call.
/// </summary>
internal static class StepProfile
{
    private static readonly int TopSteps = int.TryParse(Environment.GetEnvironmentVariable("MODELGEN_PROFILE_TOP"), out int top) ? top : 16;

    /// <param name="seconds">Profiling time per case.</param>
    /// <param name="filter">Only cases whose id contains this (null: all).</param>
    /// <param name="cpuTime">
    /// Time steps by the calling thread's CPU time instead of the wall clock, so other processes on a
    /// shared machine do not inflate them. Only meaningful single-threaded (the worker pool's CPU time is
    /// not counted): run with <c>DOTNET_PROCESSOR_COUNT=1</c>.
    /// </param>
    public static int Run(double seconds, string? filter, bool cpuTime = false)
    {
        if (cpuTime && Environment.ProcessorCount > 1)
        {
            Console.Error.WriteLine("--cpu-time counts the calling thread only: run with DOTNET_PROCESSOR_COUNT=1 so no step runs on the worker pool");
            return 2;
        }
        Func<long> clock = cpuTime ? ThreadCpuClock.Nanoseconds : Stopwatch.GetTimestamp;
        double frequency = cpuTime ? 1e9 : Stopwatch.Frequency;
        var inv = CultureInfo.InvariantCulture;
        var cases = BenchCatalog.Matching(filter);
        if (cases.Count == 0) return 2;
        foreach (var benchCase in cases)
        {
            using var pair = PreparedPair.Create(benchCase);
            pair.Ort.Dispose();
            var runner = pair.ModelGen;
            var steps = runner.Plan.Steps;
            var ticks = new long[steps.Length];
            var warm = Stopwatch.StartNew();
            while (warm.Elapsed.TotalSeconds < seconds * 0.2) runner.InvokeProfiled(ticks, clock);
            Array.Clear(ticks);
            // Per step, also the fastest call: on a shared machine the mean carries other processes' time, the minimum hardly any.
            var one = new long[steps.Length];
            var fastest = new long[steps.Length];
            Array.Fill(fastest, long.MaxValue);
            long fastestCall = long.MaxValue;
            long calls = 0;
            var timer = Stopwatch.StartNew();
            while (calls < 3 || timer.Elapsed.TotalSeconds < seconds)
            {
                Array.Clear(one);
                runner.InvokeProfiled(one, clock);
                long sum = 0;
                for (int i = 0; i < one.Length; i++)
                {
                    ticks[i] += one[i];
                    fastest[i] = Math.Min(fastest[i], one[i]);
                    sum += one[i];
                }
                fastestCall = Math.Min(fastestCall, sum);
                calls++;
            }
            double total = ticks.Sum();
            double Micros(double t) => t / frequency * 1e6 / calls;
            double MinMicros(long t) => t * 1e6 / frequency;
            Console.WriteLine($"## {benchCase.Id}: {Micros(total).ToString("F1", inv)} us per call (fastest {MinMicros(fastestCall).ToString("F1", inv)}) in {steps.Length} steps ({calls} calls{(cpuTime ? ", thread CPU time, one thread" : "")})");
            Console.WriteLine("op type              us/call   share  steps");
            foreach (var g in steps.Select((s, i) => (s.Op, Ticks: ticks[i])).GroupBy(x => x.Op).OrderByDescending(g => g.Sum(x => x.Ticks)))
            {
                double t = g.Sum(x => x.Ticks);
                Console.WriteLine($"{g.Key,-18} {Micros(t),9:F1} {100 * t / total,6:F1}%  {g.Count(),5}");
            }
            Console.WriteLine("slowest steps (mean, share, rate, fastest call; op, name, output shape):");
            foreach (int i in Enumerable.Range(0, steps.Length).OrderByDescending(i => ticks[i]).Take(TopSteps))
            {
                var output = steps[i].Outputs.Length > 0 ? runner.Plan.Slots[steps[i].Outputs[0]] : null;
                string shape = output is null ? "" : "[" + string.Join(",", output.Shape) + "]";
                if (steps[i].Op == "Conv") shape += " w[" + string.Join(",", runner.Plan.Slots[steps[i].Inputs[1]].Shape) + "]";
                long macs = MultiplyAdds(runner.Plan, steps[i]);
                string rate = macs == 0 ? "" : $" {2.0 * macs / (Micros(ticks[i]) * 1e3),6:F1} GFLOP/s";
                Console.WriteLine($"  {Micros(ticks[i]),9:F1} us {100 * ticks[i] / total,5:F1}%{rate} {MinMicros(fastest[i]),7:F1} us  {steps[i].Op} '{steps[i].Name}' {shape}");
            }
            Console.WriteLine();
        }
        return 0;
    }

    /// <summary>Multiply-adds of a Conv, Gemm or MatMul step (0 for other ops), so the profile can show each one's GFLOP/s.</summary>
    private static long MultiplyAdds(ExecutionPlan plan, PlanStep step)
    {
        if (step.Outputs.Length == 0 || step.Inputs.Length < 2 || step.Inputs[1] < 0) return 0;
        long outputs = plan.Slots[step.Outputs[0]].Shape.Aggregate(1L, (a, d) => a * d);
        int[] w = plan.Slots[step.Inputs[1]].Shape;
        int[] x = plan.Slots[step.Inputs[0]].Shape;
        return step.Op switch
        {
            // Each output element sums over one filter: C/group x kernel window.
            "Conv" => outputs * w.Skip(1).Aggregate(1L, (a, d) => a * d),
            // Each output element sums over the shared dimension K (A's last axis, or first when transposed).
            "Gemm" => outputs * (step.GetInt("transA", 0) == 1 ? x[0] : x[^1]),
            "MatMul" => outputs * x[^1],
            _ => 0,
        };
    }
}
