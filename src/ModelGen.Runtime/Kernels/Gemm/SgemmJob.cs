using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Kernels.Gemm;

/// <summary>
/// One multiply on packed operands, reusable across calls (a kernel owns one and fills its fields
/// before each run), split across the worker pool by tiles when it is big enough.
/// </summary>
internal sealed unsafe class SgemmJob : IParallelWork
{
    /// <summary>Multiply-adds below which one thread is faster than waking the pool (with AVX-512; see <see cref="SplitFrom"/>).</summary>
    public const long ParallelThreshold = 1 << 20;

    /// <summary>
    /// Multiply-adds from which fp32 work is split over the pool: <see cref="ParallelThreshold"/> with AVX-512 vectors
    /// (<paramref name="wide"/>), half of it with AVX2's, whose multiply-adds run at half the width, so the same size takes
    /// about twice as long. On the 2-core AVX2 EPYC: the small CNN's 5×5 10→16 on 14×14 (784K multiply-adds, direct) took
    /// 21 µs on one core; mlp-196-128-10 at batch 32 (its 32×196×128 layer, 0.8M) went 20.0 / 19.4 → 14.3 / 11.2 µs
    /// (fastest call), quick mode 0.66 / 0.67 / 0.76 → 0.89 / 0.90 / 0.80 (ONNX Runtime splits it too).
    /// </summary>
    public static long SplitFrom(bool wide) => wide ? ParallelThreshold : ParallelThreshold / 2;

    public float* PackedA;
    public float* PackedB;
    public float* C;
    public long Ldc;
    public int M;
    public int N;
    public int K;
    public Epilogue Epilogue = Epilogue.Plain;

    /// <summary>
    /// How many packed copies of A <see cref="PackedA"/> has room for (<see cref="AllocatePackedA"/>): with one per part,
    /// <see cref="PackAndRun"/> has every part pack A for itself.
    /// </summary>
    public int PackedACopies = 1;

    private int _tiles;
    private int _panels;
    private bool _blocked;
    private PackAWork? _packA;
    private float* _aSource;   // set while every part packs its own A: where A is, and its strides
    private long _aRowStride, _aColStride;

    /// <summary>Elements of A above which packing it is split over the pool (1024×1024 packs in ~0.4 ms on one core).</summary>
    public const long ParallelPackThreshold = 256 * 1024;

    /// <summary>
    /// Allocates <see cref="PackedA"/> from <paramref name="context"/>'s scratch: for A packed per call, a copy for each
    /// part the pool may run (see <see cref="PackAndRun"/>); for a constant A, packed once, one.
    /// </summary>
    public void AllocatePackedA(BindContext context, bool perCall)
    {
        PackedACopies = perCall ? Math.Max(1, WorkerPool.Shared.Concurrency) : 1;
        PackedA = (float*)context.Scratch(Sgemm.PackedASize(M, K) * PackedACopies * 4);
    }

    /// <summary>
    /// Packs A (element (i, p) at <c>a[i*rowStride + p*colStride]</c>) into <see cref="PackedA"/> and runs the product.
    /// For activations, which change every call.
    /// </summary>
    /// <remarks>
    /// When the product runs on the pool and <see cref="PackedA"/> holds a copy per part, each part packs all of A into
    /// its own copy and multiplies from it: every part reads all of A (the parts split C by columns), so a copy packed
    /// by one core, or split between both, was read from the other core's cache. The packing is done twice, but in
    /// parallel and without a dispatch of its own. Measured on two cores, A just written by both, p50: 32×784×512 (Gemm,
    /// bias, Relu) 91–92 → 78 µs, 32×512×512 60–62 → 54–57 µs, 250×1000×256 563–619 → 461–468 µs (A was packed by the
    /// caller alone below 256K elements), 512×1024×512 1855–1915 → 1798–1837 µs, 1024³ 6751–6814 → 6343–6566 µs.
    /// <para>
    /// Without AVX-512 a large A (from <see cref="ParallelPackThreshold"/> elements) is packed once, split over the pool,
    /// instead: on the 2-core AVX2 EPYC (Zen 3, half the L2 of the Zen 5 above), seven alternating pairs of the 1024³ line,
    /// a copy per part 133.6 / 127.5 / 128.9 / 136.0 / 103.1 / 131.1 / 118.8 GFLOP/s against packed once 136.7 / 140.1 /
    /// 139.8 / 138.1 / 138.6 / 133.2 / 132.7 GFLOP/s.
    /// </para>
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PackAndRun(float* a, long rowStride, long colStride)
    {
        int productParts = M > 0 && N > 0 ? Parts() : 1;
        long elements = (long)M * K;
        if (productParts > 1 && PackedACopies >= productParts && (Avx512F.IsSupported || elements < ParallelPackThreshold))
        {
            _aSource = a;
            _aRowStride = rowStride;
            _aColStride = colStride;
            WorkerPool.Shared.Run(this, productParts);
            _aSource = null;
            return;
        }
        int rowBlocks = Sgemm.RowBlocks(M);
        int parts = elements >= ParallelPackThreshold ? Math.Min(WorkerPool.Shared.Concurrency, rowBlocks) : 1;
        if (parts > 1)
        {
            _packA ??= new PackAWork(this);
            _packA.Source = a;
            _packA.RowStride = rowStride;
            _packA.ColStride = colStride;
            WorkerPool.Shared.Run(_packA, parts);
        }
        else
        {
            Sgemm.PackA(a, rowStride, colStride, M, K, PackedA);
        }
        Run();
    }

    public void Run()
    {
        if (M == 0 || N == 0) return;
        int parts = Parts();
        if (parts > 1) WorkerPool.Shared.Run(this, parts);
        else Execute(0, 1);
    }

    /// <summary>Sets the product's split and returns how many parts run it.</summary>
    private int Parts()
    {
        _tiles = Sgemm.RowBlocks(M) * Sgemm.ColumnPanels(N);
        _panels = Sgemm.ColumnPanels(N);
        _blocked = Sgemm.UsesBlocking(M, K, Epilogue);
        long work = (long)M * N * K;
        // The blocked path splits by column panels (each part owns whole columns of C across all K slices).
        int units = _blocked ? _panels : _tiles;
        // The tiles are AVX-512's wherever the hardware has it (Sgemm), whatever the float ISA the kernels were bound for.
        return work >= SplitFrom(Avx512F.IsSupported) ? Math.Min(WorkerPool.Shared.Concurrency, units) : 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part, int parts)
    {
        float* packedA = PackedA;
        if (_aSource != null)
        {
            packedA += part * Sgemm.PackedASize(M, K);
            Sgemm.PackA(_aSource, _aRowStride, _aColStride, M, K, packedA);
        }
        if (_blocked)
        {
            int p0 = (int)WorkerPool.Split(_panels, part, parts);
            int p1 = (int)WorkerPool.Split(_panels, part + 1, parts);
            Sgemm.BlockedPanels(packedA, PackedB, C, Ldc, M, N, K, Epilogue, p0, p1);
            return;
        }
        int begin = (int)WorkerPool.Split(_tiles, part, parts);
        int end = (int)WorkerPool.Split(_tiles, part + 1, parts);
        Sgemm.Tiles(packedA, PackedB, C, Ldc, M, N, K, Epilogue, begin, end);
    }

    /// <summary>
    /// Computes column panels [<paramref name="panelBegin"/>, <paramref name="panelEnd"/>) of C on the calling thread, blocked
    /// or not as <see cref="Run"/> would: for kernels that split the product by columns themselves and finish each
    /// part's columns in the same dispatch.
    /// </summary>
    public void Panels(int panelBegin, int panelEnd)
    {
        if (Sgemm.UsesBlocking(M, K, Epilogue))
        {
            Sgemm.BlockedPanels(PackedA, PackedB, C, Ldc, M, N, K, Epilogue, panelBegin, panelEnd);
            return;
        }
        // Tiles go panel-major: panel p is tiles [p·rowBlocks, (p+1)·rowBlocks).
        int rowBlocks = Sgemm.RowBlocks(M);
        Sgemm.Tiles(PackedA, PackedB, C, Ldc, M, N, K, Epilogue, panelBegin * rowBlocks, panelEnd * rowBlocks);
    }

    /// <summary>Packs row blocks of A, split over the pool; reused across calls.</summary>
    private sealed class PackAWork(SgemmJob job) : IParallelWork
    {
        public float* Source;
        public long RowStride;
        public long ColStride;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int part, int parts)
        {
            int rowBlocks = Sgemm.RowBlocks(job.M);
            int b0 = (int)WorkerPool.Split(rowBlocks, part, parts), b1 = (int)WorkerPool.Split(rowBlocks, part + 1, parts);
            int row0 = b0 * Sgemm.MR, rows = Math.Min(job.M, b1 * Sgemm.MR) - row0;
            if (rows <= 0) return;
            // Packed blocks are [MR rows × K] each, so row block b starts b·MR·K floats in.
            Sgemm.PackA(Source + row0 * RowStride, RowStride, ColStride, rows, job.K, job.PackedA + (long)row0 * job.K);
        }
    }
}
