namespace ModelGen.Runtime;

/// <summary>
/// Runs a model for any batch size from 1 to <see cref="MaxBatch"/> without allocating: at
/// construction it makes one executor per bucket size (1, 2, 4, … below <see cref="MaxBatch"/>,
/// and <see cref="MaxBatch"/> itself), each over the batch-polymorphic plan scaled to that size,
/// and a call splits its batch into the largest buckets that fit (7 = 4 + 2 + 1). Large batches
/// thus run as a few wide GEMMs rather than many narrow ones, and no executor is ever made per call.
/// A plan without a batch axis (its graph depends on the batch size) gets the single bucket 1, and
/// the batch runs one sample at a time.
/// </summary>
public sealed class BatchedExecutor : IDisposable
{
    private readonly IModelExecutor[] _executors;
    private readonly int[] _sizes;

    /// <summary>Creates the bucket executors.</summary>
    /// <param name="plan">The plan for one sample.</param>
    /// <param name="maxBatch">The largest batch a call may pass (at least 1).</param>
    /// <param name="create">Makes an executor for a scaled plan (the CPU <see cref="PlanExecutor"/>, a device or ONNX Runtime).</param>
    public BatchedExecutor(ExecutionPlan plan, int maxBatch, Func<ExecutionPlan, IModelExecutor> create)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(create);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatch, 1);
        MaxBatch = maxBatch;
        _sizes = Buckets(plan.IsBatched ? maxBatch : 1);
        _executors = new IModelExecutor[_sizes.Length];
        try
        {
            for (int i = 0; i < _sizes.Length; i++) _executors[i] = create(plan.WithBatch(_sizes[i]));
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The largest batch size accepted.</summary>
    public int MaxBatch { get; }

    /// <summary>The executor for one sample.</summary>
    public IModelExecutor Single => _executors[0];

    /// <summary>The bucket sizes, ascending (for tests and diagnostics).</summary>
    public ReadOnlySpan<int> BucketSizes => _sizes;

    /// <summary>
    /// The executor for the next chunk of a batch: the largest bucket that fits in
    /// <paramref name="remaining"/> samples, whose size is returned in <paramref name="samples"/>.
    /// </summary>
    public IModelExecutor Next(int remaining, out int samples)
    {
        int i = _sizes.Length - 1;
        while (_sizes[i] > remaining) i--;
        samples = _sizes[i];
        return _executors[i];
    }

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless 1 ≤ <paramref name="batchSize"/> ≤ <see cref="MaxBatch"/>.</summary>
    public void CheckBatchSize(int batchSize)
    {
        if (batchSize < 1 || batchSize > MaxBatch) ThrowBatchSize(batchSize);
    }

    /// <summary>Disposes every bucket executor.</summary>
    public void Dispose()
    {
        foreach (var e in _executors) e?.Dispose();
    }

    private void ThrowBatchSize(int batchSize) => throw new ArgumentOutOfRangeException(
        nameof(batchSize), batchSize, $"The batch size must be from 1 to {MaxBatch} (the MaxBatch metadata of the <OptimizedModel> item).");

    private static int[] Buckets(int maxBatch)
    {
        var sizes = new List<int>();
        for (int b = 1; b < maxBatch; b *= 2) sizes.Add(b);
        sizes.Add(maxBatch);
        return sizes.ToArray();
    }
}
