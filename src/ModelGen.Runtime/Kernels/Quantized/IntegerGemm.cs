using System.Numerics;

namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// The exact integer multiply behind MatMulInteger, QLinearMatMul and QLinearConv:
/// C[m, n] = Σ_k (A[m, k] − za[m]) · (B[k, n] − zb[n]) in int32, for uint8 or int8 A and B with
/// per-row A and per-column B zero points. The int8 GEMM core (<see cref="Int8GemmJob"/>) needs
/// uint8 × int8 with B packed ahead of time, which these ONNX operators do not guarantee (uint8 B,
/// B computed at run time), so this row-by-row loop is the general path: each A element is
/// broadcast against a contiguous B row, a pattern the JIT vectorizes well enough for the
/// operators' usual (small, explicitly quantized) sizes.
/// </summary>
internal static unsafe class IntegerGemm
{
    /// <summary>The multiply for an (A, B) pair of element types, or a failure naming the step.</summary>
    public static delegate*<byte*, long, byte*, long, int, int, int, int*, int*, int*, void> Pick(ElementType a, ElementType b, BindContext context) => (a, b) switch
    {
        (ElementType.UInt8, ElementType.UInt8) => &Multiply<byte, byte>,
        (ElementType.UInt8, ElementType.Int8) => &Multiply<byte, sbyte>,
        (ElementType.Int8, ElementType.UInt8) => &Multiply<sbyte, byte>,
        (ElementType.Int8, ElementType.Int8) => &Multiply<sbyte, sbyte>,
        _ => throw context.Fail($"integer matrix multiply supports uint8 and int8 operands, not {a.ToOnnxName()} × {b.ToOnnxName()}"),
    };

    /// <summary>
    /// C[M, N] (row stride N) from A at row stride <paramref name="lda"/> (elements) and B [K, N] at
    /// row stride <paramref name="ldb"/>; <paramref name="za"/> has M entries, <paramref name="zb"/> N.
    /// </summary>
    private static void Multiply<TA, TB>(byte* aBytes, long lda, byte* bBytes, long ldb, int m, int k, int n, int* za, int* zb, int* c)
        where TA : unmanaged, IBinaryInteger<TA> where TB : unmanaged, IBinaryInteger<TB>
    {
        TA* a = (TA*)aBytes;
        TB* b = (TB*)bBytes;
        for (int i = 0; i < m; i++)
        {
            int* row = c + (long)i * n;
            new Span<int>(row, n).Clear();
            for (int p = 0; p < k; p++)
            {
                int av = int.CreateTruncating(a[i * lda + p]) - za[i];
                if (av == 0) continue;
                TB* bRow = b + p * ldb;
                for (int j = 0; j < n; j++) row[j] += av * (int.CreateTruncating(bRow[j]) - zb[j]);
            }
        }
    }

    /// <summary>
    /// Fills <paramref name="target"/> (length <paramref name="length"/>) with a zero point that is
    /// absent (0), a scalar, or one value per row/column.
    /// </summary>
    public static void ZeroPoints(byte* source, delegate*<byte*, long, double> read, long sourceCount, int* target, int length)
    {
        for (int i = 0; i < length; i++)
        {
            target[i] = source == null ? 0 : (int)read(source, sourceCount == 1 ? 0 : i);
        }
    }
}
