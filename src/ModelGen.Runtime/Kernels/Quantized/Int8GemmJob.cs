using System.Runtime.CompilerServices;
using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// One int8 multiply, reusable across calls: U8 activations [M, Kp] (row-major, stride
/// <see cref="Lda"/>) times packed S8 weights, finished by <see cref="Epilogue"/>. Split across
/// the worker pool by tiles (panel-major, so a weight panel stays in cache) when big enough.
/// </summary>
internal sealed unsafe class Int8GemmJob : IParallelWork
{
    /// <summary>
    /// Multiply-adds below which one thread is faster than waking the pool. The AVX2 path (no VNNI: bytes widened to
    /// int16, <c>vpmaddwd</c>) multiplies at about the fp32 rate, so it splits where the fp32 SGEMM does without AVX-512
    /// (<see cref="Gemm.SgemmJob.SplitFrom"/>). On the 2-core AVX2 EPYC, mlp-196-128-10 int8 at batch 32 (its 32×196×128 layer): the layer's fastest call
    /// 18.6 / 18.6 → 13.2 / 11.0 µs, quick mode 0.80 / 0.75 / 0.89 → 1.13 / 1.09 / 1.09.
    /// </summary>
    public const long ParallelThreshold = 1 << 21;

    public byte* A;
    public long Lda;
    public sbyte* PackedB;
    public int M;
    public int N;
    /// <summary>K padded to a multiple of 4 (<see cref="Int8Packing.PaddedK"/>).</summary>
    public int Kp;
    public Int8Isa Isa = Int8IsaSelector.Current;
    public Int8Epilogue Epilogue;

    private int _tiles;

    private int RowBlocks => (M + Int8MicroKernel.MR - 1) / Int8MicroKernel.MR;

    /// <summary>Runs the whole multiply (on the pool when it is big).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run()
    {
        if (M == 0 || N == 0) return;
        _tiles = RowBlocks * (Int8Packing.PaddedN(N) / Int8Packing.NR);
        long work = (long)M * N * Kp;
        int parts = work >= (Isa == Int8Isa.Avx2 ? Gemm.SgemmJob.SplitFrom(wide: false) : ParallelThreshold) ? Math.Min(WorkerPool.Shared.Concurrency, _tiles) : 1;
        if (parts > 1) WorkerPool.Shared.Run(this, parts);
        else Tiles(0, _tiles);
    }

    /// <inheritdoc />
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part, int parts) =>
        Tiles((int)WorkerPool.Split(_tiles, part, parts), (int)WorkerPool.Split(_tiles, part + 1, parts));

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tiles(int begin, int end)
    {
        int* tile = stackalloc int[Int8MicroKernel.MR * Int8Packing.NR];
        int rowBlocks = RowBlocks;
        long panelBytes = Int8Packing.PanelBytes(Kp);
        for (int t = begin; t < end; t++)
        {
            int panel = t / rowBlocks;
            int i0 = t % rowBlocks * Int8MicroKernel.MR;
            int j0 = panel * Int8Packing.NR;
            int rows = Math.Min(Int8MicroKernel.MR, M - i0);
            Int8MicroKernel.Tile(Isa, A + i0 * Lda, Lda, rows, PackedB + panel * panelBytes, Kp, tile);
            Epilogue.Store(tile, rows, Math.Min(Int8Packing.NR, N - j0), i0, j0);
        }
    }
}
