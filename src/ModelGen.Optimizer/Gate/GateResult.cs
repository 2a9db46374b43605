using ModelGen.Optimizer.Evaluation;

namespace ModelGen.Optimizer.Gate;

/// <summary>The accuracy gate's verdict on a lossy model that passed.</summary>
/// <param name="Initial">The score with every layer quantized.</param>
/// <param name="Final">The score of the model that ships (after the fallback).</param>
/// <param name="Budget">MaxAccuracyDrop as an absolute drop.</param>
/// <param name="Reverted">Layers returned to fp32 by the fallback, in the order they were returned.</param>
/// <param name="Sensitivity">For each layer (when the fallback ranked them): the output MSE left when only that layer is returned to fp32; the smaller, the more harmful the layer.</param>
public sealed record GateResult(EvaluationResult Initial, EvaluationResult Final, double Budget, IReadOnlyList<string> Reverted,
    IReadOnlyList<(string Layer, double RemainingMse)> Sensitivity);
