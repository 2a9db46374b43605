namespace ModelGen.Runtime;

/// <summary>
/// Runs an <see cref="ExecutionPlan"/>. Construction binds a kernel to every step (checking
/// attributes and shapes, pre-computing everything it can) and allocates the arena; after that
/// <see cref="Run"/>, <see cref="SetInput{T}"/> and <see cref="GetOutput{T}"/> allocate nothing.
/// The optimizer's interpreter, the tests and the generated predictors all use this class.
/// </summary>
public sealed class PlanExecutor : IDisposable
{
    /// <summary>Binds kernels for every step and allocates the arena.</summary>
    /// <exception cref="ModelGenException">A step's op or attributes are not supported.</exception>
    public PlanExecutor(ExecutionPlan plan, ModelWeights weights)
    {
        // TODO(runtime helper): implement.
        throw new NotImplementedException();
    }

    /// <summary>The plan being run.</summary>
    public ExecutionPlan Plan => throw new NotImplementedException();

    /// <summary>Copies graph input <paramref name="index"/> into the arena.</summary>
    /// <exception cref="ArgumentException">The span's length is not the input's element count.</exception>
    public void SetInput<T>(int index, ReadOnlySpan<T> data) where T : unmanaged => throw new NotImplementedException();

    /// <summary>Runs every step once.</summary>
    public void Run() => throw new NotImplementedException();

    /// <summary>Copies graph output <paramref name="index"/> out of the arena (or weights, for a constant output).</summary>
    /// <exception cref="ArgumentException">The span's length is not the output's element count.</exception>
    public void GetOutput<T>(int index, Span<T> destination) where T : unmanaged => throw new NotImplementedException();

    /// <summary>Frees the arena.</summary>
    public void Dispose() => throw new NotImplementedException();
}
