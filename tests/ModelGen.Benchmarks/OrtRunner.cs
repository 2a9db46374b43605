using Microsoft.ML.OnnxRuntime;

namespace ModelGen.Benchmarks;

/// <summary>
/// The ONNX Runtime side, at its best on the CPU: every graph optimization
/// (<see cref="GraphOptimizationLevel.ORT_ENABLE_ALL"/>), one intra-op thread per core, and
/// <see cref="OrtValue"/>s over pinned, pre-allocated arrays bound once with an
/// <see cref="OrtIoBinding"/>, so a call is just <c>RunWithBinding</c>.
/// </summary>
internal sealed class OrtRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtIoBinding _binding;
    private readonly List<OrtValue> _values = new();

    /// <summary>Loads <paramref name="modelPath"/> and binds <paramref name="inputs"/> and one output buffer per output.</summary>
    /// <param name="modelPath">The .onnx file ONNX Runtime runs.</param>
    /// <param name="inputs">Input name, shape and data, in any order (matched by name).</param>
    /// <param name="outputs">Output name and shape; the buffers are made here.</param>
    /// <param name="profilePrefix">When set, ONNX Runtime's own per-node profiler writes to files with this prefix (<see cref="EndProfiling"/>).</param>
    /// <param name="optimization">The graph optimizations: all (its best, for timing) unless a reference run asks for none.</param>
    public OrtRunner(string modelPath, IReadOnlyList<(string Name, int[] Shape, float[] Data)> inputs, IReadOnlyList<(string Name, int[] Shape)> outputs,
        string? profilePrefix = null, GraphOptimizationLevel optimization = GraphOptimizationLevel.ORT_ENABLE_ALL)
    {
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = optimization,
            IntraOpNumThreads = Environment.ProcessorCount,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        if (profilePrefix is not null)
        {
            // The prefix first: enabling profiling takes the prefix set at that moment.
            options.ProfileOutputPathPrefix = profilePrefix;
            options.EnableProfiling = true;
        }
        try
        {
            _session = new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            _runOptions.Dispose();
            throw new InvalidOperationException($"ONNX Runtime cannot load '{modelPath}': {e.Message}", e);
        }
        _binding = _session.CreateIoBinding();
        foreach (var (name, shape, data) in inputs)
        {
            if (!_session.InputNames.Contains(name))
            {
                throw new InvalidOperationException($"'{modelPath}': ONNX Runtime has no input '{name}' (it has {string.Join(", ", _session.InputNames)})");
            }
            _binding.BindInput(name, Pin(data, shape));
        }
        Outputs = new float[outputs.Count][];
        for (int o = 0; o < outputs.Count; o++)
        {
            var (name, shape) = outputs[o];
            if (!_session.OutputNames.Contains(name))
            {
                throw new InvalidOperationException($"'{modelPath}': ONNX Runtime has no output '{name}' (it has {string.Join(", ", _session.OutputNames)})");
            }
            Outputs[o] = new float[shape.Aggregate(1, (a, d) => a * d)];
            _binding.BindOutput(name, Pin(Outputs[o], shape));
        }
    }

    /// <summary>The bound output buffers, in the order given to the constructor; filled by <see cref="Invoke"/>.</summary>
    public float[][] Outputs { get; }

    /// <summary>Stops ONNX Runtime's profiler (see the constructor) and returns the JSON file it wrote.</summary>
    public string EndProfiling() => _session.EndProfiling();

    /// <summary>One run over the bound buffers.</summary>
    public void Invoke() => _session.RunWithBinding(_runOptions, _binding);

    private OrtValue Pin(float[] data, int[] shape)
    {
        // CreateTensorValueFromMemory pins the managed array for the OrtValue's lifetime: no copies per call.
        var value = OrtValue.CreateTensorValueFromMemory(data, Array.ConvertAll(shape, d => (long)d));
        _values.Add(value);
        return value;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _binding.Dispose();
        foreach (var v in _values) v.Dispose();
        _session.Dispose();
        _runOptions.Dispose();
    }
}
