using System.Diagnostics;
using System.Globalization;

namespace ModelGen.Benchmarks;

/// <summary>
/// <c>--twin [--filter TEXT] [--seconds S]</c>, run with <c>DOTNET_PROCESSOR_COUNT=1</c>: each engine single-threaded, first one
/// instance alone (the other core idle), then two instances at once on two threads, each with its own memory, so the two
/// cores share nothing but the host. Prints each instance's fastest call, median and median over fastest, ModelGen's and
/// ONNX Runtime's turns alternating, for a few rounds.
/// </summary>
/// <remarks>
/// Why: two-core calls of one model spread (the median 1.4–1.7 times the fastest) far more than one-core calls usually do
/// (1.03–1.06). This separates the two causes: if two instances at once spread no more than one alone, the cores do not
/// slow each other through the host (a shared physical core, the host's L3 or memory), and what a two-core call loses
/// comes from what its two threads share; if one instance alone already spreads, the host itself is slow at that time.
/// </remarks>
internal static class TwinStudy
{
    private const int Rounds = 3;

    public static int Run(double seconds, string? filter)
    {
        if (Environment.ProcessorCount != 1)
        {
            Console.Error.WriteLine("--twin runs each engine on one thread: set DOTNET_PROCESSOR_COUNT=1 (ModelGen's pool and ONNX Runtime's intra-op threads follow it)");
            return 1;
        }
        foreach (var benchCase in BenchCatalog.Matching(filter))
        {
            using var first = PreparedPair.Create(benchCase);
            using var second = PreparedPair.Create(benchCase);
            Console.WriteLine($"## {benchCase.Id}: single-threaded instances, {seconds} s per turn");
            Console.WriteLine("round side         instances   fastest_us       p50_us  p50/fastest (second instance's after |)");
            for (int round = 1; round <= Rounds; round++)
            {
                Turn(round, "modelgen", first.ModelGen.Invoke, second.ModelGen.Invoke, seconds);
                Turn(round, "onnxruntime", first.Ort.Invoke, second.Ort.Invoke, seconds);
            }
        }
        return 0;
    }

    /// <summary>One side's turn: the first instance alone, then both at once.</summary>
    private static void Turn(int round, string side, Action a, Action b, double seconds)
    {
        var alone = Time(a, seconds);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{round,5} {side,-12} {"1",9} {Describe(alone)}"));
        List<double>? other = null;
        var thread = new Thread(() => other = Time(b, seconds));
        thread.Start();
        var together = Time(a, seconds);
        thread.Join();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{round,5} {side,-12} {"2",9} {Describe(together)} | {Describe(other!)}"));
    }

    /// <summary>Untimed warm-up calls, then single calls for <paramref name="seconds"/>, in microseconds.</summary>
    private static List<double> Time(Action call, double seconds)
    {
        for (int i = 0; i < 20; i++) call();
        double tick = 1e6 / Stopwatch.Frequency;
        var times = new List<double>();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            long t0 = Stopwatch.GetTimestamp();
            call();
            times.Add((Stopwatch.GetTimestamp() - t0) * tick);
        }
        return times;
    }

    private static string Describe(List<double> times)
    {
        times.Sort();
        double median = times[times.Count / 2];
        return string.Create(CultureInfo.InvariantCulture, $"{times[0],12:F1} {median,12:F1} {median / times[0],12:F2}");
    }
}
