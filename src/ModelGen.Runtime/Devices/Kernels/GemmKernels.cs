using ILGPU;

namespace ModelGen.Runtime.Devices;

/// <summary>
/// Parameters of <see cref="GemmKernels.Gemm"/>: Y[b][i,j] = act(alpha·Σk A[b][i,k]·B[b][k,j] + beta·C[b][i,j]),
/// every operand an element offset into the executor's one device buffer plus strides, so
/// transposed operands, broadcast bias (stride 0) and batches need no copies.
/// </summary>
internal struct GemmParams
{
    public int M, N, K, Tile;
    public int A, ARow, ACol, ABatch;
    public int B, BRow, BCol, BBatch;
    public int Y, YRow, YBatch;
    public int HasC, C, CRow, CCol, CBatch;
    public float Alpha, Beta;
    public UnaryFn Act;
}

/// <summary>Gemm and MatMul: a tiled matrix product through shared memory.</summary>
internal static class GemmKernels
{
    /// <summary>Largest tile side; the shared tiles are this size, a launch uses <see cref="GemmParams.Tile"/>.</summary>
    public const int MaxTile = 16;
    private const int TileElements = MaxTile * MaxTile;

    /// <summary>
    /// One group per Tile×Tile block of Y (grid x: columns, y: rows, z: batch); each thread one
    /// element. A and B stream through shared memory a Tile-deep slice at a time.
    /// </summary>
    public static void Gemm(ArrayView<float> mem, GemmParams p)
    {
        var aTile = SharedMemory.Allocate<float>(TileElements);
        var bTile = SharedMemory.Allocate<float>(TileElements);
        int t = p.Tile;
        int tx = Group.IdxX, ty = Group.IdxY;
        int row = Grid.IdxY * t + ty, col = Grid.IdxX * t + tx, batch = Grid.IdxZ;
        int a = p.A + batch * p.ABatch, b = p.B + batch * p.BBatch;
        float acc = 0f;
        for (int k0 = 0; k0 < p.K; k0 += t)
        {
            int ka = k0 + tx, kb = k0 + ty;
            aTile[ty * MaxTile + tx] = row < p.M && ka < p.K ? mem[a + row * p.ARow + ka * p.ACol] : 0f;
            bTile[ty * MaxTile + tx] = kb < p.K && col < p.N ? mem[b + kb * p.BRow + col * p.BCol] : 0f;
            Group.Barrier();
            for (int k = 0; k < t; k++) acc += aTile[ty * MaxTile + k] * bTile[k * MaxTile + tx];
            Group.Barrier();
        }
        if (row >= p.M || col >= p.N) return;
        float v = p.Alpha * acc;
        if (p.HasC != 0) v += p.Beta * mem[p.C + batch * p.CBatch + row * p.CRow + col * p.CCol];
        mem[p.Y + batch * p.YBatch + row * p.YRow + col] = DeviceMath.Apply(v, p.Act);
    }
}
