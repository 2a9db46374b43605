namespace ModelGen.Optimizer;

/// <summary>A warning the optimizer reports without failing (MG1xxx code, file, message).</summary>
public sealed record Diagnostic(string Code, string File, string Message);
