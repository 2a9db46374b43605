using System.Runtime.CompilerServices;
using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Kernels.Gemm;

/// <summary>
/// The one-row case of an <see cref="SgemmJob"/> (a batch-1 Gemm/MatMul: a matrix-vector product):
/// the same packed B, C, sizes and epilogue — read from that job at each run, so a kernel fills one
/// set of fields — but x is read in place instead of from packed A, and a big product is split
/// across the worker pool by groups of column panels.
/// </summary>
internal sealed unsafe class SgemvJob : IParallelWork
{
    /// <summary>
    /// Multiply-adds from which the product is split across the pool (by groups of column panels).
    /// A matrix-vector product streams each weight once, so it is bound by cache bandwidth, and a
    /// second core brings its own L2 and load ports: on the 2-core Zen5 box the 784x512 layer (401k,
    /// 1.6 MB of weights) went from 29 to 17 us (fastest chunks, loaded machine). The 196x128 layer
    /// (25k, ~0.6 us) got slower split (0.61 -> 0.73 us): the hand-off and the shared cache lines
    /// cost about what half of it saves. 64k (256 KB of weights, ~2 us) sits between the two.
    /// </summary>
    public const long ParallelThreshold = 1 << 16;

    private readonly SgemmJob _job;
    private int _groups;
    private int _panels;

    /// <summary>A vector job over <paramref name="job"/>'s B, C, N, K and epilogue (its M must be 1).</summary>
    public SgemvJob(SgemmJob job) => _job = job;

    /// <summary>x: K contiguous floats.</summary>
    public float* X;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run()
    {
        var job = _job;
        if (job.N == 0) return;
        _panels = Sgemm.ColumnPanels(job.N);
        // Parts own whole groups of panels so each runs the kernel's widest path.
        _groups = (_panels + Sgemv.GroupPanels - 1) / Sgemv.GroupPanels;
        int parts = (long)job.N * job.K >= ParallelThreshold ? Math.Min(WorkerPool.Shared.Concurrency, _groups) : 1;
        if (parts > 1) WorkerPool.Shared.Run(this, parts);
        else Sgemv.Panels(X, 1, job.PackedB, job.C, job.N, job.K, job.Epilogue, 0, 0, _panels);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part, int parts)
    {
        var job = _job;
        int g0 = (int)WorkerPool.Split(_groups, part, parts);
        int g1 = (int)WorkerPool.Split(_groups, part + 1, parts);
        Sgemv.Panels(X, 1, job.PackedB, job.C, job.N, job.K, job.Epilogue, 0, g0 * Sgemv.GroupPanels, Math.Min(_panels, g1 * Sgemv.GroupPanels));
    }
}
