using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Tests;

/// <summary>The worker pool: every part runs exactly once, nested and concurrent use never deadlock, failures surface.</summary>
[Collection("SharedPool")]
public class WorkerPoolTests
{
    private sealed class CountingWork(int parts) : IParallelWork
    {
        public readonly int[] Runs = new int[parts];
        public Action<int>? Inner;

        public void Execute(int part, int partCount)
        {
            Assert.Equal(Runs.Length, partCount);
            Interlocked.Increment(ref Runs[part]);
            Inner?.Invoke(part);
        }
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(0, 5)]
    [InlineData(3, 2)]
    [InlineData(3, 4)]
    [InlineData(3, 9)]
    public void EveryPartRunsExactlyOnce(int workers, int parts)
    {
        var pool = new WorkerPool(workers);
        for (int round = 0; round < 200; round++)
        {
            var work = new CountingWork(parts);
            pool.Run(work, parts);
            Assert.All(work.Runs, r => Assert.Equal(1, r));
        }
    }

    [Fact]
    public void NestedUseRunsInlineInsteadOfDeadlocking()
    {
        var pool = new WorkerPool(3);
        var inner = new CountingWork(4);
        var outer = new CountingWork(4) { Inner = _ => pool.Run(new CountingWork(4), 4) };
        var thread = new Thread(() => pool.Run(outer, 4));
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "nested pool use deadlocked");
        Assert.All(outer.Runs, r => Assert.Equal(1, r));
        pool.Run(inner, 4);
        Assert.All(inner.Runs, r => Assert.Equal(1, r));
    }

    [Fact]
    public void ConcurrentCallersAllFinish()
    {
        var pool = new WorkerPool(3);
        var threads = Enumerable.Range(0, 6).Select(_ => new Thread(() =>
        {
            for (int i = 0; i < 300; i++)
            {
                var work = new CountingWork(4);
                pool.Run(work, 4);
                Assert.All(work.Runs, r => Assert.Equal(1, r));
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        Assert.All(threads, t => Assert.True(t.Join(TimeSpan.FromSeconds(60)), "concurrent pool use hung"));
    }

    [Fact]
    public void AFailingPartSurfacesAndThePoolStaysUsable()
    {
        var pool = new WorkerPool(2);
        var bad = new CountingWork(3) { Inner = p => { if (p == 2) throw new InvalidOperationException("boom"); } };
        var e = Assert.Throws<ModelGenException>(() => pool.Run(bad, 3));
        Assert.Contains("boom", e.Message);
        var good = new CountingWork(3);
        pool.Run(good, 3);
        Assert.All(good.Runs, r => Assert.Equal(1, r));
    }

    [Fact]
    public void LargeGemmUsesTheSharedPool()
    {
        if (WorkerPool.Shared.Concurrency < 2) Assert.Skip("single-core machine: the pool has no workers");
        var plan = new TestPlan();
        int a = plan.Input("A", [128, 256]);
        int b = plan.Weight("B", Data.Random(1, 256 * 64), [256, 64]);
        int y = plan.Arena("Y", [128, 64]);
        plan.Output(y);
        plan.Step("Gemm", [a, b], [y]);
        // Tests outside this collection (big Gemm/Conv cases) may hold the shared pool at that moment, and then
        // the Gemm rightly runs inline; a few tries make that coincidence vanishingly unlikely.
        long before = WorkerPool.Shared.SharedRuns;
        var input = Data.Random(2, 128 * 256);
        for (int i = 0; i < 20 && WorkerPool.Shared.SharedRuns == before; i++) plan.Run(input);
        Assert.True(WorkerPool.Shared.SharedRuns > before, "a 2M multiply-add Gemm did not use the worker pool");
    }
}
