using System.Diagnostics;
using System.Globalization;

namespace ModelGen.Benchmarks;

/// <summary>
/// <c>--slow-calls [--filter TEXT] [--seconds S]</c>: which of ModelGen's steps grow when a call is slow. ModelGen's and ONNX
/// Runtime's calls alternate (M O M O …, as <c>--spread</c>), ModelGen's with each step timed; ModelGen's calls are then
/// ranked by their total, and each step's mean over the fastest half of the calls is set beside its mean over the slowest
/// tenth. Prints both sides' fastest call, median and 90th percentile, then the steps whose time grew most.
/// </summary>
/// <remarks>
/// <para>Why: on a host whose speed swings for seconds at a time, the quick mode's medians depend on how much each engine's
/// calls slow down in the slow seconds, not only on its fastest calls. <c>--spread</c> says which side slows down more;
/// this says where in ModelGen's plan the extra time goes (one kernel, or every step alike).</para>
/// <para>Meant for one core (<c>taskset -c 1</c>, <c>DOTNET_PROCESSOR_COUNT=1</c>): on two, ONNX Runtime's workers spin
/// after each of its calls and would fall on ModelGen's next one. <c>MODELGEN_PROFILE_TOP</c> sets how many steps are
/// listed (default 25).</para>
/// </remarks>
internal static class SlowCallStudy
{
    public static int Run(double seconds, string? filter)
    {
        int top = int.TryParse(Environment.GetEnvironmentVariable("MODELGEN_PROFILE_TOP"), out int t) && t > 0 ? t : 25;
        var inv = CultureInfo.InvariantCulture;
        foreach (var benchCase in BenchCatalog.Matching(filter))
        {
            using var pair = PreparedPair.Create(benchCase);
            var plan = pair.ModelGen.Plan;
            int steps = plan.Steps.Length;
            pair.WarmUp();
            var calls = new List<long[]>();
            var ort = new List<long>();
            var clock = Stopwatch.StartNew();
            while (calls.Count < 20 || clock.Elapsed.TotalSeconds < seconds)
            {
                var ticks = new long[steps];
                pair.ModelGen.InvokeProfiled(ticks, Stopwatch.GetTimestamp);
                calls.Add(ticks);
                long t0 = Stopwatch.GetTimestamp();
                pair.Ort.Invoke();
                ort.Add(Stopwatch.GetTimestamp() - t0);
            }
            double us = 1e6 / Stopwatch.Frequency;
            long[] totals = calls.Select(c => c.Sum()).ToArray();
            int[] ranked = Enumerable.Range(0, calls.Count).OrderBy(i => totals[i]).ToArray();
            int[] fast = ranked[..(ranked.Length / 2)];
            int[] slow = ranked[(ranked.Length * 9 / 10)..];
            ort.Sort();
            Console.WriteLine(string.Create(inv, $"## {benchCase.Id}: {calls.Count} alternating pairs of calls; ModelGen's steps timed"));
            Console.WriteLine("side          fastest_us      p50_us      p90_us");
            Console.WriteLine(string.Create(inv, $"{"modelgen",-12} {totals[ranked[0]] * us,11:F0} {totals[ranked[ranked.Length / 2]] * us,11:F0} {totals[ranked[ranked.Length * 9 / 10]] * us,11:F0}"));
            Console.WriteLine(string.Create(inv, $"{"onnxruntime",-12} {ort[0] * us,11:F0} {ort[ort.Count / 2] * us,11:F0} {ort[ort.Count * 9 / 10] * us,11:F0}"));
            Console.WriteLine(string.Create(inv, $"ModelGen's fastest half of the calls: {fast.Average(i => totals[i]) * us:F0} us on average; slowest tenth: {slow.Average(i => totals[i]) * us:F0} us"));
            Console.WriteLine("steps that grew most (mean over the fastest half, over the slowest tenth; op, name, output shape):");
            Console.WriteLine("  growth_us  fast_us  slow_us  slow/fast");
            var rows = Enumerable.Range(0, steps).Select(s =>
            {
                double f = fast.Average(i => (double)calls[i][s]) * us, sl = slow.Average(i => (double)calls[i][s]) * us;
                var step = plan.Steps[s];
                string shape = string.Join(",", plan.Slots[step.Outputs[0]].Shape);
                string weights = step.Op == "Conv" && step.Inputs.Length > 1 ? $" w[{string.Join(",", plan.Slots[step.Inputs[1]].Shape)}]" : "";
                return (Growth: sl - f, Line: string.Create(inv, $"  {sl - f,9:F0} {f,8:F0} {sl,8:F0} {sl / Math.Max(f, 1e-9),10:F2}  {step.Op} '{step.Name}' [{shape}]{weights}"));
            });
            foreach (var row in rows.OrderByDescending(r => r.Growth).Take(top)) Console.WriteLine(row.Line);
        }
        return 0;
    }
}
