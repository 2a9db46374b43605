using System.Diagnostics;
using System.Globalization;

namespace ModelGen.Benchmarks;

/// <summary>
/// The quick mode (<c>--ratio</c>): every case timed ModelGen/ONNX Runtime interleaved for a
/// couple of seconds, one line per model, batch and precision; then int8 vs fp32 per model;
/// then the large-GEMM throughput against the measured peak; last, the geometric-mean ratio.
/// Progress and preparation details go to stderr, the table to stdout.
/// </summary>
internal static class QuickRatio
{
    /// <summary>Runs the quick mode; returns the process exit code.</summary>
    /// <param name="seconds">Timing budget per pair (both sides together).</param>
    /// <param name="filter">Only cases whose id contains this (null: all).</param>
    /// <param name="gemm">Whether to run the large-GEMM line.</param>
    public static int Run(double seconds, string? filter, bool gemm)
    {
        var total = Stopwatch.StartNew();
        var culture = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(culture,
            $"# ModelGen vs ONNX Runtime, {Environment.ProcessorCount} cores, {PeakFlops.Isa}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {seconds:G3} s per pair"));
        // Other processes on a 2-core machine move every number: say how busy it was.
        if (File.Exists("/proc/loadavg")) Console.WriteLine($"# load average at start: {File.ReadAllText("/proc/loadavg").Trim()}");
        foreach (var missing in BenchCatalog.MissingData()) Console.Error.WriteLine($"skipped {missing}");
        var cases = BenchCatalog.Matching(filter);
        var rows = new List<(BenchCase Case, PairTiming Timing)>();
        Console.WriteLine($"{"model",-20} {"batch",5} {"prec",4} {"modelgen_us",12} {"ort_us",12} {"ratio",7} {"alloc_bytes_per_call",20}");
        foreach (var benchCase in cases)
        {
            using var pair = PreparedPair.Create(benchCase);
            Console.Error.WriteLine(string.Create(culture, $"{benchCase.Id}: prepared in {pair.PrepareTime.TotalSeconds:F1} s; {pair.Check}"));
            var timing = Interleaved.Run(pair.ModelGen.Invoke, pair.Ort.Invoke, seconds);
            rows.Add((benchCase, timing));
            Console.WriteLine(string.Create(culture,
                $"{benchCase.Model,-20} {benchCase.Batch,5} {Prec(benchCase),4} {timing.AMicros,12:F2} {timing.BMicros,12:F2} {timing.BMicros / timing.AMicros,7:F2} {timing.AAllocBytesPerCall,20:F0}"));
        }

        var int8Lines = rows.Where(r => r.Case.Precision == Precision.Int8)
            .Select(i => (Int8: i, Fp32: rows.FirstOrDefault(f => f.Case.Precision == Precision.Fp32 && f.Case.Model == i.Case.Model && f.Case.Batch == i.Case.Batch)))
            .Where(p => p.Fp32.Case is not null).ToList();
        if (int8Lines.Count > 0)
        {
            Console.WriteLine();
            Console.WriteLine($"{"model",-20} {"batch",5} {"fp32_us",12} {"int8_us",12} {"speedup",7}");
            foreach (var (i8, f32) in int8Lines)
            {
                // Both from the same run; each was timed interleaved with ONNX Runtime, not with each other.
                Console.WriteLine(string.Create(culture,
                    $"{i8.Case.Model,-20} {i8.Case.Batch,5} {f32.Timing.AMicros,12:F2} {i8.Timing.AMicros,12:F2} {f32.Timing.AMicros / i8.Timing.AMicros,7:F2}"));
            }
        }

        if (gemm) LargeGemm(seconds);

        Console.WriteLine();
        if (rows.Count > 0)
        {
            double geomean = Math.Exp(rows.Average(r => Math.Log(r.Timing.BMicros / r.Timing.AMicros)));
            var fp32Rows = rows.Where(r => r.Case.Precision == Precision.Fp32).ToList();
            string fp32 = fp32Rows.Count == 0 ? "n/a" : Math.Exp(fp32Rows.Average(r => Math.Log(r.Timing.BMicros / r.Timing.AMicros))).ToString("F2", culture);
            Console.Error.WriteLine(string.Create(culture, $"done in {total.Elapsed.TotalSeconds:F0} s"));
            if (File.Exists("/proc/loadavg")) Console.WriteLine($"# load average at end: {File.ReadAllText("/proc/loadavg").Trim()}");
            Console.WriteLine(string.Create(culture, $"geomean_ratio {geomean:F2} over {rows.Count} rows (fp32 rows only: {fp32})"));
        }
        return 0;
    }

    private static string Prec(BenchCase c) => c.Precision == Precision.Fp32 ? "fp32" : "int8";

    /// <summary>1024³ fp32 on all cores: ModelGen's and ONNX Runtime's GFLOP/s against the measured FMA peak.</summary>
    private static void LargeGemm(double seconds)
    {
        var culture = CultureInfo.InvariantCulture;
        var benchCase = BenchCatalog.LargeGemm();
        using var pair = PreparedPair.Create(benchCase);
        Console.Error.WriteLine(string.Create(culture, $"{benchCase.Id}: prepared in {pair.PrepareTime.TotalSeconds:F1} s; {pair.Check}"));
        var timing = Interleaved.Run(pair.ModelGen.Invoke, pair.Ort.Invoke, seconds);
        double n = benchCase.Batch;
        double flops = 2 * n * n * n;
        int threads = Environment.ProcessorCount;
        double peak = PeakFlops.Measure(threads, 0.5);
        double ours = flops / timing.AMicros / 1e3, ort = flops / timing.BMicros / 1e3;
        Console.WriteLine();
        Console.WriteLine(string.Create(culture,
            $"large_gemm {n}x{n}x{n} fp32 {threads} threads: modelgen {ours:F1} GFLOP/s ({timing.AMicros:F0} us), ort {ort:F1} GFLOP/s ({timing.BMicros:F0} us), peak {peak:F1} GFLOP/s ({PeakFlops.Isa} FMA loop, {peak / threads:F1} per core); modelgen {100 * ours / peak:F0}% of peak, alloc {timing.AAllocBytesPerCall:F0} B/call"));
    }
}
