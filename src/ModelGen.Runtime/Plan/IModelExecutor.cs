namespace ModelGen.Runtime;

/// <summary>
/// Runs one compiled model for a fixed number of samples: the CPU <see cref="PlanExecutor"/>, a
/// device executor, or ONNX Runtime for a model with ops ModelGen does not compile. Generated
/// predictors talk to this interface, so their typed API is the same whatever runs underneath.
/// Inputs and outputs move as raw bytes in the tensor's element type; the generated code has
/// already checked the element type and count, and implementations check the byte length again.
/// None of the members allocates.
/// </summary>
public interface IModelExecutor : IDisposable
{
    /// <summary>Copies graph input <paramref name="index"/> in.</summary>
    /// <exception cref="ArgumentException"><paramref name="data"/> is not the input's byte length.</exception>
    void SetInput(int index, ReadOnlySpan<byte> data);

    /// <summary>Runs the model once on the inputs set.</summary>
    void Run();

    /// <summary>Copies graph output <paramref name="index"/> out.</summary>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not the output's byte length.</exception>
    void GetOutput(int index, Span<byte> destination);
}
