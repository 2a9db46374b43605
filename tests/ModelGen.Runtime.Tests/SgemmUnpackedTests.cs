using System.Runtime.Intrinsics.X86;
using ModelGen.Runtime.Kernels.Gemm;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// <see cref="Sgemm.UnpackedPanels256"/>: the AVX2 6 × 16 tile reading B in place (row stride wider than the columns it
/// computes), against a double-accumulating reference, with a row bias and a Relu (the epilogue a 1×1 conv gives it) or a
/// residual read from C's own bytes. Cases: K whole or in two and three equal slices (a middle slice adds to the partial
/// sums in C), a partial last row block, two MC blocks of row blocks, and columns that start past B's first panel, with C's
/// columns outside the range left as they were. Tolerance: rel 1e-4, abs 1e-4 (up to 1100 fp32 FMAs vs double sums).
/// </summary>
public unsafe class SgemmUnpackedTests
{
    private const float Rel = 1e-4f, Abs = 1e-4f;

    public static TheoryData<int, int, int, int, bool> Cases() => new()
    {
        // m, k, first panel, panels, residual in place (else bias + Relu)
        { 13, 200, 0, 3, false },   // K whole (not blocked); a partial row block of 1
        { 70, 600, 1, 2, false },   // two slices of 300; columns 16–47 of a 64-wide B
        { 100, 1100, 0, 4, false }, // three slices of 367, 366, 367; 17 row blocks: a second MC block
        { 200, 700, 2, 1, true },   // residual in place: the slices must not add it twice or lose it
        { 6, 257, 3, 1, true },     // one row block; two slices, the last panel of B
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void UnpackedPanelsMatchReference(int m, int k, int firstPanel, int panels, bool residual)
    {
        if (!Avx2.IsSupported || !Fma.IsSupported) Assert.Fail("this test needs AVX2 and FMA (every x64 CI machine has them)");
        const int ldb = 64; // B is k × 64; the product computes columns [16·firstPanel, 16·(firstPanel + panels))
        var a = Data.Random(m + k, (long)m * k);
        var b = Data.Random(k + 5, (long)k * ldb);
        var bias = Data.Random(3, m);
        var c0 = Data.Random(11, (long)m * ldb, -2f, 2f);
        var c = (float[])c0.Clone();
        float* packedA = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(Sgemm.PackedASize(m, k) * 4), 64);
        try
        {
            fixed (float* pa = a, pb = b, pc = c, pbias = bias)
            {
                Sgemm.PackA(pa, k, 1, m, k, packedA);
                var e = Epilogue.Plain;
                if (residual) e.HasResidual = true; // offset 0: C itself
                else
                {
                    e.RowBias = pbias;
                    e.Activation = ActivationKind.Relu;
                }
                Sgemm.UnpackedPanels256(packedA, pb, ldb, pc, ldb, m, k, e, 16 * firstPanel, panels);
            }
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(packedA);
        }
        var product = Reference.MatMul2D(a, b, m, k, ldb);
        var expected = (float[])c0.Clone();
        int j0 = 16 * firstPanel, j1 = j0 + 16 * panels;
        for (int i = 0; i < m; i++)
        for (int j = j0; j < j1; j++)
        {
            float v = product[i * ldb + j];
            expected[i * ldb + j] = residual ? v + c0[i * ldb + j] : MathF.Max(0f, v + bias[i]);
        }
        Data.Close(expected, c, Rel, Abs);
    }
}
