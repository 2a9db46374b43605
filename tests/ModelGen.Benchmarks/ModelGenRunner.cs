using ModelGen.Optimizer;
using ModelGen.Optimizer.Planning;
using ModelGen.Runtime;

namespace ModelGen.Benchmarks;

/// <summary>
/// The ModelGen side: the plan and weights the optimizer compiled, run by a
/// <see cref="PlanExecutor"/> exactly as a generated predictor's <c>Predict</c> does
/// (<c>SetInput</c> per input, <c>Run</c>, <c>GetOutput</c> per output) on buffers allocated
/// once here, so <see cref="Invoke"/> measures the shipped hot path and nothing else.
/// </summary>
internal sealed class ModelGenRunner : IDisposable
{
    private readonly ModelWeights _weights;
    private readonly PlanExecutor _executor;
    private readonly float[][] _inputs;
    private readonly float[][] _outputs;

    /// <summary>Builds the executor for <paramref name="result"/>'s plan and fills its inputs with seeded data.</summary>
    /// <exception cref="InvalidOperationException">An input or output is not float32 (the benchmark feeds floats only).</exception>
    public ModelGenRunner(OptimizeResult result)
    {
        // The generated class does the same: the plan from the spec, the weights blob, one executor.
        var plan = SpecToPlan.Convert(result.Compiled.Spec);
        _weights = ModelWeights.FromBytes(result.Compiled.Weights);
        try
        {
            _executor = new PlanExecutor(plan, _weights);
        }
        catch
        {
            _weights.Dispose();
            throw;
        }
        Plan = plan;
        InputSlots = plan.Inputs.Select(i => plan.Slots[i]).ToArray();
        OutputSlots = plan.Outputs.Select(i => plan.Slots[i]).ToArray();
        foreach (var slot in InputSlots.Concat(OutputSlots))
        {
            if (slot.Type != ElementType.Float)
            {
                Dispose();
                throw new InvalidOperationException($"the benchmark feeds and reads float32 tensors only; '{slot.Name}' is {slot.Type.ToOnnxName()}");
            }
        }
        _inputs = InputSlots.Select((s, i) => SeededData.Uniform(checked((int)s.ElementCount), seed: 7 + i)).ToArray();
        _outputs = OutputSlots.Select(s => new float[checked((int)s.ElementCount)]).ToArray();
    }

    /// <summary>The compiled plan being run.</summary>
    public ExecutionPlan Plan { get; }

    /// <summary>The plan's inputs (name, type, shape), in order.</summary>
    public TensorSlot[] InputSlots { get; }

    /// <summary>The plan's outputs (name, type, shape), in order.</summary>
    public TensorSlot[] OutputSlots { get; }

    /// <summary>The input buffers (seeded uniform [0, 1) data), in plan order.</summary>
    public float[][] Inputs => _inputs;

    /// <summary>The output buffers, filled by <see cref="Invoke"/>.</summary>
    public float[][] Outputs => _outputs;

    /// <summary>One prediction: what the generated <c>Predict</c> does. Allocates nothing.</summary>
    public void Invoke()
    {
        var executor = _executor;
        var inputs = _inputs;
        for (int i = 0; i < inputs.Length; i++) executor.SetInput<float>(i, inputs[i]);
        executor.Run();
        var outputs = _outputs;
        for (int i = 0; i < outputs.Length; i++) executor.GetOutput<float>(i, outputs[i]);
    }

    /// <summary>The plan's steps alone, on the inputs already in the arena (no input or output copies): for per-layer studies.</summary>
    public void RunOnly() => _executor.Run();

    /// <summary>As <see cref="Invoke"/>, adding each step's Stopwatch ticks to <paramref name="stepTicks"/>.</summary>
    public void InvokeProfiled(Span<long> stepTicks, Func<long> clock)
    {
        var executor = _executor;
        for (int i = 0; i < _inputs.Length; i++) executor.SetInput<float>(i, _inputs[i]);
        executor.RunProfiled(stepTicks, clock);
        for (int i = 0; i < _outputs.Length; i++) executor.GetOutput<float>(i, _outputs[i]);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _executor.Dispose();
        _weights.Dispose();
    }
}
