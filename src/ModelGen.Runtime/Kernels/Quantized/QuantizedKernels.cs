namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>Binds the int8-compute kernel of a step that has the <c>quant</c> attribute.</summary>
internal static class QuantizedKernels
{
    public static Kernel Create(BindContext context) => context.Step.Op switch
    {
        "Gemm" or "MatMul" => new QuantizedGemmKernel(context),
        "Conv" => new QuantizedConvKernel(context),
        _ => throw context.Fail("attribute quant (int8 compute) is only supported on Conv, Gemm and MatMul"),
    };
}
