using System.Diagnostics;
using System.Globalization;
using ModelGen.Runtime.Threading;

namespace ModelGen.Benchmarks;

/// <summary>
/// <c>--balance-ab [--filter TEXT] [--seconds S]</c>: what the worker pool's balanced splits (<see cref="WorkerPool.Split"/>)
/// do to ModelGen's calls. One executor runs in alternating blocks of 0.2 s, each after a few untimed calls, with the pool's
/// shares fixed equal ("equal") and learned as shipped ("balanced"); prints each side's fastest call and percentiles, and how
/// often a balanced block's median beat the equal block's before it.
/// </summary>
/// <remarks>Why blocks of one executor: on a host whose speed swings for seconds, two runs of one build differ by more than
/// this change does; blocks a fraction of a second apart meet the same host. For two cores or more.</remarks>
internal static class BalanceStudy
{
    private const double BlockSeconds = 0.2;

    public static int Run(double seconds, string? filter)
    {
        var inv = CultureInfo.InvariantCulture;
        var pool = WorkerPool.Shared;
        int threads = pool.Concurrency;
        if (threads < 2)
        {
            Console.Error.WriteLine("--balance-ab needs two cores or more: with one there is nothing to balance");
            return 2;
        }
        double[] equal = Enumerable.Repeat(1.0 / threads, threads).ToArray();
        foreach (var benchCase in BenchCatalog.Matching(filter))
        {
            using var pair = PreparedPair.Create(benchCase);
            var calls = new[] { new List<double>(), new List<double>() };
            var medians = new[] { new List<double>(), new List<double>() };
            var total = Stopwatch.StartNew();
            try
            {
                while (total.Elapsed.TotalSeconds < seconds)
                {
                    for (int side = 0; side < 2; side++)
                    {
                        pool.FixShares(side == 0 ? equal : null);
                        for (int i = 0; i < 5; i++) pair.ModelGen.Invoke();
                        var block = SpreadStudy.TimedBlock(pair.ModelGen.Invoke, BlockSeconds);
                        calls[side].AddRange(block);
                        block.Sort();
                        medians[side].Add(block[block.Count / 2]);
                    }
                }
            }
            finally
            {
                pool.FixShares(null);
            }
            Console.WriteLine(string.Create(inv, $"## {benchCase.Id}: {medians[0].Count} alternating pairs of {BlockSeconds} s blocks, {threads} threads"));
            Console.WriteLine("splits        fastest_us      p10_us      p50_us      p90_us  p50/fastest");
            SpreadStudy.Print("equal", calls[0]);
            SpreadStudy.Print("balanced", calls[1]);
            int wins = medians[0].Zip(medians[1]).Count(p => p.Second < p.First);
            double ratio = Math.Exp(medians[0].Zip(medians[1]).Average(p => Math.Log(p.Second / p.First)));
            Console.WriteLine(string.Create(inv, $"block medians: balanced faster in {wins} of {medians[0].Count} pairs; geometric mean balanced/equal {ratio:F3}"));
        }
        return 0;
    }
}
