namespace ModelGen.Optimizer;

/// <summary>The <c>Fallback</c> metadata: what happens to a model with ops ModelGen cannot compile.</summary>
public enum FallbackMode
{
    /// <summary>Build anyway: the typed predictor runs the model through ONNX Runtime (warning MG1017).</summary>
    OnnxRuntime,

    /// <summary>Fail the build with MG1004, naming each op and node.</summary>
    Error,
}
