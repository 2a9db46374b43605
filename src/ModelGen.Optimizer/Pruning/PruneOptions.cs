using System.Globalization;
using ModelGen.Onnx;

namespace ModelGen.Optimizer.Pruning;

/// <summary>What <c>Prune</c> removes.</summary>
public enum PruneMethod
{
    /// <summary>Nothing.</summary>
    None,

    /// <summary>Single weights of smallest magnitude (unstructured).</summary>
    Magnitude,

    /// <summary>Whole Gemm/MatMul output units, with the matching rows of their consumers.</summary>
    Neurons,

    /// <summary>Whole Conv output channels, with the matching input channels of their consumers.</summary>
    Filters,

    /// <summary>At most N non-zeros in every group of M consecutive weights along the input axis.</summary>
    NM,
}

/// <summary>How <c>Sparsity</c> is met: per layer or with one threshold across layers.</summary>
public enum PruneScope
{
    /// <summary>Each layer to the target.</summary>
    Layer,

    /// <summary>One threshold across all layers.</summary>
    Global,
}

/// <summary>The accuracy recovery applied after pruning or factorization (no training).</summary>
public enum RecoverMode
{
    /// <summary>None.</summary>
    None,

    /// <summary>Shift each bias by the mean output change on calibration data.</summary>
    BiasCorrection,

    /// <summary>Layer-wise least squares of the remaining weights against the original outputs.</summary>
    Reconstruct,
}

/// <summary>
/// The pruning, low-rank and recovery settings (the <c>Prune</c>, <c>Sparsity</c>,
/// <c>PruneScope</c>, <c>LowRank</c> and <c>Recover</c> metadata; CLI <c>--prune</c>,
/// <c>--sparsity</c>, <c>--prune-scope</c>, <c>--low-rank</c>, <c>--recover</c>), parsed once
/// with MG104x errors for bad values.
/// </summary>
public sealed record PruneOptions
{
    /// <summary>No pruning and no factorization.</summary>
    public static readonly PruneOptions None = new();

    /// <summary>What is pruned.</summary>
    public PruneMethod Method { get; init; } = PruneMethod.None;

    /// <summary>N of an N:M pattern.</summary>
    public int N { get; init; }

    /// <summary>M of an N:M pattern.</summary>
    public int M { get; init; }

    /// <summary>The fraction of weights (units, for Neurons and Filters) removed, in [0, 1).</summary>
    public double Sparsity { get; init; } = 0.5;

    /// <summary>Per layer or global.</summary>
    public PruneScope Scope { get; init; } = PruneScope.Layer;

    /// <summary>Low rank: the fraction of the full rank kept (null: by energy, or none).</summary>
    public double? RankFraction { get; init; }

    /// <summary>Low rank: the fraction of the singular values' energy kept (null: by fraction, or none).</summary>
    public double? Energy { get; init; }

    /// <summary>The recovery asked for; null: Reconstruct when calibration data is present, else None.</summary>
    public RecoverMode? Recover { get; init; }

    /// <summary>True when Gemm/MatMul weights are factorized.</summary>
    public bool LowRank => RankFraction is not null || Energy is not null;

    /// <summary>True when anything lossy is asked for.</summary>
    public bool IsActive => Method != PruneMethod.None || LowRank;

    /// <summary>The Prune value as written back (for the report).</summary>
    public string MethodText => Method == PruneMethod.NM ? $"{N}:{M}" : Method.ToString();

    /// <summary>The LowRank value as written back.</summary>
    public string LowRankText => RankFraction is { } f ? f.ToString("G", CultureInfo.InvariantCulture)
        : Energy is { } e ? "Energy:" + e.ToString("G", CultureInfo.InvariantCulture) : "None";

    /// <summary>Parses the metadata values (null or empty: the default).</summary>
    /// <exception cref="OnnxException">MG1040–MG1044 for a bad value.</exception>
    public static PruneOptions Parse(string? prune, string? sparsity, string? scope, string? lowRank, string? recover, string? file = null)
    {
        var o = new PruneOptions();
        prune = Empty(prune) ? "None" : prune!.Trim();
        if (prune.Contains(':'))
        {
            var parts = prune.Split(':');
            if (parts.Length != 2 || !int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int n)
                || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int m) || n < 1 || m < 2 || n >= m || m > 64)
            {
                throw new OnnxException(PruneErrors.BadPrune, $"Prune=\"{prune}\" is not a valid N:M pattern; give N < M, e.g. \"2:4\" (at most 2 non-zeros in every 4 weights)", file);
            }
            o = o with { Method = PruneMethod.NM, N = n, M = m };
        }
        else if (Enum.TryParse<PruneMethod>(prune, ignoreCase: true, out var method) && method != PruneMethod.NM && !int.TryParse(prune, out _))
        {
            o = o with { Method = method };
        }
        else
        {
            throw new OnnxException(PruneErrors.BadPrune, $"Prune=\"{prune}\" is not known; use None, Magnitude, Neurons, Filters or an N:M pattern such as 2:4", file);
        }
        if (!Empty(sparsity))
        {
            if (!double.TryParse(sparsity, NumberStyles.Float, CultureInfo.InvariantCulture, out double s) || !(s >= 0 && s < 1))
            {
                throw new OnnxException(PruneErrors.BadSparsity, $"Sparsity=\"{sparsity}\" must be a fraction in [0, 1), e.g. 0.5 to remove half the weights", file);
            }
            o = o with { Sparsity = s };
        }
        if (!Empty(scope))
        {
            if (!Enum.TryParse<PruneScope>(scope, ignoreCase: true, out var sc) || int.TryParse(scope, out _))
            {
                throw new OnnxException(PruneErrors.BadScope, $"PruneScope=\"{scope}\" is not known; use Layer (each layer to the target) or Global (one threshold across layers)", file);
            }
            o = o with { Scope = sc };
        }
        if (!Empty(lowRank) && !string.Equals(lowRank!.Trim(), "None", StringComparison.OrdinalIgnoreCase))
        {
            string text = lowRank.Trim();
            bool energy = text.StartsWith("Energy:", StringComparison.OrdinalIgnoreCase);
            string number = energy ? text["Energy:".Length..] : text;
            if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double f) || !(f > 0 && f <= 1) || (!energy && f == 1))
            {
                throw new OnnxException(PruneErrors.BadLowRank,
                    $"LowRank=\"{lowRank}\" is not valid; give None, a fraction of the full rank to keep in (0, 1) such as 0.25, or Energy:0.99 to keep the singular values holding 99% of the energy", file);
            }
            o = energy ? o with { Energy = f } : o with { RankFraction = f };
        }
        if (!Empty(recover))
        {
            if (!Enum.TryParse<RecoverMode>(recover, ignoreCase: true, out var r) || int.TryParse(recover, out _))
            {
                throw new OnnxException(PruneErrors.BadRecover, $"Recover=\"{recover}\" is not known; use None, BiasCorrection or Reconstruct", file);
            }
            o = o with { Recover = r };
        }
        return o;
    }

    private static bool Empty(string? s) => string.IsNullOrWhiteSpace(s);
}
