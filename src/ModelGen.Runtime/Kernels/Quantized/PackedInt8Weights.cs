namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// An int8 weight matrix packed once at bind time for the int8 GEMM core, with its column sums
/// (for the activation zero-point correction) and its per-column scales, in executor scratch.
/// </summary>
internal sealed unsafe class PackedInt8Weights
{
    /// <summary>Packs the <paramref name="k"/>×<paramref name="n"/> matrix whose element (k, n) is at <c>b[k*rowStride + n*colStride]</c>.</summary>
    public PackedInt8Weights(BindContext context, sbyte* b, long rowStride, long colStride, int k, int n, float* scales)
    {
        K = k;
        N = n;
        Packed = (sbyte*)context.Scratch(Int8Packing.PackedBytes(k, n));
        ColumnSums = (int*)context.Scratch(Int8Packing.PaddedN(n) * sizeof(int));
        Int8Packing.PackB(b, rowStride, colStride, k, n, Packed, ColumnSums);
        Scales = (float*)context.Scratch(Int8Packing.PaddedN(n) * sizeof(float));
        for (int j = 0; j < n; j++) Scales[j] = scales[j];
        Multipliers = (float*)context.Scratch(Int8Packing.PaddedN(n) * sizeof(float));
    }

    public int K { get; }
    public int N { get; }
    public sbyte* Packed { get; }
    public int* ColumnSums { get; }
    /// <summary>The weight scales sw[n] (padded with zeros).</summary>
    public float* Scales { get; }
    /// <summary>sa · sw[n] · <c>factor</c>, refreshed by <see cref="SetActivationScale"/>.</summary>
    public float* Multipliers { get; }

    /// <summary>Sets <c>Multipliers[n] = (sa · sw[n]) · factor</c> (factor: Gemm's alpha).</summary>
    public void SetActivationScale(float activationScale, float factor)
    {
        for (int j = 0; j < N; j++) Multipliers[j] = activationScale * Scales[j] * factor;
    }
}
