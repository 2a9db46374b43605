using System.Runtime.InteropServices;
using ModelGen.Runtime;

namespace ModelGen.Benchmarks;

/// <summary>
/// One executor (the CPU <see cref="PlanExecutor"/> or a device executor) with its float inputs
/// and outputs allocated once, so <see cref="Invoke"/> is exactly a generated <c>Predict</c>:
/// <c>SetInput</c> per input, <c>Run</c>, <c>GetOutput</c> per output.
/// </summary>
internal sealed class ExecutorRunner(IModelExecutor executor, float[][] inputs, float[][] outputs) : IDisposable
{
    /// <summary>The output buffers, filled by <see cref="Invoke"/>.</summary>
    public float[][] Outputs => outputs;

    /// <summary>A runner over <paramref name="plan"/>: seeded inputs (shared, read only) and fresh outputs.</summary>
    public static ExecutorRunner Create(IModelExecutor executor, ExecutionPlan plan, float[][] inputs) =>
        new(executor, inputs, plan.Outputs.Select(o => new float[checked((int)plan.Slots[o].ElementCount)]).ToArray());

    /// <summary>One prediction.</summary>
    public void Invoke()
    {
        for (int i = 0; i < inputs.Length; i++) executor.SetInput(i, MemoryMarshal.AsBytes(inputs[i].AsSpan()));
        executor.Run();
        for (int i = 0; i < outputs.Length; i++) executor.GetOutput(i, MemoryMarshal.AsBytes(outputs[i].AsSpan()));
    }

    /// <inheritdoc />
    public void Dispose() => executor.Dispose();
}
