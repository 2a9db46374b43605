using ModelGen.Optimizer.Pruning;

namespace ModelGen.Optimizer.Recovery;

/// <summary>
/// Least-squares statistics of one changed layer on calibration data, and the two recoveries
/// built on them. With x̃ = [x, 1] the changed layer's input rows (in the model as changed so far)
/// and y the original layer's outputs on the original inputs (before any activation), it keeps
/// H = Σ x̃x̃ᵀ, G = Σ x̃yᵀ and Σy². Then:
/// <list type="bullet">
/// <item><b>Reconstruct</b> (in the style of OBS/SparseGPT, without gradients): for every output
/// unit, the weights left by pruning (its support) and the bias are re-solved so that
/// ‖x̃_S·w − y‖² is least, i.e. (H_SS + λI)·w = G_S; units with the same support share one
/// Cholesky factorization.</item>
/// <item><b>BiasCorrection</b>: each bias moves by the mean output shift, mean(y) − mean(x·w + b).</item>
/// </list>
/// The error ‖x̃·w − y‖² is known in closed form from the same statistics, so the report can say
/// how much each recovery gained.
/// </summary>
internal sealed class LayerRecovery
{
    private readonly int _features, _outputs;
    private readonly double[,] _h;
    private readonly double[,] _g;
    private readonly double[] _yy;

    public LayerRecovery(int features, int outputs)
    {
        _features = features;
        _outputs = outputs;
        _h = new double[features + 1, features + 1];
        _g = new double[features + 1, outputs];
        _yy = new double[outputs];
    }

    /// <summary>Rows seen so far.</summary>
    public long Rows { get; private set; }

    /// <summary>Adds one row: the changed layer's input <paramref name="x"/> and the original output <paramref name="y"/>.</summary>
    public void Add(double[] x, double[] y)
    {
        int f = _features;
        for (int i = 0; i < f; i++)
        {
            double xi = x[i];
            if (xi == 0) continue; // Relu outputs are often zero: skip their row of the outer product.
            for (int j = 0; j <= i; j++) _h[i, j] += xi * x[j];
            _h[f, i] += xi;
            for (int o = 0; o < _outputs; o++) _g[i, o] += xi * y[o];
        }
        _h[f, f] += 1;
        for (int o = 0; o < _outputs; o++)
        {
            _g[f, o] += y[o];
            _yy[o] += y[o] * y[o];
        }
        Rows++;
    }

    /// <summary>Σ‖x̃·w̃ − y‖² over the rows, for weights [outputs, features] and bias; and Σ‖y‖² (the scale).</summary>
    public (double Error, double Scale) Error(float[] weights, float[] bias)
    {
        Symmetrize();
        double error = 0, scale = _yy.Sum();
        var w = new double[_features + 1];
        for (int o = 0; o < _outputs; o++)
        {
            for (int i = 0; i < _features; i++) w[i] = weights[(long)o * _features + i];
            w[_features] = bias[o];
            double quad = 0, lin = 0;
            for (int i = 0; i <= _features; i++)
            {
                if (w[i] == 0) continue;
                double hi = 0;
                for (int j = 0; j <= _features; j++) hi += _h[i, j] * w[j];
                quad += w[i] * hi;
                lin += w[i] * _g[i, o];
            }
            error += quad - 2 * lin + _yy[o];
        }
        return (Math.Max(0, error), scale);
    }

    /// <summary>Re-solves the weights on each unit's support (<paramref name="mask"/>: null = all) and the bias; in place.</summary>
    /// <returns>False when a system could not be solved (the weights are then unchanged).</returns>
    public bool Reconstruct(float[] weights, float[] bias, bool[]? mask)
    {
        Symmetrize();
        int f = _features;
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int o = 0; o < _outputs; o++)
        {
            string key = mask is null ? "" : Key(mask, o, f);
            if (!groups.TryGetValue(key, out var list)) groups[key] = list = new List<int>();
            list.Add(o);
        }
        var solved = new Dictionary<int, (int[] Support, double[] X)>();
        foreach (var units in groups.Values)
        {
            int first = units[0];
            var support = Enumerable.Range(0, f).Where(i => mask is null || mask[(long)first * f + i]).ToList();
            support.Add(f);
            var rhs = units.Select(o => Enumerable.Range(0, f + 1).Select(i => _g[i, o]).ToArray()).ToList();
            var x = LeastSquares.Solve(_h, support, rhs);
            if (x is null) return false;
            for (int u = 0; u < units.Count; u++) solved[units[u]] = (support.ToArray(), x[u]);
        }
        foreach (var (o, (support, x)) in solved)
        {
            Array.Clear(weights, o * f, f);
            for (int s = 0; s < support.Length - 1; s++) weights[(long)o * f + support[s]] = (float)x[s];
            bias[o] = (float)x[^1];
        }
        return true;
    }

    /// <summary>Moves each bias by the mean output shift; in place.</summary>
    public void CorrectBias(float[] weights, float[] bias)
    {
        if (Rows == 0) return;
        int f = _features;
        for (int o = 0; o < _outputs; o++)
        {
            double meanNew = bias[o];
            for (int i = 0; i < f; i++) meanNew += weights[(long)o * f + i] * _h[f, i] / Rows;
            double meanOld = _g[f, o] / Rows;
            bias[o] = (float)(bias[o] + meanOld - meanNew);
        }
    }

    private bool _symmetric;

    private void Symmetrize()
    {
        if (_symmetric) return;
        int n = _features + 1;
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) _h[i, j] = _h[j, i];
        _symmetric = true;
    }

    private static string Key(bool[] mask, int o, int f)
    {
        var chars = new char[f];
        for (int i = 0; i < f; i++) chars[i] = mask[(long)o * f + i] ? '1' : '0';
        return new string(chars);
    }
}
