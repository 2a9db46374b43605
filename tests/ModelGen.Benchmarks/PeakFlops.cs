using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Benchmarks;

/// <summary>
/// The machine's fp32 peak, measured rather than looked up: every core runs a register-only
/// loop of independent FMAs (12 accumulator chains, more than FMA latency × FMA ports, so the
/// ports never wait), with no loads or stores. AVX-512 where the CPU has it, else AVX2+FMA.
/// </summary>
internal static class PeakFlops
{
    private const int Chains = 12;

    /// <summary>The widest FMA the loop uses ("AVX-512", "AVX2+FMA" or "none").</summary>
    public static string Isa => Avx512F.IsSupported ? "AVX-512" : Fma.IsSupported ? "AVX2+FMA" : "none";

    /// <summary>GFLOP/s summed over <paramref name="threads"/> threads each running the loop for about <paramref name="seconds"/>.</summary>
    public static double Measure(int threads, double seconds)
    {
        if (!Fma.IsSupported && !Avx512F.IsSupported) return double.NaN;
        // Calibrate: iterations per second on one thread, so every thread runs about `seconds`.
        long probe = 1 << 20;
        Loop(probe); // JIT
        var watch = Stopwatch.StartNew();
        Loop(probe);
        long iterations = (long)(probe * seconds / Math.Max(watch.Elapsed.TotalSeconds, 1e-6));
        using var start = new Barrier(threads);
        var elapsed = new double[threads];
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            long begin = Stopwatch.GetTimestamp();
            Sink(Loop(iterations));
            elapsed[t] = Stopwatch.GetElapsedTime(begin).TotalSeconds;
        }) { IsBackground = true }).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        double flopsPerIteration = Chains * (Avx512F.IsSupported ? 16 : 8) * 2;
        // Each thread's own rate, summed: a thread that started late does not dilute the others.
        return elapsed.Sum(e => iterations * flopsPerIteration / e) / 1e9;
    }

    private static float Loop(long iterations) => Avx512F.IsSupported ? Loop512(iterations) : Loop256(iterations);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Sink(float value) => GC.KeepAlive(value);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Loop512(long iterations)
    {
        // c = c * m + a converges (|m| < 1): the values stay finite however long it runs.
        var m = Vector512.Create(0.999f);
        var a = Vector512.Create(0.001f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        Vector512<float> c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Avx512F.FusedMultiplyAdd(c0, m, a);
            c1 = Avx512F.FusedMultiplyAdd(c1, m, a);
            c2 = Avx512F.FusedMultiplyAdd(c2, m, a);
            c3 = Avx512F.FusedMultiplyAdd(c3, m, a);
            c4 = Avx512F.FusedMultiplyAdd(c4, m, a);
            c5 = Avx512F.FusedMultiplyAdd(c5, m, a);
            c6 = Avx512F.FusedMultiplyAdd(c6, m, a);
            c7 = Avx512F.FusedMultiplyAdd(c7, m, a);
            c8 = Avx512F.FusedMultiplyAdd(c8, m, a);
            c9 = Avx512F.FusedMultiplyAdd(c9, m, a);
            c10 = Avx512F.FusedMultiplyAdd(c10, m, a);
            c11 = Avx512F.FusedMultiplyAdd(c11, m, a);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Loop256(long iterations)
    {
        var m = Vector256.Create(0.999f);
        var a = Vector256.Create(0.001f);
        Vector256<float> c0 = Vector256.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
        Vector256<float> c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Fma.MultiplyAdd(c0, m, a);
            c1 = Fma.MultiplyAdd(c1, m, a);
            c2 = Fma.MultiplyAdd(c2, m, a);
            c3 = Fma.MultiplyAdd(c3, m, a);
            c4 = Fma.MultiplyAdd(c4, m, a);
            c5 = Fma.MultiplyAdd(c5, m, a);
            c6 = Fma.MultiplyAdd(c6, m, a);
            c7 = Fma.MultiplyAdd(c7, m, a);
            c8 = Fma.MultiplyAdd(c8, m, a);
            c9 = Fma.MultiplyAdd(c9, m, a);
            c10 = Fma.MultiplyAdd(c10, m, a);
            c11 = Fma.MultiplyAdd(c11, m, a);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
