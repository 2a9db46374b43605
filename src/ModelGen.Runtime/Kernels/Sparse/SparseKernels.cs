namespace ModelGen.Runtime.Kernels.Sparse;

/// <summary>
/// Kernels for Conv, Gemm and MatMul steps whose weight the optimizer stored compressed
/// (attribute <c>sparse</c>). The step keeps its op and attributes; its inputs become
/// <c>[X, values, bias or -1, -1, indices, row pointers]</c> and <c>sparse_shape</c> gives the
/// dense weight as [output units, input features] (Gemm's alpha and beta already applied):
/// <list type="bullet">
/// <item><c>csr</c>: compressed sparse rows, one row per output unit; <c>values</c> float [nnz],
/// <c>indices</c> uint16 column numbers [nnz], row pointers int32 [units + 1].</item>
/// <item><c>nm</c>: at most N non-zeros (<c>sparse_n</c>) in each group of M (<c>sparse_m</c>)
/// consecutive input features; <c>values</c> float [units, groups·N] and <c>indices</c> uint8
/// [units, groups·N], each the position inside its group.</item>
/// </list>
/// A Conv's input features are (channel, kernel taps) in the weight's order; its kernel shape is
/// <c>sparse_inner</c> = [C, k…].
/// </summary>
internal static class SparseKernels
{
    /// <summary>The attribute that selects these kernels.</summary>
    public const string Attribute = "sparse";

    public static Kernel Create(BindContext c)
    {
        string format = c.Step.GetString(Attribute, "");
        return (c.Step.Op, format) switch
        {
            ("Gemm" or "MatMul", "csr") => new CsrGemmKernel(c),
            ("Gemm" or "MatMul", "nm") => new NmGemmKernel(c),
            ("Conv", "csr") => new CsrConvKernel(c),
            _ => throw c.Fail($"sparse format '{format}' is not supported for {c.Step.Op} (supported: csr and nm for Gemm/MatMul, csr for Conv)"),
        };
    }

    /// <summary>[units, features] from <c>sparse_shape</c>.</summary>
    public static (int Units, int Features) Shape(BindContext c)
    {
        var shape = c.Step.GetInts("sparse_shape");
        if (shape is null || shape.Length != 2 || shape[0] < 1 || shape[1] < 1) throw c.Fail("sparse_shape must be [units, features]");
        return ((int)shape[0], (int)shape[1]);
    }

    /// <summary>The bias (input 2, float [units]) scaled by beta, copied to scratch once; null when absent.</summary>
    public static unsafe float* Bias(BindContext c, int units)
    {
        if (!c.HasInput(2)) return null;
        var slot = c.Input(2);
        if (slot.ElementCount != units) throw c.Fail($"bias '{slot.Name}' has {slot.ElementCount} values for {units} units");
        float beta = c.Step.Op == "Gemm" ? c.Step.GetFloat("beta", 1f) : 1f;
        float* source = c.FloatInput(2);
        float* bias = (float*)c.Scratch(units * 4L);
        for (int i = 0; i < units; i++) bias[i] = beta * source[i];
        return bias;
    }

    /// <summary>Checks a compressed-weight input's type and element count.</summary>
    public static void Require(BindContext c, int input, ElementType type, long count, string what)
    {
        var slot = c.Input(input);
        if (slot.Type != type || slot.ElementCount != count)
        {
            throw c.Fail($"{what} '{slot.Name}' must be {type.ToOnnxName()} with {count} values, not {slot.Type.ToOnnxName()}{BindContext.ShapeText(slot.Shape)}");
        }
        if (slot.Storage != SlotStorage.Weights) throw c.Fail($"{what} '{slot.Name}' must be a constant weight");
    }
}
