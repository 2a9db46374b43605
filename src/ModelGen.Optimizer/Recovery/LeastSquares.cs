namespace ModelGen.Optimizer.Recovery;

/// <summary>
/// Solves the damped normal equations <c>(H + λ·I)·x = b</c> for a symmetric positive
/// semi-definite Gram matrix H by Cholesky factorization, in double. The damping λ (a small
/// fraction of H's mean diagonal, as SparseGPT uses) keeps the solve stable when calibration
/// activations are collinear or a feature is always zero (a dead Relu).
/// </summary>
internal static class LeastSquares
{
    /// <summary>Relative damping: λ = <see cref="Damping"/> · mean(diag H).</summary>
    public const double Damping = 1e-2;

    /// <summary>
    /// Solves, for the index set <paramref name="support"/> of H's rows, one system per right-hand
    /// side column in <paramref name="rhs"/> (each a vector over all of H's rows; only the support is read).
    /// </summary>
    /// <returns>The solutions, one per right-hand side, each of the support's length; null when the factorization fails.</returns>
    public static double[][]? Solve(double[,] h, IReadOnlyList<int> support, IReadOnlyList<double[]> rhs)
    {
        int n = support.Count;
        var l = new double[n, n];
        double mean = 0;
        for (int i = 0; i < n; i++) mean += h[support[i], support[i]];
        mean = n == 0 ? 0 : mean / n;
        double lambda = Damping * (mean > 0 ? mean : 1);
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j <= i; j++) l[i, j] = h[support[i], support[j]];
            l[i, i] += lambda;
        }
        if (!Cholesky(l, n)) return null;
        var result = new double[rhs.Count][];
        for (int r = 0; r < rhs.Count; r++)
        {
            var x = new double[n];
            for (int i = 0; i < n; i++) x[i] = rhs[r][support[i]];
            SolveInPlace(l, n, x);
            result[r] = x;
        }
        return result;
    }

    /// <summary>In-place lower Cholesky factor of the lower triangle of <paramref name="a"/>; false when not positive definite.</summary>
    private static bool Cholesky(double[,] a, int n)
    {
        for (int j = 0; j < n; j++)
        {
            double d = a[j, j];
            for (int k = 0; k < j; k++) d -= a[j, k] * a[j, k];
            if (!(d > 0)) return false;
            d = Math.Sqrt(d);
            a[j, j] = d;
            for (int i = j + 1; i < n; i++)
            {
                double s = a[i, j];
                for (int k = 0; k < j; k++) s -= a[i, k] * a[j, k];
                a[i, j] = s / d;
            }
        }
        return true;
    }

    private static void SolveInPlace(double[,] l, int n, double[] x)
    {
        for (int i = 0; i < n; i++)
        {
            double s = x[i];
            for (int k = 0; k < i; k++) s -= l[i, k] * x[k];
            x[i] = s / l[i, i];
        }
        for (int i = n - 1; i >= 0; i--)
        {
            double s = x[i];
            for (int k = i + 1; k < n; k++) s -= l[k, i] * x[k];
            x[i] = s / l[i, i];
        }
    }
}
