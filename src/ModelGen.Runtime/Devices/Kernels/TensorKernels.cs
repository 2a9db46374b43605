using ILGPU;

namespace ModelGen.Runtime.Devices;

/// <summary>
/// Parameters of <see cref="TensorKernels.Blocks"/>: Count elements of X, in blocks of Block,
/// copied to Y with block b starting at Y + b·YStride (a plain copy when Block = Count).
/// </summary>
internal struct BlockCopyParams
{
    public int Count, Block, X, Y, YStride;
}

/// <summary>Parameters of <see cref="TensorKernels.Transpose"/>: output dims and the input stride of each, six dims right-aligned.</summary>
internal struct TransposeParams
{
    public int Count, X, Y;
    public int D0, D1, D2, D3, D4, D5;
    public int S0, S1, S2, S3, S4, S5;
}

/// <summary>Data movement: copies (Reshape and friends), Concat, Transpose.</summary>
internal static class TensorKernels
{
    /// <summary>Copies X into Y in blocks (Concat: one launch per input; Reshape: one block).</summary>
    public static void Blocks(ArrayView<float> mem, BlockCopyParams p)
    {
        for (int i = Grid.GlobalIndex.X; i < p.Count; i += Grid.DimX * Group.DimX)
        {
            mem[p.Y + i / p.Block * p.YStride + i % p.Block] = mem[p.X + i];
        }
    }

    /// <summary>Y[i] = X[Σd index_d(i)·S_d], walking the output in order.</summary>
    public static void Transpose(ArrayView<float> mem, TransposeParams p)
    {
        for (int i = Grid.GlobalIndex.X; i < p.Count; i += Grid.DimX * Group.DimX)
        {
            int r = i, x = p.X, c;
            c = r % p.D5; r /= p.D5; x += c * p.S5;
            c = r % p.D4; r /= p.D4; x += c * p.S4;
            c = r % p.D3; r /= p.D3; x += c * p.S3;
            c = r % p.D2; r /= p.D2; x += c * p.S2;
            c = r % p.D1; r /= p.D1; x += c * p.S1;
            x += r * p.S0;
            mem[p.Y + i] = mem[x];
        }
    }
}
