using System.Diagnostics;
using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// Balanced splits (<see cref="WorkerPool.Split"/>): outside a run and in runs of more parts than threads the ranges are
/// equal; in a run of one part per thread they follow the pool's shares and always tile the units exactly; a thread that
/// runs its part slower gets a smaller share in the next runs; splits of too few units teach nothing; and the conv and
/// pool kernels give the same bits whatever the shares.
/// </summary>
[Collection("SharedPool")]
public class WorkerPoolBalanceTests
{
    /// <summary>Records each part's range of <c>units</c>; optionally spins per unit, longer in part 0.</summary>
    private sealed class SplitRecorder(long units, int parts, double part0MicrosPerUnit = 0, double otherMicrosPerUnit = 0) : IParallelWork
    {
        public readonly long[] Begin = new long[parts], End = new long[parts];

        public void Execute(int part, int partCount)
        {
            long begin = WorkerPool.Split(units, part, partCount), end = WorkerPool.Split(units, part + 1, partCount);
            Begin[part] = begin;
            End[part] = end;
            double micros = (end - begin) * (part == 0 ? part0MicrosPerUnit : otherMicrosPerUnit);
            long until = Stopwatch.GetTimestamp() + (long)(micros * Stopwatch.Frequency / 1e6);
            while (Stopwatch.GetTimestamp() < until) Thread.SpinWait(20);
        }
    }

    [Fact]
    public void OutsideARunTheRangesAreEqual()
    {
        for (int part = 0; part <= 3; part++) Assert.Equal(1000L * part / 3, WorkerPool.Split(1000, part, 3));
    }

    [Theory]
    [InlineData(1000, 300)]
    [InlineData(17, 5)]
    [InlineData(3, 1)]
    public void ARunOfOnePartPerThreadIsCutByTheShares(long units, long firstEnd)
    {
        var pool = new WorkerPool(1, spinMicroseconds: 2_000);
        pool.FixShares([0.3, 0.7]);
        var work = new SplitRecorder(units, 2);
        pool.Run(work, 2);
        Assert.Equal([0L, firstEnd], work.Begin);
        Assert.Equal([firstEnd, units], work.End);
    }

    [Fact]
    public void RunsOfMorePartsThanThreadsStayEqual()
    {
        var pool = new WorkerPool(1, spinMicroseconds: 2_000);
        pool.FixShares([0.3, 0.7]);
        var work = new SplitRecorder(1000, 4);
        pool.Run(work, 4);
        Assert.Equal([0L, 250, 500, 750], work.Begin);
        Assert.Equal([250L, 500, 750, 1000], work.End);
    }

    /// <summary>Cuts its ranges around a run of another pool inside each part.</summary>
    private sealed class NestingRecorder(WorkerPool inner) : IParallelWork
    {
        public readonly long[] Begin = new long[2], End = new long[2];

        public void Execute(int part, int parts)
        {
            Begin[part] = WorkerPool.Split(1000, part, parts);
            inner.Run(new SplitRecorder(10, 2), 2);
            End[part] = WorkerPool.Split(1000, part + 1, parts);
        }
    }

    [Fact]
    public void ARunOfAnotherPoolInsideAPartLeavesThePartsRangesAlone()
    {
        var outer = new WorkerPool(1, spinMicroseconds: 2_000);
        var inner = new WorkerPool(1, spinMicroseconds: 2_000);
        outer.FixShares([0.3, 0.7]);
        var work = new NestingRecorder(inner);
        outer.Run(work, 2);
        Assert.Equal([0L, 300], work.Begin);
        Assert.Equal([300L, 1000], work.End);
    }

    [Fact]
    public void ASlowerPartGetsLessWorkInTheNextRuns()
    {
        // Part 0 (the caller's) costs 4 µs a unit, part 1 (the worker's) 1 µs: balanced, the caller's share is 1/5, which the
        // pool's bounds hold at 1/4. The spins are wall-clock, so a run in which another test's thread took the worker's core
        // makes the worker look slow for a few runs; the median over the last 20 runs rides over those.
        var pool = new WorkerPool(1, spinMicroseconds: 2_000);
        Assert.Equal([0.5, 0.5], pool.Shares);
        var callerShares = new List<double>();
        for (int run = 0; run < 40; run++)
        {
            pool.Run(new SplitRecorder(200, 2, part0MicrosPerUnit: 4, otherMicrosPerUnit: 1), 2);
            double[] shares = pool.Shares;
            Assert.Equal(1.0, shares.Sum(), 9);
            Assert.InRange(shares[0], 0.25 - 1e-9, 0.75 + 1e-9); // within half and one and a half of an equal share
            callerShares.Add(shares[0]);
        }
        double median = callerShares.Skip(20).Order().ElementAt(10);
        Assert.True(median < 0.4, $"the slow part's median share over the last 20 runs is {median:F3}");
    }

    [Fact]
    public void SplitsOfTooFewUnitsTeachNothing()
    {
        var pool = new WorkerPool(1, spinMicroseconds: 2_000);
        for (int run = 0; run < 20; run++) pool.Run(new SplitRecorder(8, 2, part0MicrosPerUnit: 50, otherMicrosPerUnit: 1), 2);
        Assert.Equal([0.5, 0.5], pool.Shares);
    }

    [Fact]
    public void FixSharesRejectsSharesThatDoNotFitThePool()
    {
        var pool = new WorkerPool(1, spinMicroseconds: 0);
        Assert.Throws<ArgumentException>(() => pool.FixShares([1.0]));
        Assert.Throws<ArgumentException>(() => pool.FixShares([0.5, 0.6]));
        Assert.Throws<ArgumentException>(() => pool.FixShares([0.0, 1.0]));
    }

    public static TheoryData<string, int[], int[], int> Steps() => new()
    {
        // kind, x shape, w shape (Conv) or [k, stride] (MaxPool), pad
        { "Conv", [1, 64, 28, 28], [64, 64, 3, 3], 1 },     // Winograd, split by tiles
        { "Conv", [1, 256, 14, 14], [256, 256, 3, 3], 1 },  // Winograd, split by output channels on AVX2
        { "Conv", [1, 16, 55, 55], [64, 16, 3, 3], 1 },     // direct 3×3
        { "Conv", [1, 128, 7, 7], [128, 128, 3, 3], 1 },    // small map: the channel-tile conv
        { "Conv", [1, 128, 27, 27], [32, 128, 1, 1], 0 },   // direct 1×1
        { "Conv", [1, 128, 28, 28], [256, 128, 1, 1], 0 },  // 1×1 on SGEMM, whole panels
        { "Conv", [1, 512, 13, 13], [256, 512, 1, 1], 0 },  // 1×1 on SGEMM, a partial panel
        { "Conv", [1, 3, 64, 64], [32, 3, 3, 3], 0 },       // stride 1, few channels
        { "MaxPool", [1, 64, 55, 55], [3, 2], 0 },
    };

    [Theory]
    [MemberData(nameof(Steps))]
    public void KernelsGiveTheSameBitsWhateverTheShares(string kind, int[] xs, int[] ws, int pad)
    {
        var shared = WorkerPool.Shared;
        int threads = shared.Concurrency;
        // Skewed both ways: thread t's share in proportion to t + 1, then to threads − t.
        double[] Skewed(Func<int, double> weight)
        {
            double[] s = Enumerable.Range(0, threads).Select(t => weight(t)).ToArray();
            double sum = s.Sum();
            return s.Select(v => v / sum).ToArray();
        }
        var x = Data.Random(7, Data.Count(xs), -2f, 2f);
        try
        {
            shared.FixShares(null);
            var equal = Run(kind, xs, ws, pad, x);
            shared.FixShares(Skewed(t => t + 1));
            var rising = Run(kind, xs, ws, pad, x);
            shared.FixShares(Skewed(t => threads - t));
            var falling = Run(kind, xs, ws, pad, x);
            Assert.Equal(equal, rising);
            Assert.Equal(equal, falling);
        }
        finally
        {
            shared.FixShares(null);
        }
    }

    private static float[] Run(string kind, int[] xs, int[] ws, int pad, float[] x)
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        if (kind == "MaxPool")
        {
            int k = ws[0], stride = ws[1], o = (xs[2] - k) / stride + 1;
            int ip = plan.Arena("Y", [xs[0], xs[1], o, o]);
            plan.Output(ip);
            plan.Step("MaxPool", [ix], [ip], PlanAttribute.Ints("kernel_shape", k, k), PlanAttribute.Ints("strides", stride, stride));
            return plan.RunAfterStale(x, staleSeed: 3);
        }
        var ys = Data.ConvOutputShape(xs, ws, [1, 1], [pad, pad, pad, pad], [1, 1]);
        int iw = plan.Weight("W", Data.Random(ws.Sum(), Data.Count(ws)), ws);
        int ib = plan.Weight("B", Data.Random(3, ws[0]), [ws[0]]);
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        plan.Step("Conv", [ix, iw, ib], [iy], PlanAttribute.Ints("pads", pad, pad, pad, pad), PlanAttribute.String("activation", "Relu"));
        return plan.RunAfterStale(x, staleSeed: 3);
    }
}
