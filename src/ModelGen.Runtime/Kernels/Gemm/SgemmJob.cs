using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Kernels.Gemm;

/// <summary>
/// One multiply on packed operands, reusable across calls (a kernel owns one and fills its fields
/// before each run), split across the worker pool by tiles when it is big enough.
/// </summary>
internal sealed unsafe class SgemmJob : IParallelWork
{
    /// <summary>Multiply-adds below which one thread is faster than waking the pool.</summary>
    public const long ParallelThreshold = 1 << 20;

    public float* PackedA;
    public float* PackedB;
    public float* C;
    public long Ldc;
    public int M;
    public int N;
    public int K;
    public Epilogue Epilogue = Epilogue.Plain;

    private int _tiles;

    public void Run()
    {
        if (M == 0 || N == 0) return;
        _tiles = Sgemm.RowBlocks(M) * Sgemm.ColumnPanels(N);
        long work = (long)M * N * K;
        int parts = work >= ParallelThreshold ? Math.Min(WorkerPool.Shared.Concurrency, _tiles) : 1;
        if (parts > 1) WorkerPool.Shared.Run(this, parts);
        else Sgemm.Tiles(PackedA, PackedB, C, Ldc, M, N, K, Epilogue, 0, _tiles);
    }

    public void Execute(int part, int parts)
    {
        int begin = (int)((long)_tiles * part / parts);
        int end = (int)((long)_tiles * (part + 1) / parts);
        Sgemm.Tiles(PackedA, PackedB, C, Ldc, M, N, K, Epilogue, begin, end);
    }
}
