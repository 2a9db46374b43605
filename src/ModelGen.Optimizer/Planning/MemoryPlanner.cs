namespace ModelGen.Optimizer.Planning;

/// <summary>
/// Static memory planning: gives every arena tensor a byte offset so that tensors whose
/// lifetimes overlap never share bytes, while tensors that are never live at the same time
/// reuse the same memory. Greedy by size (largest first), first fit by offset — the classic
/// heuristic of TFLite's and ORT's static planners; it is near optimal for inference graphs.
/// </summary>
internal static class MemoryPlanner
{
    /// <summary>Arena offsets are multiples of this, so every tensor starts on a cache line and a full Vector512.</summary>
    public const long Alignment = 64;

    /// <summary>A tensor to place: its size and the first and last step (inclusive) at which it is live.</summary>
    public readonly record struct Request(long Bytes, int FirstStep, int LastStep)
    {
        public bool Overlaps(Request other) => FirstStep <= other.LastStep && other.FirstStep <= LastStep;
    }

    /// <summary>Returns one offset per request and the arena size.</summary>
    public static (long[] Offsets, long ArenaBytes) Plan(IReadOnlyList<Request> requests)
    {
        var offsets = new long[requests.Count];
        var order = Enumerable.Range(0, requests.Count)
            .OrderByDescending(i => requests[i].Bytes)
            .ThenBy(i => requests[i].FirstStep)
            .ThenBy(i => i)
            .ToArray();
        var placed = new List<int>();
        long arena = 0;
        foreach (int i in order)
        {
            var r = requests[i];
            long size = AlignUp(Math.Max(r.Bytes, 1));
            // Intervals already taken by tensors live at the same time, by offset.
            var busy = placed.Where(j => requests[j].Overlaps(r))
                .Select(j => (Start: offsets[j], End: offsets[j] + AlignUp(Math.Max(requests[j].Bytes, 1))))
                .OrderBy(b => b.Start)
                .ToList();
            long candidate = 0;
            foreach (var (start, end) in busy)
            {
                if (candidate + size <= start) break;
                candidate = Math.Max(candidate, end);
            }
            offsets[i] = candidate;
            arena = Math.Max(arena, candidate + size);
            placed.Add(i);
        }
        return (offsets, arena);
    }

    public static long AlignUp(long value) => (value + Alignment - 1) / Alignment * Alignment;
}
