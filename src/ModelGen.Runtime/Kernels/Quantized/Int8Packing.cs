namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// The int8 weight layout of the int8 GEMM core: B[K, N] (s8) in panels of <see cref="NR"/>
/// columns; within a panel, for each group of 4 consecutive k, the 4 bytes of column 0, then of
/// column 1, … (so one 64-byte row holds 16 int32 lanes of 4 k each, exactly what
/// <c>vpdpbusd</c> multiplies against 4 broadcast activation bytes). K is padded to a multiple of
/// 4 and N to a multiple of 16 with zeros, which add nothing to any sum.
/// </summary>
internal static unsafe class Int8Packing
{
    /// <summary>Columns per panel.</summary>
    public const int NR = 16;

    /// <summary>K rounded up to a multiple of 4 (the activation rows' stride too).</summary>
    public static int PaddedK(int k) => (k + 3) & ~3;

    /// <summary>N rounded up to a multiple of <see cref="NR"/>.</summary>
    public static int PaddedN(int n) => (n + NR - 1) / NR * NR;

    /// <summary>Bytes of one packed panel.</summary>
    public static long PanelBytes(int k) => (long)PaddedK(k) * NR;

    /// <summary>Bytes of packed B.</summary>
    public static long PackedBytes(int k, int n) => PanelBytes(k) * (PaddedN(n) / NR);

    /// <summary>
    /// Packs B where element (k, n) is at <c>b[k*rowStride + n*colStride]</c> (so transposed weights
    /// pack as easily) into <paramref name="dst"/> (<see cref="PackedBytes"/>, zeroed), and writes
    /// <c>columnSums[n] = Σ_k B[k, n]</c> (length <see cref="PaddedN"/>; padding columns 0).
    /// </summary>
    public static void PackB(sbyte* b, long rowStride, long colStride, int k, int n, sbyte* dst, int* columnSums)
    {
        long panelBytes = PanelBytes(k);
        for (int j = 0; j < PaddedN(n); j++)
        {
            int sum = 0;
            sbyte* panel = dst + j / NR * panelBytes;
            int lane = j % NR;
            for (int p = 0; p < k; p++)
            {
                sbyte v = j < n ? b[p * rowStride + j * colStride] : (sbyte)0;
                panel[(p >> 2) * NR * 4 + lane * 4 + (p & 3)] = v;
                sum += v;
            }
            columnSums[j] = sum;
        }
    }
}
