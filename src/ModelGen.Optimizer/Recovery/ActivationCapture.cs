using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Planning;
using ModelGen.Optimizer.Quantization;

namespace ModelGen.Optimizer.Recovery;

/// <summary>
/// Runs a model with the runtime's executor and returns chosen intermediate values. The values
/// are made extra graph outputs of a capture-only plan (as the calibrator does), so the memory
/// planner keeps them alive to the end of the run.
/// </summary>
internal sealed class ActivationCapture : IDisposable
{
    private readonly ModelInterpreter _interpreter;
    private readonly int[] _source; // per value: >= 0 an output index, < 0 ~input index

    public ActivationCapture(OnnxModel model, IReadOnlyList<string> values, string sourcePath)
    {
        var copy = GraphCopy.Of(model);
        var graph = copy.Graph;
        var inputs = graph.Inputs.Select(i => i.Name).ToList();
        _source = new int[values.Count];
        for (int v = 0; v < values.Count; v++)
        {
            int input = inputs.IndexOf(values[v]);
            if (input >= 0)
            {
                _source[v] = ~input;
                continue;
            }
            int output = graph.Outputs.FindIndex(o => o.Name == values[v]);
            if (output < 0)
            {
                graph.Outputs.Add(graph.Info(values[v]) ?? throw new InvalidOperationException($"value '{values[v]}' has no shape"));
                output = graph.Outputs.Count - 1;
            }
            _source[v] = output;
        }
        _interpreter = new ModelInterpreter(PlanBuilder.Build(copy, "Capture", sourcePath, ""));
    }

    /// <summary>Runs one sample; returns the values as floats, in the order they were asked for.</summary>
    public float[][] Run(OnnxTensor[] inputs)
    {
        var outputs = _interpreter.Run(inputs);
        return _source.Select(s =>
        {
            var t = s >= 0 ? outputs[s] : inputs[~s];
            return ElementConversion.ToFloats(t.Type, t.Data);
        }).ToArray();
    }

    public void Dispose() => _interpreter.Dispose();
}
