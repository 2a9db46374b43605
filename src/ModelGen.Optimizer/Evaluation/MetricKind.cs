namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// How a candidate model's outputs are scored. Every metric looks at the FIRST graph output of
/// each sample (the usual logits/probabilities output); metrics for other outputs can come later.
/// </summary>
public enum MetricKind
{
    /// <summary>Top-1 accuracy against the labels (argmax over the output's last axis); higher is better, in [0,1].</summary>
    Top1,

    /// <summary>Fraction of samples whose argmax equals the reference's argmax; higher is better, in [0,1].</summary>
    Agreement,

    /// <summary>Mean cosine similarity of the candidate and reference output vectors; higher is better, in [-1,1].</summary>
    Cosine,

    /// <summary>Largest |candidate − reference| over all samples and elements; lower is better.</summary>
    MaxAbsError,

    /// <summary>Mean squared error against the reference over all samples and elements; lower is better.</summary>
    Mse,
}
