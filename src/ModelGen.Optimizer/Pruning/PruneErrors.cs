namespace ModelGen.Optimizer.Pruning;

/// <summary>The MG104x codes of pruning, factorization and recovery, raised as <see cref="ModelGen.Onnx.OnnxException"/>.</summary>
public static class PruneErrors
{
    /// <summary>Error: an unknown <c>Prune</c> value (or a bad N:M pattern).</summary>
    public const string BadPrune = "MG1040";

    /// <summary>Error: <c>Sparsity</c> is not a number in [0, 1).</summary>
    public const string BadSparsity = "MG1041";

    /// <summary>Error: an unknown <c>PruneScope</c>.</summary>
    public const string BadScope = "MG1042";

    /// <summary>Error: a bad <c>LowRank</c> value.</summary>
    public const string BadLowRank = "MG1043";

    /// <summary>Error: an unknown <c>Recover</c> value.</summary>
    public const string BadRecover = "MG1044";

    /// <summary>Error: <c>Recover</c> asks for calibration data that was not given.</summary>
    public const string RecoverWithoutData = "MG1045";
}
