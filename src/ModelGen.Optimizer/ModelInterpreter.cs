using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Planning;
using ModelGen.Runtime;

namespace ModelGen.Optimizer;

/// <summary>
/// Runs a compiled model with the runtime's <see cref="PlanExecutor"/>: the same plan and
/// kernels a generated predictor runs. Used for constant folding, by the tests, and by the
/// accuracy evaluation.
/// </summary>
public sealed class ModelInterpreter : IDisposable
{
    private readonly ModelWeights _weights;
    private readonly PlanExecutor _executor;
    private readonly ExecutionPlan _plan;

    internal ModelInterpreter(CompiledModel compiled)
    {
        _plan = SpecToPlan.Convert(compiled.Spec);
        _weights = ModelWeights.FromBytes(compiled.Weights);
        try
        {
            _executor = new PlanExecutor(_plan, _weights);
        }
        catch
        {
            _weights.Dispose();
            throw;
        }
    }

    /// <summary>The graph inputs as (name, type, shape), in order.</summary>
    public IReadOnlyList<TensorSlot> Inputs => _plan.Inputs.Select(i => _plan.Slots[i]).ToList();

    /// <summary>The graph outputs as (name, type, shape), in order.</summary>
    public IReadOnlyList<TensorSlot> Outputs => _plan.Outputs.Select(i => _plan.Slots[i]).ToList();

    /// <summary>Runs the model once; inputs in graph order, outputs in graph order.</summary>
    public OnnxTensor[] Run(params OnnxTensor[] inputs)
    {
        if (inputs.Length != _plan.Inputs.Length)
        {
            throw new ArgumentException($"the model has {_plan.Inputs.Length} inputs, {inputs.Length} were given");
        }
        for (int i = 0; i < inputs.Length; i++)
        {
            var slot = _plan.Slots[_plan.Inputs[i]];
            if (inputs[i].Type != slot.Type)
            {
                throw new ArgumentException($"input '{slot.Name}' is {slot.Type.ToOnnxName()}, got {inputs[i].Type.ToOnnxName()}");
            }
            TypedIo.SetInput(_executor, i, slot.Type, inputs[i].Data);
        }
        _executor.Run();
        var outputs = new OnnxTensor[_plan.Outputs.Length];
        for (int i = 0; i < outputs.Length; i++)
        {
            var slot = _plan.Slots[_plan.Outputs[i]];
            outputs[i] = new OnnxTensor(slot.Name, slot.Type, slot.Shape, TypedIo.GetOutput(_executor, i, slot.Type, slot.ElementCount));
        }
        return outputs;
    }

    /// <summary>Runs a float model on float arrays (a convenience for tests and evaluation).</summary>
    public float[][] RunFloats(params float[][] inputs) =>
        Run(inputs.Select((x, i) => OnnxTensor.FromFloats(Inputs[i].Name, Inputs[i].Shape, x)).ToArray())
            .Select(t => t.ToFloatArray()).ToArray();

    /// <inheritdoc />
    public void Dispose()
    {
        _executor.Dispose();
        _weights.Dispose();
    }
}
