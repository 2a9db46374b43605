using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Threading;

/// <summary>
/// A process-wide pool of persistent worker threads (one per extra core). The caller publishes a
/// run, wakes as many workers as it has extra parts, and then it and the workers claim parts from a
/// shared counter until none are left; the caller returns once every claimed part has finished.
/// Zero allocation per call.
/// </summary>
/// <remarks>
/// <para>Only one caller uses the workers at a time. A second caller (another predictor on another
/// thread, or a nested call from inside a part) does not wait for them — it runs all its parts
/// inline — so the pool can never deadlock and results never depend on who got the workers.</para>
/// <para>Parts are claimed, not assigned, so a worker that is slow to wake (its core busy with another
/// process) costs nothing: the caller runs that part itself and never waits for a part nobody started.</para>
/// <para>Waiting spins before it blocks, as ONNX Runtime's pool does: a worker that finished polls for
/// the next run, and the caller polls for the workers' parts, for up to <see cref="DefaultSpinMicroseconds"/>
/// before sleeping on a semaphore. Waking a sleeping thread costs several microseconds (a futex wake
/// plus the scheduler), more than a whole parallel matrix-vector product saves; a spinning thread
/// sees its signal within ~0.1 µs.</para>
/// </remarks>
internal sealed class WorkerPool
{
    /// <summary>
    /// How long a waiting thread spins before it blocks. 50 µs covers the gap between the parallel
    /// steps of one inference and between back-to-back inferences of a small model (a batch-1
    /// 784-512-512-10 MLP is ~25 µs), so a busy predictor never pays a wake-up; and it bounds what an
    /// idle app burns after its last call to 50 µs of CPU per worker (ONNX Runtime spins for tens of ms).
    /// </summary>
    public const int DefaultSpinMicroseconds = 50;

    /// <summary>The shared pool, created on first use.</summary>
    public static WorkerPool Shared => LazyShared.Value;

    private static readonly Lazy<WorkerPool> LazyShared = new(() => new WorkerPool(Environment.ProcessorCount - 1));

    private readonly Worker[] _workers;
    private readonly long _spinTicks;
    // A semaphore rather than ManualResetEventSlim: the latter allocates its lock object lazily on the
    // first wait that blocks, which could land inside a measured (zero-allocation) call.
    private readonly SemaphoreSlim _done = new(0);
    private int _busy;
    // The run's part count (high 32 bits) and how many parts were claimed (low 32 bits): one word, so
    // a claim is one atomic increment and a worker arriving late, even during a later run, gets either
    // a real part of the run in progress or nothing.
    private long _claims;
    private int _remaining;      // parts of the run not finished yet
    private int _callerSleeping; // 1 while the caller blocks (or is about to) on _done
    private IParallelWork? _work;
    private Exception? _failure;
    private long _sharedRuns;

    // A thread's first blocking wait allocates its waiter (64 bytes, once per thread). With spinning,
    // a caller may first block in any call, say the 500th; so each thread takes that allocation in its
    // first Run with parts to share instead, busy pool or not, by timing out on a semaphore nobody
    // releases (1 ms, once per thread).
    [ThreadStatic]
    private static bool t_waiterReady;
    private static readonly SemaphoreSlim NeverReleased = new(0);

    /// <summary>
    /// Creates a pool with <paramref name="workerCount"/> background threads (0 = run everything inline)
    /// whose waits spin for <paramref name="spinMicroseconds"/> before blocking (0 = block at once).
    /// </summary>
    public WorkerPool(int workerCount, int spinMicroseconds = DefaultSpinMicroseconds)
    {
        _spinTicks = Stopwatch.Frequency * Math.Max(0, spinMicroseconds) / 1_000_000;
        _workers = new Worker[Math.Max(0, workerCount)];
        for (int i = 0; i < _workers.Length; i++) _workers[i] = new Worker(this, i + 1);
    }

    /// <summary>How many calls ran with the workers (as opposed to inline); for tests and diagnostics.</summary>
    public long SharedRuns => Volatile.Read(ref _sharedRuns);

    /// <summary>How many parts can run at once (workers plus the caller).</summary>
    public int Concurrency => _workers.Length + 1;

    /// <summary>
    /// Runs parts 0..<paramref name="parts"/>-1 of <paramref name="work"/> and returns when all are done.
    /// Callers usually ask for <see cref="Concurrency"/> parts; more are fine (whoever is free takes the next).
    /// </summary>
    /// <exception cref="ModelGenException">A part threw (the first failure is the inner exception); all parts still ran.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(IParallelWork work, int parts)
    {
        if (parts > 1 && _workers.Length > 0 && !t_waiterReady) PrepareWaiter();
        if (parts <= 1 || _workers.Length == 0 || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            // Busy (concurrent or nested use) or nothing to share: run inline; never wait on the workers.
            for (int p = 0; p < parts; p++) work.Execute(p, parts);
            return;
        }
        try
        {
            _sharedRuns++;
            _work = work;
            _failure = null;
            Volatile.Write(ref _remaining, parts);
            Interlocked.Exchange(ref _claims, (long)parts << 32); // publishes the fields above
            int helpers = Math.Min(parts - 1, _workers.Length);
            for (int w = 0; w < helpers; w++) _workers[w].Wake();
            RunParts();
            WaitForParts();
            _work = null;
            if (_failure is { } failure) throw new ModelGenException("A parallel kernel part failed: " + failure.Message, failure);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PrepareWaiter()
    {
        NeverReleased.Wait(1);
        t_waiterReady = true;
    }

    /// <summary>Claims and runs parts of the current run until none are left (the caller and the workers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunParts()
    {
        while (true)
        {
            long claim = Interlocked.Increment(ref _claims);
            int part = (int)(claim & 0xFFFF_FFFF) - 1;
            int parts = (int)(claim >> 32);
            if (part >= parts) return;
            // Safe to read _work now: the run cannot end, and no other run start, before this part is counted done.
            try
            {
                _work!.Execute(part, parts);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            if (Interlocked.Decrement(ref _remaining) == 0 && Interlocked.Exchange(ref _callerSleeping, 0) == 1) _done.Release();
        }
    }

    /// <summary>The caller, its claims done, waits for parts still running on workers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WaitForParts()
    {
        var spin = new SpinBudget(_spinTicks);
        while (Volatile.Read(ref _remaining) != 0)
        {
            if (spin.Pause()) continue;
            // Announce the sleep, then look again: the last part's finisher either sees the flag and
            // releases _done, or finished before the flag went up and we see 0 here (both sides use
            // full-fence interlocked operations, so at least one sees the other's write).
            Interlocked.Exchange(ref _callerSleeping, 1);
            if (Volatile.Read(ref _remaining) == 0 && Interlocked.Exchange(ref _callerSleeping, 0) == 1) return; // took the flag back: no release is coming
            _done.Wait();
            return;
        }
    }

    private sealed class Worker
    {
        private readonly WorkerPool _pool;
        private readonly SemaphoreSlim _wake = new(0);
        private int _ticket;   // bumped by the caller for every run it wakes this worker for
        private int _sleeping; // 1 while the worker blocks (or is about to) on _wake

        public Worker(WorkerPool pool, int number)
        {
            _pool = pool;
            var thread = new Thread(Loop) { IsBackground = true, Name = $"ModelGen worker {number}" };
            thread.Start();
        }

        /// <summary>Tells the worker a run was published (called by the caller).</summary>
        public void Wake()
        {
            Interlocked.Increment(ref _ticket);
            if (Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Release();
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void Loop()
        {
            int seen = 0;
            while (true)
            {
                WaitForTicket(seen);
                seen = Volatile.Read(ref _ticket);
                _pool.RunParts();
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private void WaitForTicket(int seen)
        {
            var spin = new SpinBudget(_pool._spinTicks);
            while (Volatile.Read(ref _ticket) == seen)
            {
                if (spin.Pause()) continue;
                // The same handshake as the caller's wait: flag up, look again, take the flag back if the ticket came.
                Interlocked.Exchange(ref _sleeping, 1);
                if (Volatile.Read(ref _ticket) != seen && Interlocked.Exchange(ref _sleeping, 0) == 1) return;
                _wake.Wait();
                return;
            }
        }
    }
}
