using ModelGen.Onnx.Ir;

namespace ModelGen.Optimizer.Passes;

/// <summary>
/// The attributes by which a Conv, Gemm or MatMul step carries a fused activation (applied in
/// the kernel's epilogue while the output tile is still in registers), and the names of the
/// activations that can be fused.
/// </summary>
internal static class FusedActivation
{
    public const string Activation = "activation";
    public const string Alpha = "activation_alpha";
    public const string Min = "activation_min";
    public const string Max = "activation_max";

    /// <summary>Ops whose kernels have a fused-activation epilogue.</summary>
    public static readonly HashSet<string> Hosts = new(StringComparer.Ordinal) { "Conv", "Gemm", "MatMul" };

    /// <summary>Activations the epilogue implements.</summary>
    public static readonly HashSet<string> Fusable = new(StringComparer.Ordinal) { "Relu", "LeakyRelu", "Sigmoid", "Clip", "Tanh" };

    public static bool HasActivation(OnnxNode node) => node.Attr(Activation) is not null;

    /// <summary>
    /// The attribute that marks a Conv with a fused residual Add; its value is the input that holds the residual
    /// (the runtime's <c>ConvResidual</c>).
    /// </summary>
    public const string Residual = "residual";

    /// <summary>
    /// Where the fusion puts the residual: after X, W, B and the slot that int8/fp16 weights use for their scales
    /// (empty here: residuals are fused only when the weights stay fp32).
    /// </summary>
    public const int ResidualInput = 4;

    /// <summary>True for a Conv that carries a fused residual Add.</summary>
    public static bool HasResidual(OnnxNode node) => node.Attr(Residual) is not null;

    /// <summary>The fused attributes on a node, for removal when writing standard ONNX.</summary>
    public static readonly string[] AttributeNames = { Activation, Alpha, Min, Max, Residual };
}
