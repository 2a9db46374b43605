using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// The worker pool: every part runs exactly once, nested and concurrent use never deadlock, failures
/// surface, nothing is allocated per call — with waits that block at once (spin 0), that spin past
/// the gaps between calls (2 ms), and that spin briefly and then block (1 µs, with pauses between calls).
/// </summary>
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
    [InlineData(0, 1, 0)]
    [InlineData(0, 5, 0)]
    [InlineData(3, 2, 0)]
    [InlineData(3, 4, 0)]
    [InlineData(3, 9, 0)]
    [InlineData(1, 2, 2_000)]
    [InlineData(3, 4, 2_000)]
    [InlineData(3, 9, 2_000)]
    [InlineData(1, 2, 1)]
    [InlineData(3, 4, 1)]
    public void EveryPartRunsExactlyOnce(int workers, int parts, int spinMicroseconds)
    {
        var pool = new WorkerPool(workers, spinMicroseconds);
        for (int round = 0; round < 200; round++)
        {
            var work = new CountingWork(parts);
            pool.Run(work, parts);
            Assert.All(work.Runs, r => Assert.Equal(1, r));
            // With a 1 µs budget, let the workers give up spinning and block now and then.
            if (spinMicroseconds == 1 && round % 20 == 0) Thread.Sleep(1);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2_000)]
    public void NestedUseRunsInlineInsteadOfDeadlocking(int spinMicroseconds)
    {
        var pool = new WorkerPool(3, spinMicroseconds);
        var inner = new CountingWork(4);
        var outer = new CountingWork(4) { Inner = _ => pool.Run(new CountingWork(4), 4) };
        var thread = new Thread(() => pool.Run(outer, 4));
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(30)), "nested pool use deadlocked");
        Assert.All(outer.Runs, r => Assert.Equal(1, r));
        pool.Run(inner, 4);
        Assert.All(inner.Runs, r => Assert.Equal(1, r));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2_000)]
    public void ConcurrentCallersAllFinish(int spinMicroseconds)
    {
        var pool = new WorkerPool(3, spinMicroseconds);
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

    [Theory]
    [InlineData(0, 0)]
    [InlineData(2, 0)]
    [InlineData(0, 2_000)]
    [InlineData(2, 2_000)]
    public void AFailingPartSurfacesAndThePoolStaysUsable(int failingPart, int spinMicroseconds)
    {
        // Parts are claimed by whichever thread is free, so the failing part may run on the caller or a worker.
        var pool = new WorkerPool(2, spinMicroseconds);
        for (int round = 0; round < 20; round++)
        {
            var bad = new CountingWork(3) { Inner = p => { if (p == failingPart) throw new InvalidOperationException("boom"); } };
            var e = Assert.Throws<ModelGenException>(() => pool.Run(bad, 3));
            Assert.Contains("boom", e.Message);
            Assert.All(bad.Runs, r => Assert.Equal(1, r)); // the other parts still ran, and had finished
            var good = new CountingWork(3);
            pool.Run(good, 3);
            Assert.All(good.Runs, r => Assert.Equal(1, r));
        }
    }

    /// <summary>Compiled optimized up front: a tier-0 loop replaced mid-run (OSR) allocates runtime bookkeeping.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static void RunMany(WorkerPool pool, IParallelWork work, int count)
    {
        for (int i = 0; i < count; i++) pool.Run(work, 3);
    }

    /// <summary>Records, per thread, its allocated-bytes counter at the start of every part it runs.</summary>
    private sealed class AllocationProbe : IParallelWork
    {
        public readonly long[] First = new long[1024];
        public readonly long[] Last = new long[1024];

        public void Execute(int part, int parts)
        {
            int thread = Environment.CurrentManagedThreadId;
            if (thread >= First.Length) return;
            long now = GC.GetAllocatedBytesForCurrentThread();
            if (First[thread] == 0) First[thread] = now;
            Last[thread] = now;
            Thread.SpinWait(200); // long enough that the workers get parts too
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2_000)]
    public void RunsAllocateNothingAfterWarmUp(int spinMicroseconds)
    {
        var pool = new WorkerPool(2, spinMicroseconds);
        RunMany(pool, new AllocationProbe(), 2000);
        // Up to three windows of 2000 runs, one of which must allocate nothing at all: a per-call allocation
        // shows in every window, while a one-off runtime event (a tiered-JIT promotion) may land in one.
        string failure = "";
        for (int window = 0; window < 3; window++)
        {
            // Each part reads its own thread's counter, so a worker's allocations between parts (its wait
            // loop, its claims) show up too, not only the caller's.
            var probe = new AllocationProbe();
            long before = GC.GetAllocatedBytesForCurrentThread();
            RunMany(pool, probe, 2000);
            long callerBytes = GC.GetAllocatedBytesForCurrentThread() - before;
            failure = callerBytes != 0 ? $"the caller allocated {callerBytes} bytes over 2000 runs" : "";
            for (int t = 0; t < probe.First.Length && failure == ""; t++)
            {
                if (probe.Last[t] != probe.First[t]) failure = $"thread {t} allocated {probe.Last[t] - probe.First[t]} bytes between parts";
            }
            if (failure == "") return;
        }
        Assert.Fail(failure);
    }

    /// <summary>
    /// Records which thread ran each part, and in what order. Part <c>holdPart</c> waits (up to 10 s) until the parts in
    /// <c>waitFor</c> have finished, so the thread running it is still busy when the other runs out of its own parts; the
    /// other parts wait until <c>holdPart</c> has started, so a caller slow to reach its first part still gets it.
    /// </summary>
    private sealed class HomeRangeProbe(int parts, int holdPart, int[] waitFor) : IParallelWork
    {
        public readonly int[] Thread = new int[parts];
        public readonly int[] Order = new int[parts];
        private readonly int[] _done = new int[parts];
        private int _held;
        private int _sequence;

        public void Execute(int part, int partCount)
        {
            Thread[part] = Environment.CurrentManagedThreadId;
            Order[part] = Interlocked.Increment(ref _sequence);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            if (part == holdPart)
            {
                Volatile.Write(ref _held, 1);
                while (waitFor.Any(p => Volatile.Read(ref _done[p]) == 0) && clock.Elapsed.TotalSeconds < 10) System.Threading.Thread.Yield();
            }
            else
            {
                while (Volatile.Read(ref _held) == 0 && clock.Elapsed.TotalSeconds < 10) System.Threading.Thread.Yield();
            }
            Volatile.Write(ref _done[part], 1);
        }
    }

    [Fact]
    public void EachThreadRunsItsHomeRangeFirstAndTakesTheOthersLastParts()
    {
        // Six parts over the caller and one worker: the caller's home is {0, 1, 2}, the worker's {3, 4, 5}. Part 0 holds
        // the caller until every other part is done, so the worker runs its own range front to back and then takes the
        // caller's from the back (2, then 1); the worker spins 2 ms between runs, so it is there at once.
        var pool = new WorkerPool(1, 2_000);
        pool.Run(new CountingWork(2), 2); // the worker has started
        for (int round = 0; round < 20; round++)
        {
            var probe = new HomeRangeProbe(6, holdPart: 0, waitFor: [1, 2, 3, 4, 5]);
            int caller = Environment.CurrentManagedThreadId;
            pool.Run(probe, 6);
            Assert.Equal(caller, probe.Thread[0]);
            Assert.All(new[] { 1, 2, 3, 4, 5 }, p => Assert.NotEqual(caller, probe.Thread[p]));
            int[] expected = [3, 4, 5, 2, 1];
            int[] workerOrder = [.. expected.OrderBy(p => probe.Order[p])];
            Assert.Equal(expected, workerOrder);
        }
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
        // Tests outside this collection (big Gemm/Conv cases, run in parallel) may hold the shared pool at that
        // moment, and then the Gemm rightly runs inline. Tries for up to 10 s make that coincidence vanishingly
        // unlikely (20 tries were not enough once the conv kernels dispatched to the pool more often).
        using var executor = plan.Executor(out var weights);
        using (weights)
        {
            executor.SetInput<float>(0, Data.Random(2, 128 * 256));
            long before = WorkerPool.Shared.SharedRuns;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (WorkerPool.Shared.SharedRuns == before && clock.Elapsed.TotalSeconds < 10)
            {
                executor.Run();
                if (WorkerPool.Shared.SharedRuns == before) Thread.Sleep(1);
            }
            Assert.True(WorkerPool.Shared.SharedRuns > before, "a 2M multiply-add Gemm did not use the worker pool in 10 s of tries");
        }
    }
}
