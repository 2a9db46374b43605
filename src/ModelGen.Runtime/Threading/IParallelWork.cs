namespace ModelGen.Runtime.Threading;

/// <summary>
/// A pre-allocated piece of parallel work: <see cref="Execute"/> runs part <c>part</c> of
/// <c>parts</c>. Kernels implement it on an object created at bind time, so handing work to
/// the pool allocates nothing (no closures, no tasks).
/// </summary>
internal interface IParallelWork
{
    /// <summary>Runs one part; parts are independent of each other.</summary>
    void Execute(int part, int parts);
}
