using System.Diagnostics;
using System.Globalization;

namespace ModelGen.Benchmarks;

/// <summary>
/// <c>--spin-study [--filter TEXT|gemm]</c>: what ONNX Runtime's threads do after its last call,
/// and how long ModelGen has to wait before it has the cores to itself. The evidence behind
/// <see cref="Interleaved"/>'s settle time. Reads each thread's CPU time from
/// <c>/proc/self/task/*/stat</c> (Linux only).
/// </summary>
internal static class SpinStudy
{
    public static int Run(string? filter)
    {
        if (!Directory.Exists("/proc/self/task"))
        {
            Console.Error.WriteLine("--spin-study reads /proc/self/task and runs on Linux only");
            return 2;
        }
        var inv = CultureInfo.InvariantCulture;
        var benchCase = filter == "gemm" ? BenchCatalog.LargeGemm()
            : BenchCatalog.All().FirstOrDefault(c => filter is null || c.Id.Contains(filter, StringComparison.OrdinalIgnoreCase));
        if (benchCase is null)
        {
            Console.Error.WriteLine($"no case matches '{filter}'");
            return 2;
        }
        using var pair = PreparedPair.Create(benchCase);
        for (int i = 0; i < 20; i++)
        {
            pair.Ort.Invoke();
            pair.ModelGen.Invoke();
        }
        Console.WriteLine($"# {benchCase.Id}; main thread {Environment.ProcessId}");

        // 1. ONNX Runtime for a second, then the caller sleeps: CPU each thread burns anyway.
        Repeat(pair.Ort.Invoke, 1000);
        var before = CpuMillisByThread();
        Thread.Sleep(1000);
        var after = CpuMillisByThread();
        var busy = after.Where(t => before.TryGetValue(t.Key, out long b) && t.Value > b).Select(t => $"thread {t.Key}: {t.Value - before[t.Key]} ms");
        Console.WriteLine($"CPU time during 1 s of sleep after ONNX Runtime's last call: {string.Join(", ", busy.DefaultIfEmpty("none"))}");

        // 2. ModelGen's time per call in a 20 ms window that starts S ms after ONNX Runtime's last call.
        Console.WriteLine(string.Create(inv, $"ModelGen alone (1 s block): {Repeat(pair.ModelGen.Invoke, 1000):F1} us/call"));
        foreach (int settleMs in new[] { 0, 5, 20, 50, 100 })
        {
            var times = new List<double>();
            for (int round = 0; round < 21; round++)
            {
                Repeat(pair.Ort.Invoke, 10);
                Repeat(pair.ModelGen.Invoke, settleMs);
                times.Add(Repeat(pair.ModelGen.Invoke, 20));
            }
            times.Sort();
            Console.WriteLine(string.Create(inv, $"ModelGen {settleMs,3} ms after ONNX Runtime: median {times[times.Count / 2]:F1} us/call"));
        }
        return 0;
    }

    /// <summary>Calls <paramref name="action"/> for <paramref name="milliseconds"/> (at least once unless 0); returns µs per call.</summary>
    private static double Repeat(Action action, double milliseconds)
    {
        if (milliseconds <= 0) return 0;
        var watch = Stopwatch.StartNew();
        int calls = 0;
        do
        {
            action();
            calls++;
        }
        while (watch.Elapsed.TotalMilliseconds < milliseconds);
        return watch.Elapsed.TotalMicroseconds / calls;
    }

    /// <summary>User + system CPU time of every thread of this process, in ms (USER_HZ = 100).</summary>
    private static Dictionary<int, long> CpuMillisByThread()
    {
        var result = new Dictionary<int, long>();
        foreach (var dir in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                // Fields after the ")" that closes the thread name: state is [0], utime [11], stime [12].
                string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                result[int.Parse(Path.GetFileName(dir), CultureInfo.InvariantCulture)] =
                    (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) * 10;
            }
            catch (IOException)
            {
                // The thread ended between listing and reading.
            }
        }
        return result;
    }
}
