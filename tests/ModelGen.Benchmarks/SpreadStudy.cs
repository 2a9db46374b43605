using System.Diagnostics;
using System.Globalization;

namespace ModelGen.Benchmarks;

/// <summary>
/// <c>--spread [--filter TEXT] [--seconds S]</c>: how widely single calls spread, ModelGen's against ONNX Runtime's, with the
/// two alternating call by call (M O M O …), so that each pair of calls meets the same state of the host. Prints each
/// side's fastest call, percentiles, and the median over the fastest. The quick mode's chunks answer "which is faster";
/// this answers "which one does a noisy host slow down more", which the chunks' medians mix in.
/// </summary>
/// <remarks>
/// Alternating single calls, one core (<c>taskset -c 1</c>, <c>DOTNET_PROCESSOR_COUNT=1</c>), ONNX Runtime's pool has no
/// spinning thread to leave behind; on two cores its workers' spin after each call would fall on ModelGen's next one,
/// so the mode is meant for one core.
/// </remarks>
internal static class SpreadStudy
{
    public static int Run(double seconds, string? filter)
    {
        var inv = CultureInfo.InvariantCulture;
        foreach (var benchCase in BenchCatalog.All().Where(c => filter is null || c.Id.Contains(filter, StringComparison.OrdinalIgnoreCase)))
        {
            using var pair = PreparedPair.Create(benchCase);
            for (int i = 0; i < 50; i++)
            {
                pair.ModelGen.Invoke();
                pair.Ort.Invoke();
            }
            var mg = new List<double>();
            var ort = new List<double>();
            double tick = 1e6 / Stopwatch.Frequency;
            var total = Stopwatch.StartNew();
            while (mg.Count < 20 || total.Elapsed.TotalSeconds < seconds)
            {
                long t0 = Stopwatch.GetTimestamp();
                pair.ModelGen.Invoke();
                long t1 = Stopwatch.GetTimestamp();
                pair.Ort.Invoke();
                long t2 = Stopwatch.GetTimestamp();
                mg.Add((t1 - t0) * tick);
                ort.Add((t2 - t1) * tick);
            }
            Console.WriteLine(string.Create(inv, $"## {benchCase.Id}: {mg.Count} alternating pairs of calls"));
            Console.WriteLine("side          fastest_us      p10_us      p50_us      p90_us  p50/fastest");
            Print("modelgen", mg);
            Print("onnxruntime", ort);
        }
        return 0;
    }

    private static void Print(string side, List<double> times)
    {
        times.Sort();
        double At(double q) => times[(int)Math.Min(times.Count - 1, q * times.Count)];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{side,-12} {times[0],11:F1} {At(0.1),11:F1} {At(0.5),11:F1} {At(0.9),11:F1} {At(0.5) / times[0],12:F2}"));
    }
}
