namespace ModelGen.Optimizer.LowRank;

/// <summary>
/// A thin singular value decomposition <c>A = U·diag(S)·Vᵀ</c> in double precision by one-sided
/// Jacobi (Hestenes) rotations: the columns of a working copy are rotated pairwise until all are
/// mutually orthogonal, at which point their norms are the singular values. It is slower than
/// bidiagonalization but simple, and accurate to working precision even for small singular values,
/// which is what a truncation threshold needs. Layer weights are at most a few thousand wide, so
/// the O(n²·m) sweeps cost milliseconds to seconds at build time.
/// </summary>
public sealed class TruncatedSvd
{
    private TruncatedSvd(double[,] u, double[] s, double[,] v)
    {
        U = u;
        S = s;
        V = v;
    }

    /// <summary>Left singular vectors, m × k (k = min(m, n)), columns in the order of <see cref="S"/>.</summary>
    public double[,] U { get; }

    /// <summary>Singular values, descending.</summary>
    public double[] S { get; }

    /// <summary>Right singular vectors, n × k.</summary>
    public double[,] V { get; }

    /// <summary>Decomposes the row-major m × n matrix <paramref name="a"/>.</summary>
    public static TruncatedSvd Compute(double[,] a)
    {
        int m = a.GetLength(0), n = a.GetLength(1);
        if (m >= n) return Tall(a, m, n);
        // Work on Aᵀ (tall), whose U and V are A's V and U.
        var t = new double[n, m];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) t[j, i] = a[i, j];
        var svd = Tall(t, n, m);
        return new TruncatedSvd(svd.V, svd.S, svd.U);
    }

    /// <summary>The smallest rank whose singular values hold at least <paramref name="fraction"/> of the energy Σσ².</summary>
    public int RankForEnergy(double fraction)
    {
        double total = S.Sum(s => s * s), sum = 0;
        if (total == 0) return 1;
        for (int r = 0; r < S.Length; r++)
        {
            sum += S[r] * S[r];
            if (sum >= fraction * total * (1 - 1e-12)) return r + 1;
        }
        return S.Length;
    }

    // A is m × n with m ≥ n: rotate its n columns (stored as rows of `cols` for locality).
    private static TruncatedSvd Tall(double[,] a, int m, int n)
    {
        var cols = new double[n][];
        for (int j = 0; j < n; j++)
        {
            cols[j] = new double[m];
            for (int i = 0; i < m; i++) cols[j][i] = a[i, j];
        }
        var v = new double[n][];
        for (int j = 0; j < n; j++)
        {
            v[j] = new double[n];
            v[j][j] = 1;
        }
        const double eps = 1e-15;
        for (int sweep = 0; sweep < 60; sweep++)
        {
            bool rotated = false;
            for (int p = 0; p < n - 1; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    double alpha = Dot(cols[p], cols[p]), beta = Dot(cols[q], cols[q]), gamma = Dot(cols[p], cols[q]);
                    if (gamma == 0 || Math.Abs(gamma) <= eps * Math.Sqrt(alpha * beta)) continue;
                    rotated = true;
                    // The rotation that zeroes the (p, q) entry of AᵀA (Golub & Van Loan §8.6.3).
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.Sign(zeta == 0 ? 1 : zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
                    double c = 1 / Math.Sqrt(1 + t * t), s = c * t;
                    Rotate(cols[p], cols[q], c, s);
                    Rotate(v[p], v[q], c, s);
                }
            }
            if (!rotated) break;
        }
        var norms = cols.Select(col => Math.Sqrt(Dot(col, col))).ToArray();
        var order = Enumerable.Range(0, n).OrderByDescending(j => norms[j]).ToArray();
        var u = new double[m, n];
        var vOut = new double[n, n];
        var sOut = new double[n];
        for (int k = 0; k < n; k++)
        {
            int j = order[k];
            sOut[k] = norms[j];
            for (int i = 0; i < m; i++) u[i, k] = norms[j] > 0 ? cols[j][i] / norms[j] : 0;
            for (int i = 0; i < n; i++) vOut[i, k] = v[j][i];
        }
        return new TruncatedSvd(u, sOut, vOut);
    }

    private static double Dot(double[] x, double[] y)
    {
        double s = 0;
        for (int i = 0; i < x.Length; i++) s += x[i] * y[i];
        return s;
    }

    private static void Rotate(double[] x, double[] y, double c, double s)
    {
        for (int i = 0; i < x.Length; i++)
        {
            double xi = x[i], yi = y[i];
            x[i] = c * xi - s * yi;
            y[i] = s * xi + c * yi;
        }
    }
}
