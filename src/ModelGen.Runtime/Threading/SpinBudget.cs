using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Threading;

/// <summary>
/// A bounded spin-wait: <see cref="Pause"/> pauses the core briefly (the pause count doubling up to a
/// small cap, so a waiter sees its signal within ~100 ns however long it has waited)
/// until the time budget, measured with <see cref="Stopwatch"/> ticks, is spent. Then the caller
/// falls back to a blocking wait.
/// </summary>
internal struct SpinBudget
{
    /// <summary>
    /// Pauses per poll at most. A PAUSE takes 19 ns on the 2-core Zen 5 machine (up to ~40 ns on Intel cores), so
    /// 64 per poll let a spinning worker see a new run up to 1.2 µs late: one direct conv through the plan
    /// executor measured its worker's part starting 2.8–4.3 µs after the run began with 64, 1.6–2.1 µs with 4.
    /// </summary>
    private const int MaxPauses = 4;

    private readonly long _deadline;
    private int _pauses;

    /// <summary>Starts a budget of <paramref name="ticks"/> Stopwatch ticks from now (0: no spinning at all).</summary>
    public SpinBudget(long ticks)
    {
        _deadline = ticks > 0 ? Stopwatch.GetTimestamp() + ticks : 0;
        _pauses = 1;
    }

    /// <summary>Pauses once more; false (without pausing) once the budget is spent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool Pause()
    {
        if (_deadline == 0 || Stopwatch.GetTimestamp() >= _deadline) return false;
        for (int i = 0; i < _pauses; i++)
        {
            if (X86Base.IsSupported) X86Base.Pause();
            else Thread.SpinWait(1);
        }
        if (_pauses < MaxPauses) _pauses *= 2;
        return true;
    }
}
