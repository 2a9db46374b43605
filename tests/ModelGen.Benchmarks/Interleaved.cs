using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace ModelGen.Benchmarks;

/// <summary>The per-call times of two actions timed in alternation, and A's managed allocation per call.</summary>
/// <param name="AMicros">A's median per-call time over its chunks, in µs.</param>
/// <param name="BMicros">B's median per-call time over its chunks, in µs.</param>
/// <param name="AAllocBytesPerCall">Bytes A allocated on the calling thread per call.</param>
/// <param name="ACalls">How many times A ran while timed.</param>
/// <param name="BCalls">How many times B ran while timed.</param>
/// <param name="AFastestMicros">A's fastest chunk, in µs per call: on a host whose speed swings for seconds at a time, the
/// figure that moves least between runs, so a kernel change is judged by it (<c>--layers</c>) as well as by the median.</param>
/// <param name="BFastestMicros">B's fastest chunk, in µs per call.</param>
internal readonly record struct PairTiming(double AMicros, double BMicros, double AAllocBytesPerCall, long ACalls, long BCalls,
    double AFastestMicros, double BFastestMicros);

/// <summary>
/// Times two actions A B A B … in chunks of calls, so both see the same machine state
/// (frequency, cache, noisy neighbours) over the same seconds. Each side's chunk is sized to
/// about <see cref="ChunkSeconds"/>; the result is each side's median chunk, which a stray
/// slow chunk (GC of another thread, a page fault, a preempted core) does not move.
/// </summary>
/// <remarks>
/// Every timed chunk is preceded by <see cref="SettleSeconds"/> of untimed calls of the same side.
/// ONNX Runtime's intra-op threads keep spinning for tens of milliseconds after its last
/// <c>Run</c> (measured with <c>--spin-study</c>: 20–30 ms of CPU on its worker threads after the
/// caller went to sleep). Without the settle, a ModelGen chunk that starts right after an ONNX
/// Runtime chunk shares both cores with that spinning tail: the 1024³ GEMM measured 15.2 ms per
/// call with no settle, 13.9 ms after 5 ms, 12.6 ms after 20 ms and 9.1 ms after 50 ms, against
/// 9.3–9.9 ms in one-second blocks. On the AVX2-only 2-core EPYC (Zen 3) the tail is longer:
/// its spinning thread used 50 ms of CPU, and SqueezeNet took 17.9 ms per call right after ONNX
/// Runtime, 11.2 ms after 50 ms and 10.2 ms after 100 ms, against 10.4 ms in a one-second block;
/// hence 100 ms. An application uses one engine or the other, not both, so each side is timed on
/// a machine the other has left.
/// </remarks>
internal static class Interleaved
{
    /// <summary>Target length of one chunk of calls.</summary>
    private const double ChunkSeconds = 0.05;

    /// <summary>Untimed calls of the same side before each timed chunk, so the other side's threads have gone idle.</summary>
    private const double SettleSeconds = 0.1;

    /// <summary>Warms both sides (past tiered JIT), then times them alternately for about <paramref name="seconds"/> in all.</summary>
    public static PairTiming Run(Action a, Action b, double seconds)
    {
        // Tier-1 code (and dynamic PGO) arrives after ~30 calls plus a background delay: warm well past that.
        double perCallA = Warm(a, seconds * 0.1), perCallB = Warm(b, seconds * 0.1);
        int chunkA = ChunkSize(perCallA), chunkB = ChunkSize(perCallB);
        var timesA = new List<double>();
        var timesB = new List<double>();
        long allocated = 0, callsA = 0, callsB = 0;
        var total = Stopwatch.StartNew();
        while (timesA.Count < 5 || total.Elapsed.TotalSeconds < seconds * 0.8)
        {
            Settle(a);
            long before = GC.GetAllocatedBytesForCurrentThread();
            double chunk = TimeChunk(a, chunkA);
            // Read before the list grows, so only A's calls are counted.
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            timesA.Add(chunk);
            callsA += chunkA;
            Settle(b);
            timesB.Add(TimeChunk(b, chunkB));
            callsB += chunkB;
        }
        return new PairTiming(Median(timesA) * 1e6, Median(timesB) * 1e6, (double)allocated / callsA, callsA, callsB,
            timesA.Min() * 1e6, timesB.Min() * 1e6);
    }

    /// <summary>Runs <paramref name="action"/> for about <paramref name="seconds"/> (at least 50 calls); returns seconds per call.</summary>
    private static double Warm(Action action, double seconds)
    {
        var watch = Stopwatch.StartNew();
        long calls = 0;
        while (calls < 50 || watch.Elapsed.TotalSeconds < seconds)
        {
            action();
            calls++;
            if (calls >= 3 && watch.Elapsed.TotalSeconds > 4 * seconds) break; // a slow model: a few calls are enough
        }
        // The last few calls are the warmed ones.
        return TimeChunk(action, Math.Max(1, (int)Math.Min(calls / 4, 100)));
    }

    /// <summary>Calls <paramref name="action"/> untimed for <see cref="SettleSeconds"/> (at least once).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Settle(Action action)
    {
        long start = Stopwatch.GetTimestamp();
        do action();
        while (Stopwatch.GetElapsedTime(start).TotalSeconds < SettleSeconds);
    }

    private static int ChunkSize(double secondsPerCall) => (int)Math.Clamp(ChunkSeconds / Math.Max(secondsPerCall, 1e-9), 1, 1_000_000);

    /// <summary>Seconds per call over <paramref name="calls"/> back-to-back calls.</summary>
    /// <remarks>
    /// Compiled fully optimized at once: a tier-0 loop here would be replaced mid-run (OSR), and
    /// that runtime bookkeeping allocates on this thread inside the measured window, which would
    /// be charged to the model.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double TimeChunk(Action action, int calls)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < calls; i++) action();
        return Stopwatch.GetElapsedTime(start).TotalSeconds / calls;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        int n = values.Count;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
