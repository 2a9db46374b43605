using System.Diagnostics;
using System.Globalization;

namespace ModelGen.Benchmarks;

/// <summary>
/// <c>--layer-spread [--filter TEXT] [--seconds S] [--no-flush]</c>: how much each single layer of <see cref="LayerStudy"/>
/// slows down when the host does, ModelGen's kernel against ONNX Runtime's in the same moments. Calls alternate (ModelGen's
/// <c>Run()</c>, then ONNX Runtime's), each after 8 MB of reads that push the layer's data out to L3 or memory as the steps
/// around it would (<c>--no-flush</c>: warm caches). The calls are cut into windows of about 1/40 of the run; a window
/// whose ModelGen median is over 1.3 times ModelGen's fastest call is a slow window, under 1.1 a fast one. Prints each
/// side's fastest call and mean over fastest, and both sides' mean window median over fastest in the slow and the fast
/// windows.
/// </summary>
/// <remarks>For one core (<c>taskset -c 1</c>, <c>DOTNET_PROCESSOR_COUNT=1</c>), as <c>--spread</c>.</remarks>
internal static class LayerSpreadStudy
{
    public static int Run(double seconds, string? filter, bool flush)
    {
        var inv = CultureInfo.InvariantCulture;
        using var probes = new HostProbes();
        Console.WriteLine($"# single layers, ModelGen's Run() and ONNX Runtime's alternating, {(flush ? "8 MB read between calls" : "warm caches")}, {seconds:G3} s each");
        foreach (var (name, benchCase) in LayerStudy.Cases(filter))
        {
            using var pair = PreparedPair.Create(benchCase);
            pair.WarmUp(runOnly: true);
            var mg = new List<double>();
            var ort = new List<double>();
            double tick = 1e6 / Stopwatch.Frequency;
            var total = Stopwatch.StartNew();
            while (mg.Count < 40 || total.Elapsed.TotalSeconds < seconds)
            {
                if (flush) probes.Flush();
                long t0 = Stopwatch.GetTimestamp();
                pair.ModelGen.RunOnly();
                long t1 = Stopwatch.GetTimestamp();
                if (flush) probes.Flush();
                long t2 = Stopwatch.GetTimestamp();
                pair.Ort.Invoke();
                long t3 = Stopwatch.GetTimestamp();
                mg.Add((t1 - t0) * tick);
                ort.Add((t3 - t2) * tick);
            }
            double fm = mg.Min(), fo = ort.Min();
            int window = Math.Max(20, mg.Count / 40);
            var slow = new List<(double Mg, double Ort)>();
            var fast = new List<(double Mg, double Ort)>();
            for (int start = 0; start + window <= mg.Count; start += window)
            {
                double gm = Median(mg, start, window) / fm, go = Median(ort, start, window) / fo;
                if (gm > 1.3) slow.Add((gm, go));
                else if (gm < 1.1) fast.Add((gm, go));
            }
            string Mean(List<(double Mg, double Ort)> w, bool mgSide) =>
                w.Count == 0 ? "-" : w.Average(p => mgSide ? p.Mg : p.Ort).ToString("F2", inv);
            Console.WriteLine(string.Create(inv,
                $"{name,-38} fastest mg {fm,8:F1} ort {fo,8:F1} | mean/fastest mg {mg.Average() / fm:F2} ort {ort.Average() / fo:F2} | slow windows {slow.Count}: mg {Mean(slow, true)} ort {Mean(slow, false)} | fast windows {fast.Count}: mg {Mean(fast, true)} ort {Mean(fast, false)}"));
        }
        return 0;
    }

    private static double Median(List<double> times, int start, int count)
    {
        var part = times.GetRange(start, count);
        part.Sort();
        return part[count / 2];
    }
}
