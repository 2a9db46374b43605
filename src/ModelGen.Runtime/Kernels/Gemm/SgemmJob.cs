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
    private int _panels;
    private bool _blocked;

    public void Run()
    {
        if (M == 0 || N == 0) return;
        _tiles = Sgemm.RowBlocks(M) * Sgemm.ColumnPanels(N);
        _panels = Sgemm.ColumnPanels(N);
        _blocked = Sgemm.UsesBlocking(M, K, Epilogue);
        long work = (long)M * N * K;
        // The blocked path splits by column panels (each part owns whole columns of C across all K slices).
        int units = _blocked ? _panels : _tiles;
        int parts = work >= ParallelThreshold ? Math.Min(WorkerPool.Shared.Concurrency, units) : 1;
        if (parts > 1) WorkerPool.Shared.Run(this, parts);
        else Execute(0, 1);
    }

    public void Execute(int part, int parts)
    {
        if (_blocked)
        {
            int p0 = (int)((long)_panels * part / parts);
            int p1 = (int)((long)_panels * (part + 1) / parts);
            Sgemm.BlockedPanels(PackedA, PackedB, C, Ldc, M, N, K, Epilogue, p0, p1);
            return;
        }
        int begin = (int)((long)_tiles * part / parts);
        int end = (int)((long)_tiles * (part + 1) / parts);
        Sgemm.Tiles(PackedA, PackedB, C, Ldc, M, N, K, Epilogue, begin, end);
    }
}
