using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ModelGen.Runtime.Kernels.Gemm;

namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// What the int8 GEMM does with a finished int32 tile while it is hot (docs/quantization.md):
/// <c>acc = Σ qa·qw − zp·Σ_k qw[k, n]</c>, then <c>y = acc · multiplier[n] + bias[n]</c>
/// (<c>multiplier[n] = sa · sw[n]</c>) and the fused activation, stored as fp32 at
/// <c>Y[i*RowStride + n*ColStride]</c> — or, with <see cref="Accumulators"/> set, the raw int32
/// <c>acc</c> (MatMulInteger, and the tests that compare instruction paths).
/// Per-column arrays are padded to a multiple of 16 so whole panels load as vectors.
/// </summary>
internal unsafe struct Int8Epilogue
{
    public int* ColumnSums;
    public int ZeroPoint;
    public float* Multipliers;
    /// <summary>Per-column bias, or null.</summary>
    public float* Bias;
    public Epilogue Activation;
    public float* Y;
    public int* Accumulators;
    public long RowStride;
    public long ColStride;

    /// <summary>Finishes <paramref name="rows"/>×<paramref name="cols"/> of a tile whose top-left output is (row0, col0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public readonly void Store(int* tile, int rows, int cols, int row0, int col0)
    {
        int zp = ZeroPoint;
        if (Accumulators != null)
        {
            for (int r = 0; r < rows; r++)
            {
                int* out0 = Accumulators + (row0 + r) * RowStride + col0 * ColStride;
                for (int j = 0; j < cols; j++) out0[j * ColStride] = tile[r * Int8Packing.NR + j] - zp * ColumnSums[col0 + j];
            }
            return;
        }
        if (ColStride == 1 && cols == Int8Packing.NR)
        {
            StoreVectors(tile, rows, row0, col0);
            return;
        }
        if (RowStride == 1 && rows == Int8MicroKernel.MR && Vector256.IsHardwareAccelerated)
        {
            StoreColumns(tile, cols, row0, col0);
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            float* y = Y + (row0 + r) * RowStride + col0 * ColStride;
            int* t = tile + r * Int8Packing.NR;
            for (int j = 0; j < cols; j++)
            {
                int c = col0 + j;
                int acc = t[j] - zp * ColumnSums[c];
                float v = acc * Multipliers[c];
                if (Bias != null) v += Bias[c];
                y[j * ColStride] = Activation.Activate(v);
            }
        }
    }

    /// <summary>
    /// A whole tile of 4 rows into a channel-major Y (a conv's output: <see cref="RowStride"/> 1, each column a channel
    /// plane): the rows finished with vectors as <see cref="StoreVectors"/> does, then each column's 4 consecutive
    /// outputs as one 128-bit store, instead of the scalar path per element.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private readonly void StoreColumns(int* tile, int cols, int row0, int col0)
    {
        const int nr = Int8Packing.NR;
        float* f = stackalloc float[Int8MicroKernel.MR * nr];
        FinishRows(tile, Int8MicroKernel.MR, col0, f, nr);
        float* y = Y + row0 + col0 * ColStride;
        for (int j = 0; j < cols; j++, y += ColStride)
        {
            Vector128.Create(f[j], f[nr + j], f[2 * nr + j], f[3 * nr + j]).Store(y);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void StoreVectors(int* tile, int rows, int row0, int col0) =>
        FinishRows(tile, rows, col0, Y + row0 * RowStride + col0, RowStride);

    /// <summary>Finishes <paramref name="rows"/> whole 16-column rows of a tile into rows of <paramref name="target"/>, <paramref name="targetStride"/> floats apart.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void FinishRows(int* tile, int rows, int col0, float* target, long targetStride)
    {
        var zp = Vector256.Create(ZeroPoint);
        var sum0 = Vector256.Load(ColumnSums + col0) * zp;
        var sum1 = Vector256.Load(ColumnSums + col0 + 8) * zp;
        var m0 = Vector256.Load(Multipliers + col0);
        var m1 = Vector256.Load(Multipliers + col0 + 8);
        var b0 = Bias != null ? Vector256.Load(Bias + col0) : Vector256<float>.Zero;
        var b1 = Bias != null ? Vector256.Load(Bias + col0 + 8) : Vector256<float>.Zero;
        for (int r = 0; r < rows; r++)
        {
            int* t = tile + r * Int8Packing.NR;
            float* y = target + r * targetStride;
            // Multiply then add, as the scalar tail does: no FMA, so both give the same bits.
            var v0 = Vector256.ConvertToSingle(Vector256.Load(t) - sum0) * m0 + b0;
            var v1 = Vector256.ConvertToSingle(Vector256.Load(t + 8) - sum1) * m1 + b1;
            Activation.Activate(v0).Store(y);
            Activation.Activate(v1).Store(y + 8);
        }
    }
}
