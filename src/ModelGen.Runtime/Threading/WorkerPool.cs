namespace ModelGen.Runtime.Threading;

/// <summary>
/// A process-wide pool of persistent worker threads (one per extra core) with static
/// partitioning: worker <c>w</c> runs part <c>w + 1</c>, the caller runs part 0, and the caller
/// waits for the rest. Zero allocation per call.
/// </summary>
/// <remarks>
/// Only one caller uses the workers at a time. A second caller (another predictor on another
/// thread, or a nested call from inside a part) does not wait for them — it runs all its parts
/// inline — so the pool can never deadlock and results never depend on who got the workers.
/// </remarks>
internal sealed class WorkerPool
{
    /// <summary>The shared pool, created on first use.</summary>
    public static WorkerPool Shared => LazyShared.Value;

    private static readonly Lazy<WorkerPool> LazyShared = new(() => new WorkerPool(Environment.ProcessorCount - 1));

    private readonly Worker[] _workers;
    // A semaphore rather than ManualResetEventSlim: the latter allocates its lock object lazily on the
    // first wait that blocks, which could land inside a measured (zero-allocation) call.
    private readonly SemaphoreSlim _done = new(0);
    private int _busy;
    private int _pending;
    private IParallelWork? _work;
    private int _parts;
    private Exception? _failure;

    /// <summary>Creates a pool with <paramref name="workerCount"/> background threads (0 = run everything inline).</summary>
    public WorkerPool(int workerCount)
    {
        _workers = new Worker[Math.Max(0, workerCount)];
        for (int i = 0; i < _workers.Length; i++) _workers[i] = new Worker(this, i + 1);
    }

    /// <summary>How many calls ran with the workers (as opposed to inline); for tests and diagnostics.</summary>
    public long SharedRuns => Volatile.Read(ref _sharedRuns);

    private long _sharedRuns;

    /// <summary>How many parts can run at once (workers plus the caller).</summary>
    public int Concurrency => _workers.Length + 1;

    /// <summary>
    /// Runs parts 0..<paramref name="parts"/>-1 of <paramref name="work"/> and returns when all are done.
    /// <paramref name="parts"/> is clamped to <see cref="Concurrency"/> by the caller's choice; parts beyond
    /// it run on the caller.
    /// </summary>
    public void Run(IParallelWork work, int parts)
    {
        if (parts <= 1 || _workers.Length == 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            // Busy (concurrent or nested use) or nothing to share: run inline; never wait on the workers.
            for (int p = 0; p < parts; p++) work.Execute(p, parts);
            return;
        }
        try
        {
            _sharedRuns++;
            int helpers = Math.Min(parts - 1, _workers.Length);
            _work = work;
            _parts = parts;
            _failure = null;
            Volatile.Write(ref _pending, helpers);
            for (int w = 0; w < helpers; w++) _workers[w].Signal.Release();
            // The caller takes part 0 and any parts beyond the workers' count.
            work.Execute(0, parts);
            for (int p = helpers + 1; p < parts; p++) work.Execute(p, parts);
            _done.Wait();
            _work = null;
            if (_failure is { } failure) throw new ModelGenException("A parallel kernel part failed: " + failure.Message, failure);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    private void Finished(Exception? failure)
    {
        if (failure is not null) Interlocked.CompareExchange(ref _failure, failure, null);
        if (Interlocked.Decrement(ref _pending) == 0) _done.Release();
    }

    private sealed class Worker
    {
        private readonly WorkerPool _pool;
        private readonly int _part;

        public Worker(WorkerPool pool, int part)
        {
            _pool = pool;
            _part = part;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"ModelGen worker {part}" };
            thread.Start();
        }

        public SemaphoreSlim Signal { get; } = new(0);

        private void Loop()
        {
            while (true)
            {
                Signal.Wait();
                Exception? failure = null;
                try
                {
                    _pool._work!.Execute(_part, _pool._parts);
                }
                catch (Exception e)
                {
                    failure = e;
                }
                _pool.Finished(failure);
            }
        }
    }
}
