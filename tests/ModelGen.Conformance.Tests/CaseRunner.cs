using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer;
using ModelGen.Runtime;

namespace ModelGen.Conformance.Tests;

/// <summary>
/// Runs one ONNX test-case folder (<c>model.onnx</c> + <c>test_data_set_0/input_N.pb</c>,
/// <c>output_N.pb</c>) the way a ModelGen user's model runs: through the optimizer (every pass,
/// planning and kernel binding) and the plan executor, then compares every output with
/// <see cref="TensorComparison"/>.
/// </summary>
internal static class CaseRunner
{
    /// <summary>Null when every output matches; otherwise why the case fails (a load, compile or run error, or a mismatch).</summary>
    public static string? Run(string caseDirectory)
    {
        try
        {
            return RunUnchecked(caseDirectory);
        }
        // ArgumentException: the interpreter refuses graph I/O of a type it cannot move (a product
        // gap, reported like any other failure so an expected-failure entry can name it).
        catch (Exception e) when (e is OnnxException or ModelGenException or ArgumentException)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
    }

    private static string? RunUnchecked(string caseDirectory)
    {
        string dataSet = Path.Combine(caseDirectory, "test_data_set_0");
        var model = OnnxLoader.Load(Path.Combine(caseDirectory, "model.onnx"));
        var graph = model.Graph;
        var inputs = graph.Inputs.Select((_, i) => OnnxLoader.LoadTensor(Path.Combine(dataSet, $"input_{i}.pb"))).ToList();
        var expected = graph.Outputs.Select((_, i) => OnnxLoader.LoadTensor(Path.Combine(dataSet, $"output_{i}.pb"))).ToList();

        // Compile for the test data's shapes; a declared shape may be symbolic.
        var feeds = new List<OnnxTensor>();
        var parameters = ParameterInputs.Find(graph);
        for (int i = graph.Inputs.Count - 1; i >= 0; i--)
        {
            var input = graph.Inputs[i];
            var value = inputs[i];
            if (parameters.Contains(input.Name))
            {
                graph.Inputs.RemoveAt(i);
                graph.Initializers[input.Name] = new OnnxTensor(input.Name, value.Type, value.Shape, value.Data);
            }
            else
            {
                input.Shape = value.Shape.Select(d => Dim.Of(d)).ToArray();
                feeds.Insert(0, new OnnxTensor(input.Name, value.Type, value.Shape, value.Data));
            }
        }
        foreach (var output in graph.Outputs) output.Shape = null;

        string file = Path.Combine(Path.GetTempPath(), $"modelgen-conformance-{Guid.NewGuid():N}.onnx");
        try
        {
            OnnxWriter.Save(model, file);
            // Fallback=Error: the suite measures ModelGen's own kernels, never ONNX Runtime behind the fallback.
            var result = ModelOptimizer.Optimize(new OptimizeOptions(file, "", "Case") { Fallback = FallbackMode.Error });
            using var interpreter = result.CreateInterpreter();
            var actual = interpreter.Run(feeds.ToArray());
            if (actual.Length != expected.Count) return $"{actual.Length} outputs, expected {expected.Count}";
            var problems = new List<string>();
            for (int i = 0; i < expected.Count; i++)
            {
                if (TensorComparison.Difference(expected[i], actual[i]) is { } difference)
                {
                    problems.Add($"output {i} ('{graph.Outputs[i].Name}'): {difference}");
                }
            }
            return problems.Count == 0 ? null : string.Join("; ", problems);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
