namespace ModelGen.Optimizer.Quantization;

/// <summary>
/// Chooses an activation's quantization range [lo, hi] from its <see cref="ActivationHistogram"/>.
/// Every method returns a range that includes 0 and lies within the observed [min, max].
/// <list type="bullet">
/// <item><b>MinMax</b>: the observed min and max, so nothing is clipped.</item>
/// <item><b>Percentile</b>: each side is clipped at a percentile of the signed values: hi is the
/// value below which <c>p</c>% of the values lie and lo the value below which <c>100 − p</c>% lie
/// (read off the histogram at bin edges, so a clipped side lands on the bin that holds the
/// percentile). A few far outliers then no longer stretch the grid.</item>
/// <item><b>Entropy</b>: TensorRT's KL-divergence search over the histogram of |x|: for each
/// candidate threshold T (a bin edge, from the number of levels up to the last bin) the clipped
/// distribution P (outliers folded into its last bin) is compared with Q, P re-quantized to the
/// grid's number of levels, and the T with the smallest KL(P‖Q) wins. The uint8 grid spends 128
/// levels per side when the activation has both signs and all 256 on one side when it does not,
/// so the search uses 128 or 256 levels accordingly. The range is [max(min, −T), min(max, T)].</item>
/// </list>
/// </summary>
public static class RangeCalibration
{
    /// <summary>The range for <paramref name="method"/>.</summary>
    /// <param name="histogram">An activation after both passes (the histogram is not needed for MinMax).</param>
    /// <param name="method">The calibration method.</param>
    /// <param name="percentile">For <see cref="CalibrationMethod.Percentile"/>: in (50, 100].</param>
    public static (float Low, float High) Choose(ActivationHistogram histogram, CalibrationMethod method, double percentile = 99.99)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        if (histogram.Count == 0 || histogram.Count == histogram.NonFinite) return (0f, 0f);
        return method switch
        {
            CalibrationMethod.MinMax => (histogram.Low, histogram.High),
            CalibrationMethod.Percentile => Percentile(histogram, percentile),
            _ => Entropy(histogram),
        };
    }

    private static (float, float) Percentile(ActivationHistogram h, double percentile)
    {
        if (percentile is <= 50 or > 100 || double.IsNaN(percentile))
        {
            throw new ArgumentOutOfRangeException(nameof(percentile), percentile, "the calibration percentile must be in (50, 100]");
        }
        var counts = RequireCounts(h);
        long total = counts.Sum();
        if (total == 0 || h.BinWidth == 0) return (h.Low, h.High);
        double lowTarget = total * (100 - percentile) / 100, highTarget = total * percentile / 100;
        double width = h.BinWidth;
        long cumulative = 0;
        float lo = h.Low, hi = h.High;
        bool loSet = false;
        for (int b = 0; b < counts.Count; b++)
        {
            cumulative += counts[b];
            if (!loSet && cumulative > lowTarget)
            {
                lo = (float)(h.Low + b * width);
                loSet = true;
            }
            if (cumulative >= highTarget)
            {
                hi = (float)(h.Low + (b + 1) * width);
                break;
            }
        }
        return (Math.Min(0f, Math.Max(lo, h.Low)), Math.Max(0f, Math.Min(hi, h.High)));
    }

    private static (float, float) Entropy(ActivationHistogram h)
    {
        RequireCounts(h);
        float maxAbs = Math.Max(-h.Low, h.High);
        if (maxAbs == 0) return (0f, 0f);
        int bins = h.Counts!.Count;
        // Histogram of |x| over [0, maxAbs] with as many bins as the signed one, re-binned from it
        // (each signed bin's count goes to the |x| bin of its centre).
        var abs = new double[bins];
        double width = h.BinWidth, absWidth = maxAbs / (double)bins;
        for (int b = 0; b < bins; b++)
        {
            double centre = Math.Abs(h.Low + (b + 0.5) * width);
            abs[Math.Min(bins - 1, (int)(centre / absWidth))] += h.Counts[b];
        }
        int levels = h.Low < 0 && h.High > 0 ? 128 : 256;
        double threshold = KlThreshold(abs, levels) * absWidth;
        return (Math.Max(h.Low, (float)-threshold), Math.Min(h.High, (float)threshold));
    }

    /// <summary>
    /// TensorRT's search: the number of bins i (≥ levels) whose clipped-and-requantized
    /// distribution has the least KL divergence from the clipped original. Returns i (the threshold in bins).
    /// </summary>
    internal static int KlThreshold(double[] histogram, int levels)
    {
        int bins = histogram.Length;
        if (bins <= levels) return bins;
        double best = double.PositiveInfinity;
        int bestBins = bins;
        var p = new double[bins];
        var q = new double[bins];
        for (int i = levels; i <= bins; i++)
        {
            Array.Copy(histogram, p, i);
            double outliers = 0;
            for (int b = i; b < bins; b++) outliers += histogram[b];
            p[i - 1] += outliers;
            // Q: the first i bins merged into `levels` buckets, each bucket's mass spread evenly
            // over its non-empty bins (empty bins stay empty, as in TensorRT).
            Array.Clear(q, 0, i);
            double binsPerLevel = (double)i / levels;
            for (int j = 0; j < levels; j++)
            {
                int start = (int)(j * binsPerLevel), stop = j == levels - 1 ? i : (int)((j + 1) * binsPerLevel);
                double mass = 0;
                int nonEmpty = 0;
                for (int b = start; b < stop; b++)
                {
                    mass += histogram[b];
                    if (histogram[b] != 0) nonEmpty++;
                }
                if (nonEmpty == 0) continue;
                for (int b = start; b < stop; b++) if (histogram[b] != 0) q[b] = mass / nonEmpty;
            }
            double kl = Kl(p, q, i);
            if (kl < best)
            {
                best = kl;
                bestBins = i;
            }
        }
        return bestBins;
    }

    private static double Kl(double[] p, double[] q, int length)
    {
        double sumP = 0, sumQ = 0;
        for (int b = 0; b < length; b++)
        {
            sumP += p[b];
            sumQ += q[b];
        }
        if (sumP == 0 || sumQ == 0) return double.PositiveInfinity;
        double kl = 0;
        for (int b = 0; b < length; b++)
        {
            if (p[b] == 0) continue;
            double pn = p[b] / sumP;
            // A bin P has but Q lacks (only the folded-in outliers can do that): smoothed, not infinite.
            double qn = q[b] == 0 ? 1e-12 : q[b] / sumQ;
            kl += pn * Math.Log(pn / qn);
        }
        return kl;
    }

    private static IReadOnlyList<long> RequireCounts(ActivationHistogram h) =>
        h.Counts ?? throw new InvalidOperationException("the histogram pass has not run");
}
