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

    /// <summary>The fused attributes on a node, for removal when writing standard ONNX.</summary>
    public static readonly string[] AttributeNames = { Activation, Alpha, Min, Max };
}
