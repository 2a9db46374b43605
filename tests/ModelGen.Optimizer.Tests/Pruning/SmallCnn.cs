namespace ModelGen.Optimizer.Tests.Pruning;

/// <summary>
/// A small MNIST CNN trained here, for the pruning tests: Conv 3x3 (8) → Relu → MaxPool 2 →
/// Conv 3x3 (16) → Relu → MaxPool 2 → Flatten → Gemm (10). Plain loops and mini-batch SGD with
/// momentum on cross-entropy; single-threaded and seeded, so it trains to the same weights every run.
/// </summary>
internal sealed class SmallCnn
{
    public const int C1 = 8, C2 = 16, Classes = 10, Side = 28, Half = 14, Quarter = 7, Flat = C2 * Quarter * Quarter;

    public readonly float[] W1 = new float[C1 * 9], B1 = new float[C1];
    public readonly float[] W2 = new float[C2 * C1 * 9], B2 = new float[C2];
    public readonly float[] W3 = new float[Classes * Flat], B3 = new float[Classes];
    private readonly float[][] _params, _grads, _velocity;

    // Activations of the current sample.
    private readonly float[] _a1 = new float[C1 * Side * Side], _p1 = new float[C1 * Half * Half];
    private readonly int[] _i1 = new int[C1 * Half * Half];
    private readonly float[] _a2 = new float[C2 * Half * Half], _p2 = new float[Flat];
    private readonly int[] _i2 = new int[Flat];
    private readonly float[] _logits = new float[Classes];

    public SmallCnn(int seed)
    {
        var rng = new Random(seed);
        Fill(W1, rng, MathF.Sqrt(2f / 9));
        Fill(W2, rng, MathF.Sqrt(2f / (C1 * 9)));
        Fill(W3, rng, MathF.Sqrt(1f / Flat));
        _params = [W1, B1, W2, B2, W3, B3];
        _grads = _params.Select(p => new float[p.Length]).ToArray();
        _velocity = _params.Select(p => new float[p.Length]).ToArray();
    }

    private static void Fill(float[] w, Random rng, float std)
    {
        for (int i = 0; i < w.Length; i++)
        {
            double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
            w[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2)) * std;
        }
    }

    /// <summary>Forward pass on one 28x28 image; returns the logits (an internal buffer).</summary>
    public float[] Forward(float[] x)
    {
        Conv(x, 1, Side, W1, B1, C1, _a1);
        Pool(_a1, C1, Side, _p1, _i1);
        Conv(_p1, C1, Half, W2, B2, C2, _a2);
        Pool(_a2, C2, Half, _p2, _i2);
        for (int k = 0; k < Classes; k++)
        {
            float s = B3[k];
            for (int i = 0; i < Flat; i++) s += W3[k * Flat + i] * _p2[i];
            _logits[k] = s;
        }
        return _logits;
    }

    /// <summary>Conv 3x3, pad 1, stride 1, then Relu (kept pre-activation in <paramref name="y"/>; pooling reads max(0, ·)).</summary>
    private static void Conv(float[] x, int cin, int side, float[] w, float[] b, int cout, float[] y)
    {
        for (int o = 0; o < cout; o++)
        {
            for (int r = 0; r < side; r++)
            {
                for (int c = 0; c < side; c++)
                {
                    float s = b[o];
                    for (int i = 0; i < cin; i++)
                    {
                        for (int ky = 0; ky < 3; ky++)
                        {
                            int iy = r + ky - 1;
                            if ((uint)iy >= (uint)side) continue;
                            for (int kx = 0; kx < 3; kx++)
                            {
                                int ix = c + kx - 1;
                                if ((uint)ix >= (uint)side) continue;
                                s += w[((o * cin + i) * 3 + ky) * 3 + kx] * x[(i * side + iy) * side + ix];
                            }
                        }
                    }
                    y[(o * side + r) * side + c] = s;
                }
            }
        }
    }

    /// <summary>Relu then 2x2 max pooling; records the winning index for the backward pass.</summary>
    private static void Pool(float[] a, int channels, int side, float[] p, int[] index)
    {
        int half = side / 2;
        for (int ch = 0; ch < channels; ch++)
        {
            for (int r = 0; r < half; r++)
            {
                for (int c = 0; c < half; c++)
                {
                    int best = -1;
                    float max = 0f; // Relu: the pool of non-negative values is at least 0
                    for (int dy = 0; dy < 2; dy++)
                    {
                        for (int dx = 0; dx < 2; dx++)
                        {
                            int i = (ch * side + 2 * r + dy) * side + 2 * c + dx;
                            if (a[i] > max) { max = a[i]; best = i; }
                        }
                    }
                    p[(ch * half + r) * half + c] = max;
                    index[(ch * half + r) * half + c] = best;
                }
            }
        }
    }

    /// <summary>One SGD step over a mini-batch.</summary>
    public void TrainBatch(IReadOnlyList<float[]> xs, IReadOnlyList<int> labels, float learningRate, float momentum)
    {
        foreach (var g in _grads) Array.Clear(g);
        var dp2 = new float[Flat];
        var da2 = new float[C2 * Half * Half];
        var dp1 = new float[C1 * Half * Half];
        var da1 = new float[C1 * Side * Side];
        for (int n = 0; n < xs.Count; n++)
        {
            var x = xs[n];
            var z = Forward(x);
            float max = z.Max(), sum = 0;
            var prob = new float[Classes];
            for (int k = 0; k < Classes; k++) sum += prob[k] = MathF.Exp(z[k] - max);
            Array.Clear(dp2);
            for (int k = 0; k < Classes; k++)
            {
                float d = prob[k] / sum - (k == labels[n] ? 1f : 0f);
                _grads[5][k] += d;
                for (int i = 0; i < Flat; i++)
                {
                    _grads[4][k * Flat + i] += d * _p2[i];
                    dp2[i] += d * W3[k * Flat + i];
                }
            }
            Array.Clear(da2);
            for (int i = 0; i < Flat; i++) if (_i2[i] >= 0) da2[_i2[i]] = dp2[i];
            Array.Clear(dp1);
            ConvBackward(_p1, C1, Half, W2, C2, da2, _grads[2], _grads[3], dp1);
            Array.Clear(da1);
            for (int i = 0; i < dp1.Length; i++) if (_i1[i] >= 0) da1[_i1[i]] = dp1[i];
            ConvBackward(x, 1, Side, W1, C1, da1, _grads[0], _grads[1], null);
        }
        float scale = learningRate / xs.Count;
        for (int p = 0; p < _params.Length; p++)
        {
            var w = _params[p];
            for (int i = 0; i < w.Length; i++)
            {
                _velocity[p][i] = momentum * _velocity[p][i] - scale * _grads[p][i];
                w[i] += _velocity[p][i];
            }
        }
    }

    private static void ConvBackward(float[] x, int cin, int side, float[] w, int cout, float[] dy, float[] dw, float[] db, float[]? dx)
    {
        for (int o = 0; o < cout; o++)
        {
            for (int r = 0; r < side; r++)
            {
                for (int c = 0; c < side; c++)
                {
                    float d = dy[(o * side + r) * side + c];
                    if (d == 0) continue;
                    db[o] += d;
                    for (int i = 0; i < cin; i++)
                    {
                        for (int ky = 0; ky < 3; ky++)
                        {
                            int iy = r + ky - 1;
                            if ((uint)iy >= (uint)side) continue;
                            for (int kx = 0; kx < 3; kx++)
                            {
                                int ix = c + kx - 1;
                                if ((uint)ix >= (uint)side) continue;
                                int wi = ((o * cin + i) * 3 + ky) * 3 + kx, xi = (i * side + iy) * side + ix;
                                dw[wi] += d * x[xi];
                                if (dx is not null) dx[xi] += d * w[wi];
                            }
                        }
                    }
                }
            }
        }
    }
}
