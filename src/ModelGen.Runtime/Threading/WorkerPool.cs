using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Threading;

/// <summary>
/// A process-wide pool of persistent worker threads (one per extra core). The caller publishes a run, wakes as many
/// workers as it shares parts with, and then it and the workers each run the parts of their own home range, after which
/// they take parts still unstarted from the ends of the others' ranges; the caller returns once every part has finished.
/// Zero allocation per call.
/// </summary>
/// <remarks>
/// <para>Only one caller uses the workers at a time. A second caller (another predictor on another thread, or a nested
/// call from inside a part) does not wait for them — it runs all its parts inline — so the pool can never deadlock and
/// results never depend on who got the workers.</para>
/// <para>Home ranges: of P parts over T threads, thread t (the caller is 0) owns parts [t·P/T, (t+1)·P/T) and runs them
/// from the front. The kernels split a step's work the same way at every step (the first part the top rows of every
/// channel, say), so a core runs the part whose input it wrote in the step before, and the same slice of the shared
/// workspace: its data stays in its own caches. Parts claimed from one shared counter went to whichever thread came
/// first, which gave part 0 to the worker (and part 1 to the caller) in about 2% of SqueezeNet's two-part runs.</para>
/// <para>Taking from the others' ends: a thread that has run its own range takes the last unstarted part of another's,
/// so a worker that is slow to wake (its core busy with another process) holds up the step by no more than the part it
/// is in. Kernels that cut their work into more parts than threads would get that balance within a step too, at the
/// cost of smaller parts.</para>
/// <para>Balanced splits: in a run of one part per thread, kernels cut their work with <see cref="Split"/>, which gives
/// each thread a share learned from how fast each ran its part in the runs before, so that a core the host slows down
/// for a while gets less of the next steps instead of holding up each one.</para>
/// <para>Waiting spins before it blocks, as ONNX Runtime's pool does: a worker that finished polls for the next run,
/// and the caller polls for the workers' parts, for up to <see cref="DefaultSpinMicroseconds"/> before sleeping on a
/// semaphore (the caller for twice that). Waking a sleeping thread costs several microseconds (a futex wake plus the
/// scheduler), more than a whole parallel matrix-vector product saves; a spinning thread sees its signal within ~0.1 µs.</para>
/// </remarks>
internal sealed class WorkerPool
{
    /// <summary>
    /// How long a worker that finished its part spins for the next run before it blocks (the caller, waiting for the
    /// workers' parts, spins twice as long). It covers the gap between the parallel steps of one inference, where a worker
    /// that finished first waits for the caller's part and then the caller's next step, and between back-to-back inferences
    /// of a small model; and it bounds what an idle app burns after its last call to 250 µs of CPU per worker (ONNX Runtime
    /// spins for tens of ms).
    /// </summary>
    /// <remarks>
    /// With 50 µs (and 50 for the caller) the worker blocked 14–15 times in each ResNet-50 call and the caller 10–12 times:
    /// on this host a core the host slows runs its part 10–20% longer than the other (a millisecond step's part ends 100–200
    /// µs apart), and each block costs a futex wake and the scheduler's latency on the next run. With 250 and 500 µs the
    /// worker blocked 1.8 times a call and the caller 0.26 (counters of an experiment build, two cores, 40 s); SqueezeNet's
    /// worker 1.5 → 0.08. ResNet-50's block medians, one executor alternating old and new spins in 0.6 s blocks (an
    /// experiment-only switch; docs/performance.md, nineteenth session): 0.941 and 0.964 with both longer, 0.975 and 1.001
    /// with the worker's alone, 1.023 with the caller's alone, 0.987 with both in a quiet minute.
    /// </remarks>
    public const int DefaultSpinMicroseconds = 250;

    /// <summary>The shared pool, created on first use.</summary>
    public static WorkerPool Shared => LazyShared.Value;

    private static readonly Lazy<WorkerPool> LazyShared = new(() => new WorkerPool(Environment.ProcessorCount - 1));

    private readonly Worker[] _workers;
    private readonly long _spinTicks;
    // A semaphore rather than ManualResetEventSlim: the latter allocates its lock object lazily on the
    // first wait that blocks, which could land inside a measured (zero-allocation) call.
    private readonly SemaphoreSlim _done = new(0);
    private int _busy;
    // Per thread (the caller is 0, worker w is w + 1), the unstarted parts of its home range as one word, next part in
    // the high 32 bits and the range's end in the low 32: the owner claims the next part and others the last one, each
    // with one compare-exchange. A worker arriving late, even during a later run, finds either unstarted parts of the
    // run in progress (which it may run: it reads the run's work and part count only after its claim) or none. The
    // words lie RangeStride longs apart, so the threads' claims never share a cache line.
    private readonly long[] _ranges;
    private const int RangeStride = 16;
    private int _parts;          // the run's part count
    private int _remaining;      // parts of the run not finished yet
    private int _callerSleeping; // 1 while the caller blocks (or is about to) on _done
    private IParallelWork? _work;
    private Exception? _failure;
    private long _sharedRuns;

    // Balanced splits (see Split): each thread's share of the work of a run with one part per thread, learned from how
    // fast each thread ran its part in the runs before.
    private readonly double[] _shares;     // [threads], summing to 1
    private readonly double[] _runBounds;  // [threads + 1]: the shares, cumulated and frozen for the run in progress
    private readonly long[] _busyTicks;    // [threads · RangeStride]: how long each thread ran its own part (0: it did not)
    private int _splitUsed;                // the run's work called Split with units enough to learn from
    private int _splitCoarse;              // ... or with too few units: its parts' sizes were not its shares
    private bool _sharesFixed;             // tests: the shares stay as set

    /// <summary>The pool whose run the current thread is running a part of, or null.</summary>
    [ThreadStatic]
    private static WorkerPool? t_runPool;

    /// <summary>Fewest units a run's Split may cut for the run to teach the shares: with fewer, rounding moves a part's size off its share.</summary>
    private const long MinLearnUnits = 16;

    /// <summary>How far each run moves a share toward what that run measured (the rest stays with the runs before).</summary>
    private const double LearnRate = 0.5;

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
        _ranges = new long[(_workers.Length + 1) * RangeStride];
        for (int i = 0; i < _workers.Length; i++) _workers[i] = new Worker(this, i + 1);
        int threads = _workers.Length + 1;
        _shares = new double[threads];
        Array.Fill(_shares, 1.0 / threads);
        _runBounds = new double[threads + 1];
        _busyTicks = new long[threads * RangeStride];
    }

    /// <summary>
    /// Where part <paramref name="part"/> of <paramref name="parts"/> starts when <paramref name="units"/> units of work are
    /// cut into that many consecutive ranges (part p runs [Split(units, p, parts), Split(units, p + 1, parts)); part
    /// <paramref name="parts"/> is <paramref name="units"/>). Kernels call it from <see cref="IParallelWork.Execute"/>.
    /// </summary>
    /// <remarks>
    /// <para>Equal ranges (<c>units · part / parts</c>), except inside a pool's run of one part per thread: there each
    /// thread's range follows its share, which the pool learns from the runs before (each thread's part size over its
    /// time, half way from the shares it had). Why: on a shared host each core's speed moves independently of the other's,
    /// by ±25% over fractions of a millisecond (the 2-core AVX2 EPYC: per-core slowdowns uncorrelated, the log of their
    /// ratio with a standard deviation of 0.24 and a correlation of 0.46 from one half millisecond to the next), and a
    /// step of two equal halves waits for the slower core. With the shares, SqueezeNet's median call in alternating
    /// blocks of the same executor went 6658 → 6012 µs, and the faster core's idle time fell from 17% of a step to 12%
    /// (docs/performance.md, eighteenth session).</para>
    /// <para>Every range is computed from shares frozen at the run's start, so the parts of one run always tile the units
    /// exactly, whatever the shares; a kernel whose parts compute disjoint outputs gives the same bits for any split.</para>
    /// </remarks>
    public static long Split(long units, int part, int parts)
    {
        var pool = t_runPool;
        if (pool is null || parts != pool._parts || !pool.OnePartPerThread) return units * part / parts;
        // Written only when not yet set: both parts' threads read these words, and a write would pull the line away from the other core.
        if (units < MinLearnUnits)
        {
            if (pool._splitCoarse == 0) pool._splitCoarse = 1;
        }
        else if (pool._splitUsed == 0) pool._splitUsed = 1;
        if (part <= 0) return 0;
        if (part >= parts) return units;
        return Math.Min(units, (long)Math.Round(units * pool._runBounds[part]));
    }

    /// <summary>Whether the run in progress has one part per thread: the runs whose splits follow the shares.</summary>
    private bool OnePartPerThread => _parts == Concurrency;

    /// <summary>Each thread's current share of a run with one part per thread (the caller's first); for tests and diagnostics.</summary>
    internal double[] Shares => (double[])_shares.Clone();

    /// <summary>Tests: sets the shares and stops learning (null: equal shares, learning again).</summary>
    internal void FixShares(double[]? shares)
    {
        if (shares is not null && (shares.Length != _shares.Length || Math.Abs(shares.Sum() - 1) > 1e-9 || shares.Any(x => x <= 0)))
        {
            throw new ArgumentException($"{_shares.Length} positive shares summing to 1 expected", nameof(shares));
        }
        for (int t = 0; t < _shares.Length; t++) _shares[t] = shares?[t] ?? 1.0 / _shares.Length;
        _sharesFixed = shares is not null;
    }

    /// <summary>How many calls ran with the workers (as opposed to inline); for tests and diagnostics.</summary>
    public long SharedRuns => Volatile.Read(ref _sharedRuns);

    /// <summary>How many parts can run at once (workers plus the caller).</summary>
    public int Concurrency => _workers.Length + 1;

    /// <summary>
    /// Runs parts 0..<paramref name="parts"/>-1 of <paramref name="work"/> and returns when all are done.
    /// Callers usually ask for <see cref="Concurrency"/> parts; more are fine (each thread runs its own range,
    /// then helps with the others').
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
            _parts = parts;
            Volatile.Write(ref _remaining, parts);
            int threads = Math.Min(parts, Concurrency);
            _splitUsed = 0;
            _splitCoarse = 0;
            FreezeBounds(threads);
            for (int t = 0; t <= _workers.Length; t++)
            {
                long begin = t < threads ? (long)parts * t / threads : 0, end = t < threads ? (long)parts * (t + 1) / threads : 0;
                // A release write: whoever claims from this range sees the fields above.
                Volatile.Write(ref _ranges[t * RangeStride], (begin << 32) | end);
            }
            // Wake's increment is a full fence: a worker that sees its ticket sees its range.
            for (int w = 0; w < threads - 1; w++) _workers[w].Wake();
            RunParts(0);
            WaitForParts();
            _work = null;
            if (_splitUsed != 0 && _splitCoarse == 0 && OnePartPerThread && !_sharesFixed) Learn(threads);
            if (_failure is { } failure) throw new ModelGenException("A parallel kernel part failed: " + failure.Message, failure);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>
    /// The run's cumulated shares, from 0 to 1 and never falling, so its parts tile the units exactly even if the shares
    /// were read while <see cref="FixShares"/> wrote them on another thread.
    /// </summary>
    private void FreezeBounds(int threads)
    {
        double total = 0;
        for (int t = 0; t < threads; t++) total += _shares[t];
        double sum = 0;
        _runBounds[0] = 0;
        for (int t = 1; t < threads; t++)
        {
            sum += _shares[t - 1];
            _runBounds[t] = Math.Clamp(sum / total, _runBounds[t - 1], 1);
        }
        _runBounds[threads] = 1;
        for (int t = 0; t < threads; t++) _busyTicks[t * RangeStride] = 0;
    }

    /// <summary>
    /// After a run of one part per thread cut by <see cref="Split"/>: each thread's speed (its share over its time) moves
    /// the shares <see cref="LearnRate"/> of the way toward the speeds' proportions, each kept within half and one and a
    /// half of an equal share.
    /// </summary>
    private void Learn(int threads)
    {
        double total = 0;
        Span<double> speed = stackalloc double[threads];
        for (int t = 0; t < threads; t++)
        {
            long busy = _busyTicks[t * RangeStride];
            if (busy <= 0) return; // a part ran on another thread (stolen): no clean reading
            speed[t] = (_runBounds[t + 1] - _runBounds[t]) / busy;
            total += speed[t];
        }
        double sum = 0;
        for (int t = 0; t < threads; t++)
        {
            double target = Math.Clamp(speed[t] / total, 0.5 / threads, 1.5 / threads);
            _shares[t] += LearnRate * (target - _shares[t]);
            sum += _shares[t];
        }
        for (int t = 0; t < threads; t++) _shares[t] /= sum;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void PrepareWaiter()
    {
        NeverReleased.Wait(1);
        t_waiterReady = true;
    }

    /// <summary>
    /// Runs the unstarted parts of thread <paramref name="self"/>'s home range, then takes the others' last unstarted
    /// parts until none are left (the caller and the workers).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunParts(int self)
    {
        int threads = _workers.Length + 1;
        while (true)
        {
            int part = Claim(self, fromFront: true);
            for (int i = 1; part < 0 && i < threads; i++) part = Claim((self + i) % threads, fromFront: false);
            if (part < 0) return;
            // Safe to read the run's fields now: the run cannot end, and no other run start, before this part is counted done.
            long started = Stopwatch.GetTimestamp();
            var outerPool = t_runPool; // another pool's run, when this one runs inside a part of it
            t_runPool = this;
            try
            {
                _work!.Execute(part, _parts);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            t_runPool = outerPool;
            if (part == self) _busyTicks[self * RangeStride] = Stopwatch.GetTimestamp() - started;
            if (Interlocked.Decrement(ref _remaining) == 0 && Interlocked.Exchange(ref _callerSleeping, 0) == 1) _done.Release();
        }
    }

    /// <summary>
    /// Claims an unstarted part of thread <paramref name="owner"/>'s range: its next one (<paramref name="fromFront"/>, the
    /// owner's own claims) or its last one (another thread's), or returns -1 when none is left.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Claim(int owner, bool fromFront)
    {
        ref long range = ref _ranges[owner * RangeStride];
        while (true)
        {
            long seen = Volatile.Read(ref range);
            int next = (int)(seen >> 32), end = (int)seen;
            if (next >= end) return -1;
            long rest = fromFront ? ((long)(next + 1) << 32) | (uint)end : ((long)next << 32) | (uint)(end - 1);
            if (Interlocked.CompareExchange(ref range, rest, seen) == seen) return fromFront ? next : end - 1;
        }
    }

    /// <summary>The caller, its claims done, waits for parts still running on workers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WaitForParts()
    {
        // Twice the workers' spin: the parts in progress are this call's own work, and blocking here only adds a wake-up.
        var spin = new SpinBudget(2 * _spinTicks);
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
        private readonly int _self; // its home range: the caller's is 0
        private readonly SemaphoreSlim _wake = new(0);
        private int _ticket;   // bumped by the caller for every run it wakes this worker for
        private int _sleeping; // 1 while the worker blocks (or is about to) on _wake

        public Worker(WorkerPool pool, int number)
        {
            _pool = pool;
            _self = number;
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
                _pool.RunParts(_self);
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
