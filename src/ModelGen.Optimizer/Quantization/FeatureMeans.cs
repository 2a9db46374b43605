namespace ModelGen.Optimizer.Quantization;

/// <summary>Running per-feature sums of an activation (the mean of every index of one axis over all other axes and all samples).</summary>
internal sealed class FeatureMeans
{
    private readonly double[] _sums;
    private readonly int _outer, _inner;
    private long _rows;

    public FeatureMeans(int[] shape, int axis)
    {
        _outer = shape.Take(axis).Aggregate(1, (a, b) => a * b);
        _inner = shape.Skip(axis + 1).Aggregate(1, (a, b) => a * b);
        _sums = new double[shape[axis]];
    }

    /// <summary>Adds one sample (shape as given to the constructor), optionally transformed value by value.</summary>
    public void Add(ReadOnlySpan<float> values, Func<float, float>? transform = null)
    {
        int channels = _sums.Length;
        for (int o = 0; o < _outer; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                var row = values.Slice((o * channels + c) * _inner, _inner);
                double s = 0;
                if (transform is null) foreach (float v in row) s += v;
                else foreach (float v in row) s += transform(v);
                _sums[c] += s;
            }
        }
        _rows += (long)_outer * _inner;
    }

    /// <summary>The means so far.</summary>
    public double[] Means() => _sums.Select(s => _rows == 0 ? 0 : s / _rows).ToArray();
}
