using System.Diagnostics;
using System.Globalization;

namespace ModelGen.Benchmarks;

/// <summary>
/// <c>--host-probe [--filter TEXT] [--seconds S]</c>: what the host's slow seconds slow down. Before each pair of calls
/// (ModelGen's, then ONNX Runtime's, as <c>--spread</c>) it times the <see cref="HostProbes"/>; then it sets each probe's
/// mean over ModelGen's fast calls (under 1.1 times its fastest) beside its mean over the slow ones (over 1.4 times).
/// A probe that grows as ModelGen's calls do names the resource the host takes away.
/// </summary>
/// <remarks>For one core (<c>taskset -c 1</c>, <c>DOTNET_PROCESSOR_COUNT=1</c>), as <c>--spread</c>.</remarks>
internal static class HostProbeStudy
{
    public static int Run(double seconds, string? filter)
    {
        var inv = CultureInfo.InvariantCulture;
        using var probes = new HostProbes();
        foreach (var benchCase in BenchCatalog.Matching(filter))
        {
            using var pair = PreparedPair.Create(benchCase);
            pair.WarmUp();
            var mg = new List<double>();
            var ort = new List<double>();
            var readings = new List<double[]>();
            var total = Stopwatch.StartNew();
            while (mg.Count < 40 || total.Elapsed.TotalSeconds < seconds)
            {
                readings.Add(probes.Measure());
                pair.TimedPair(mg, ort);
            }
            double fastest = mg.Min();
            var fast = Enumerable.Range(0, mg.Count).Where(i => mg[i] < 1.1 * fastest).ToList();
            var slow = Enumerable.Range(0, mg.Count).Where(i => mg[i] > 1.4 * fastest).ToList();
            Console.WriteLine(string.Create(inv, $"## {benchCase.Id}: {mg.Count} pairs of calls, {fast.Count} of ModelGen's fast (< 1.1x its fastest), {slow.Count} slow (> 1.4x)"));
            Console.WriteLine("side          fastest_us      p10_us      p50_us      p90_us  p50/fastest");
            SpreadStudy.Print("modelgen", [.. mg]);
            SpreadStudy.Print("onnxruntime", [.. ort]);
            if (fast.Count == 0 || slow.Count == 0)
            {
                Console.WriteLine("no fast or no slow calls: nothing to set side by side");
                continue;
            }
            Console.WriteLine(string.Create(inv, $"{"probe",-42} {"fast_us",9} {"slow_us",9} {"slow/fast",9}"));
            Console.WriteLine(string.Create(inv, $"{"ONNX Runtime's call",-42} {fast.Average(i => ort[i]),9:F1} {slow.Average(i => ort[i]),9:F1} {slow.Average(i => ort[i]) / fast.Average(i => ort[i]),9:F2}"));
            for (int k = 0; k < HostProbes.Names.Length; k++)
            {
                double f = fast.Average(i => readings[i][k]), s = slow.Average(i => readings[i][k]);
                Console.WriteLine(string.Create(inv, $"{HostProbes.Names[k],-42} {f,9:F1} {s,9:F1} {s / f,9:F2}"));
            }
        }
        return 0;
    }
}
