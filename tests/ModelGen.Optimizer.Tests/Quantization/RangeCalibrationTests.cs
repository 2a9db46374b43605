using ModelGen.Optimizer.Quantization;

namespace ModelGen.Optimizer.Tests.Quantization;

public class RangeCalibrationTests
{
    private static float[] Gaussian(int n, int seed, float sigma = 1f)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++)
        {
            double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
            x[i] = sigma * (float)(Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2));
        }
        return x;
    }

    [Fact]
    public void MinMax_IsTheExactObservedRange_WidenedToZero()
    {
        var h = ActivationHistogram.Of(new[] { 0.5f, 2.25f, 1f });
        Assert.Equal((0f, 2.25f), RangeCalibration.Choose(h, CalibrationMethod.MinMax));
        var g = ActivationHistogram.Of(new[] { -1.5f, 0.25f, 3.75f });
        Assert.Equal((-1.5f, 3.75f), RangeCalibration.Choose(g, CalibrationMethod.MinMax));
    }

    [Fact]
    public void Percentile_ClipsFarOutliers_ButKeepsTheBulk()
    {
        var x = Gaussian(100_000, 1).Concat(new[] { 60f, -50f }).ToArray(); // two far outliers
        var (lo, hi) = RangeCalibration.Choose(ActivationHistogram.Of(x), CalibrationMethod.Percentile, 99.99);
        // The 99.99th percentile of N(0,1) is 3.72; bins are 110/2048 = 0.054 wide.
        Assert.InRange(hi, 3.3f, 4.3f);
        Assert.InRange(lo, -4.3f, -3.3f);
        var (lo100, hi100) = RangeCalibration.Choose(ActivationHistogram.Of(x), CalibrationMethod.Percentile, 100);
        Assert.Equal(60f, hi100, 3);
        Assert.Equal(-50f, lo100, 3);
    }

    [Fact]
    public void Entropy_PicksAThresholdFarBelowAFarOutlier_ForNonNegativeData()
    {
        // ReLU-like data: |N(0,1)| plus one value at 100.
        var x = Gaussian(50_000, 2).Select(MathF.Abs).Append(100f).ToArray();
        var (lo, hi) = RangeCalibration.Choose(ActivationHistogram.Of(x), CalibrationMethod.Entropy);
        Assert.Equal(0f, lo);
        // At least 256 bins of 100/2048 (12.5) are kept by construction; the outlier must be cut.
        Assert.InRange(hi, 3f, 30f);
    }

    [Fact]
    public void Entropy_KeepsTheWholeRange_WhenThereAreNoOutliers()
    {
        var rng = new Random(3);
        var x = Enumerable.Range(0, 50_000).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray(); // uniform [-1, 1]
        var (lo, hi) = RangeCalibration.Choose(ActivationHistogram.Of(x), CalibrationMethod.Entropy);
        Assert.InRange(hi, 0.9f, 1f);
        Assert.InRange(lo, -1f, -0.9f);
    }
}
