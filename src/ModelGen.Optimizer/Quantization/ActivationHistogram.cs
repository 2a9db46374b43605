namespace ModelGen.Optimizer.Quantization;

/// <summary>
/// The observed distribution of one activation over the calibration data, in two passes: first
/// the range (<see cref="ObserveRange"/>), then a fixed-bin histogram over that range
/// (<see cref="ObserveHistogram"/>). Two passes, rather than an adaptively re-binned histogram,
/// keep the bins exact: every value lands in the bin it belongs to.
/// </summary>
public sealed class ActivationHistogram
{
    /// <summary>Bins of the histogram (TensorRT's choice: fine enough for a 128- or 256-level grid to be searched).</summary>
    public const int DefaultBins = 2048;

    private long[]? _counts;

    /// <summary>The smallest value seen (+∞ before any).</summary>
    public float Min { get; private set; } = float.PositiveInfinity;

    /// <summary>The largest value seen (−∞ before any).</summary>
    public float Max { get; private set; } = float.NegativeInfinity;

    /// <summary>Values seen by the range pass.</summary>
    public long Count { get; private set; }

    /// <summary>Values that were NaN or infinite (skipped; reported by the caller).</summary>
    public long NonFinite { get; private set; }

    /// <summary>The histogram counts over [<see cref="Low"/>, <see cref="High"/>] (null before the histogram pass).</summary>
    public IReadOnlyList<long>? Counts => _counts;

    /// <summary>Lower edge of the histogram: min(Min, 0), since the quantized range always includes 0.</summary>
    public float Low => Math.Min(0f, Min);

    /// <summary>Upper edge of the histogram: max(Max, 0).</summary>
    public float High => Math.Max(0f, Max);

    /// <summary>Width of one bin.</summary>
    public double BinWidth => _counts is null || High <= Low ? 0 : ((double)High - Low) / _counts.Length;

    /// <summary>Pass 1: widens the range to cover <paramref name="values"/>.</summary>
    public void ObserveRange(ReadOnlySpan<float> values)
    {
        if (_counts is not null) throw new InvalidOperationException("the range pass is over once the histogram pass has begun");
        float min = Min, max = Max;
        foreach (float v in values)
        {
            if (!float.IsFinite(v))
            {
                NonFinite++;
                continue;
            }
            if (v < min) min = v;
            if (v > max) max = v;
        }
        Min = min;
        Max = max;
        Count += values.Length;
    }

    /// <summary>Pass 2: counts <paramref name="values"/> into <paramref name="bins"/> bins over the range of pass 1.</summary>
    public void ObserveHistogram(ReadOnlySpan<float> values, int bins = DefaultBins)
    {
        _counts ??= new long[bins];
        var counts = _counts;
        double low = Low, width = ((double)High - low) / counts.Length;
        if (width <= 0)
        {
            foreach (float v in values) if (float.IsFinite(v)) counts[0]++;
            return;
        }
        int last = counts.Length - 1;
        foreach (float v in values)
        {
            if (!float.IsFinite(v)) continue;
            int bin = (int)((v - low) / width);
            counts[Math.Clamp(bin, 0, last)]++;
        }
    }

    /// <summary>Builds a histogram directly from values (both passes), for tests and small data.</summary>
    public static ActivationHistogram Of(ReadOnlySpan<float> values, int bins = DefaultBins)
    {
        var h = new ActivationHistogram();
        h.ObserveRange(values);
        h.ObserveHistogram(values, bins);
        return h;
    }
}
