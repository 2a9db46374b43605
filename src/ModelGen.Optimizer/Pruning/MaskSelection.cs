namespace ModelGen.Optimizer.Pruning;

/// <summary>
/// Chooses what to keep: weights by magnitude (per layer, or with one global threshold), N:M
/// patterns along the input axis, and whole units by the L2 norm of their weights. Ties are
/// broken by index, so the counts are exact and the choice is deterministic.
/// </summary>
internal static class MaskSelection
{
    /// <summary>Keeps the largest-magnitude <c>(1 − sparsity)</c> of <paramref name="w"/>.</summary>
    public static bool[] Magnitude(float[] w, double sparsity)
    {
        int remove = (int)Math.Floor(sparsity * w.Length);
        var order = Enumerable.Range(0, w.Length).OrderBy(i => Math.Abs(w[i])).ThenBy(i => i).ToArray();
        var keep = new bool[w.Length];
        for (int r = remove; r < order.Length; r++) keep[order[r]] = true;
        return keep;
    }

    /// <summary>One magnitude threshold across all layers: the smallest <c>sparsity</c> of all weights go, wherever they are.</summary>
    public static bool[][] GlobalMagnitude(IReadOnlyList<float[]> layers, double sparsity)
    {
        var all = layers.SelectMany((w, l) => w.Select((v, i) => (Abs: Math.Abs(v), Layer: l, Index: i)))
            .OrderBy(p => p.Abs).ThenBy(p => p.Layer).ThenBy(p => p.Index).ToArray();
        int remove = (int)Math.Floor(sparsity * all.Length);
        var masks = layers.Select(w => new bool[w.Length]).ToArray();
        for (int r = remove; r < all.Length; r++) masks[all[r].Layer][all[r].Index] = true;
        return masks;
    }

    /// <summary>
    /// In every row of a [rows, columns] matrix, in every group of <paramref name="m"/> consecutive
    /// columns (the last group may be shorter), keeps the <paramref name="n"/> largest magnitudes.
    /// </summary>
    public static bool[] NOfM(float[] w, int rows, int columns, int n, int m)
    {
        var keep = new bool[w.Length];
        for (int r = 0; r < rows; r++)
        {
            for (int g = 0; g < columns; g += m)
            {
                int size = Math.Min(m, columns - g);
                var best = Enumerable.Range(g, size).OrderByDescending(c => Math.Abs(w[r * columns + c])).ThenBy(c => c).Take(n);
                foreach (int c in best) keep[r * columns + c] = true;
            }
        }
        return keep;
    }

    /// <summary>The L2 norm of each row of a [rows, columns] matrix.</summary>
    public static double[] RowNorms(float[] w, int rows, int columns)
    {
        var norms = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double s = 0;
            for (int c = 0; c < columns; c++) s += (double)w[r * columns + c] * w[r * columns + c];
            norms[r] = Math.Sqrt(s);
        }
        return norms;
    }

    /// <summary>The units kept (ascending) when the <c>sparsity</c> fraction of lowest-scoring units goes; at least one stays.</summary>
    public static int[] Units(double[] scores, double sparsity)
    {
        int remove = Math.Min((int)Math.Floor(sparsity * scores.Length), scores.Length - 1);
        return Enumerable.Range(0, scores.Length).OrderBy(i => scores[i]).ThenBy(i => i).Skip(remove).Order().ToArray();
    }

    /// <summary>
    /// Global unit selection: scores are made comparable across layers by dividing each layer's by
    /// its mean, then the lowest <c>sparsity</c> of all units go; each layer keeps at least one.
    /// </summary>
    public static int[][] GlobalUnits(IReadOnlyList<double[]> scores, double sparsity)
    {
        var normalized = scores.Select(s =>
        {
            double mean = s.Length == 0 ? 1 : s.Average();
            return s.Select(v => mean > 0 ? v / mean : v).ToArray();
        }).ToArray();
        var all = normalized.SelectMany((s, l) => s.Select((v, i) => (Score: v, Layer: l, Index: i)))
            .OrderBy(p => p.Score).ThenBy(p => p.Layer).ThenBy(p => p.Index).ToArray();
        int remove = (int)Math.Floor(sparsity * all.Length);
        var removed = scores.Select(s => new bool[s.Length]).ToArray();
        var left = scores.Select(s => s.Length).ToArray();
        for (int r = 0, done = 0; r < all.Length && done < remove; r++)
        {
            var p = all[r];
            if (left[p.Layer] <= 1) continue;
            removed[p.Layer][p.Index] = true;
            left[p.Layer]--;
            done++;
        }
        return removed.Select(rm => Enumerable.Range(0, rm.Length).Where(i => !rm[i]).ToArray()).ToArray();
    }
}
