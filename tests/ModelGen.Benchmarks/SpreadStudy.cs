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
/// <para>With <c>--alone</c> the sides take turns in blocks instead (a quarter second of one, each block after 0.1 s of
/// untimed calls of the same side, as in <see cref="Interleaved"/>), so neither side's calls meet the other's threads:
/// meant for two cores, where ONNX Runtime's workers spin for tens of milliseconds after each of its calls.</para>
/// <para>Alternating single calls, one core (<c>taskset -c 1</c>, <c>DOTNET_PROCESSOR_COUNT=1</c>), ONNX Runtime's pool has no
/// spinning thread to leave behind; on two cores its workers' spin after each call would fall on ModelGen's next one,
/// so the mode is meant for one core.</para>
/// </remarks>
internal static class SpreadStudy
{
    /// <summary>Length of one side's timed block (<c>--alone</c>).</summary>
    private const double BlockSeconds = 0.25;

    public static int Run(double seconds, string? filter, bool alone)
    {
        var inv = CultureInfo.InvariantCulture;
        foreach (var benchCase in BenchCatalog.Matching(filter))
        {
            using var pair = PreparedPair.Create(benchCase);
            pair.WarmUp();
            var mg = new List<double>();
            var ort = new List<double>();
            var total = Stopwatch.StartNew();
            while (mg.Count < 20 || total.Elapsed.TotalSeconds < seconds)
            {
                if (alone)
                {
                    Block(pair.ModelGen.Invoke, mg);
                    Block(pair.Ort.Invoke, ort);
                    continue;
                }
                pair.TimedPair(mg, ort);
            }
            Console.WriteLine(alone
                ? string.Create(inv, $"## {benchCase.Id}: {mg.Count} and {ort.Count} calls, each side alone in turns of {BlockSeconds} s")
                : string.Create(inv, $"## {benchCase.Id}: {mg.Count} alternating pairs of calls"));
            Console.WriteLine("side          fastest_us      p10_us      p50_us      p90_us  p50/fastest");
            Print("modelgen", mg);
            Print("onnxruntime", ort);
        }
        return 0;
    }

    /// <summary>One side's turn: <see cref="Interleaved"/>'s settle of untimed calls, then <see cref="BlockSeconds"/> of timed ones.</summary>
    private static void Block(Action call, List<double> times)
    {
        Interleaved.Settle(call);
        times.AddRange(TimedBlock(call, BlockSeconds));
    }

    /// <summary>Calls <paramref name="call"/> back to back for <paramref name="seconds"/>; each call's time in µs.</summary>
    internal static List<double> TimedBlock(Action call, double seconds)
    {
        double tick = 1e6 / Stopwatch.Frequency;
        var times = new List<double>();
        var block = Stopwatch.StartNew();
        do
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            times.Add((Stopwatch.GetTimestamp() - t0) * tick);
        }
        while (block.Elapsed.TotalSeconds < seconds);
        return times;
    }

    internal static void Print(string side, List<double> times)
    {
        times.Sort();
        double At(double q) => times[(int)Math.Min(times.Count - 1, q * times.Count)];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{side,-12} {times[0],11:F1} {At(0.1),11:F1} {At(0.5),11:F1} {At(0.9),11:F1} {At(0.5) / times[0],12:F2}"));
    }
}
