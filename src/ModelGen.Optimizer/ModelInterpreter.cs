using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Planning;
using ModelGen.Runtime;
using ModelGen.Runtime.OnnxRuntime;
using ModelGen.Spec;

namespace ModelGen.Optimizer;

/// <summary>
/// Runs a compiled model with the engine a generated predictor uses: the runtime's
/// <see cref="PlanExecutor"/> over the same plan and kernels, or, for a model that falls back,
/// <see cref="OnnxRuntimeExecutor"/> over the same .onnx bytes. Used for constant folding, by the
/// tests, and by the accuracy evaluation.
/// </summary>
public sealed class ModelInterpreter : IDisposable
{
    private readonly ModelWeights _weights;
    private readonly OnnxRuntimeModel? _onnxRuntime;
    private readonly IModelExecutor _executor;
    private readonly ExecutionPlan _plan;

    internal ModelInterpreter(CompiledModel compiled)
    {
        _plan = SpecToPlan.Convert(compiled.Spec);
        _weights = ModelWeights.FromBytes(compiled.Weights);
        try
        {
            if (compiled.Spec.Engine == ModelSpec.OnnxRuntimeEngine)
            {
                _onnxRuntime = new OnnxRuntimeModel(_weights, compiled.Spec.Source);
                _executor = new OnnxRuntimeExecutor(_plan, _onnxRuntime);
            }
            else
            {
                _executor = new PlanExecutor(_plan, _weights);
            }
        }
        catch
        {
            _onnxRuntime?.Dispose();
            _weights.Dispose();
            throw;
        }
    }

    /// <summary>The graph inputs as (name, type, shape), in order.</summary>
    public IReadOnlyList<TensorSlot> Inputs => _plan.Inputs.Select(i => _plan.Slots[i]).ToList();

    /// <summary>The graph outputs as (name, type, shape), in order.</summary>
    public IReadOnlyList<TensorSlot> Outputs => _plan.Outputs.Select(i => _plan.Slots[i]).ToList();

    /// <summary>True when ONNX Runtime runs the model (it holds ops ModelGen does not compile).</summary>
    public bool RunsOnOnnxRuntime => _onnxRuntime is not null;

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
            _executor.SetInput(i, inputs[i].Data);
        }
        _executor.Run();
        var outputs = new OnnxTensor[_plan.Outputs.Length];
        for (int i = 0; i < outputs.Length; i++)
        {
            var slot = _plan.Slots[_plan.Outputs[i]];
            var data = new byte[slot.ByteLength];
            _executor.GetOutput(i, data);
            outputs[i] = new OnnxTensor(slot.Name, slot.Type, slot.Shape, data);
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
        _onnxRuntime?.Dispose();
        _weights.Dispose();
    }
}
