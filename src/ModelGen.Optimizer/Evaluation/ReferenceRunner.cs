using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// ONNX Runtime running the ORIGINAL model file: the reference the accuracy gate compares the
/// optimized model against. One session, basic graph optimizations only (exact rewrites) and a
/// single thread, so results are reproducible run to run and machine to machine.
/// Dispose it when done: it holds native ONNX Runtime memory.
/// </summary>
public sealed class ReferenceRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string _modelPath;
    private readonly string[] _outputNames;

    /// <summary>Loads <paramref name="modelPath"/> into ONNX Runtime.</summary>
    /// <exception cref="OnnxException">MG1001 when the file is missing; MG1023 when ONNX Runtime cannot load it.</exception>
    public ReferenceRunner(string modelPath)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        _modelPath = modelPath;
        if (!File.Exists(modelPath))
        {
            throw new OnnxException(ErrorCodes.FileNotFound, $"the model file '{modelPath}' does not exist; check the path", modelPath);
        }
        using var options = new SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_BASIC,
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        try
        {
            _session = new InferenceSession(modelPath, options);
        }
        catch (OnnxRuntimeException e)
        {
            _runOptions.Dispose();
            throw new OnnxException(EvaluationErrors.ReferenceRuntimeFailed,
                $"ONNX Runtime (the reference for the accuracy check) cannot load '{modelPath}': {e.Message}", modelPath, e);
        }
        // ORT lists only the real inputs (not initializers that IR < 4 models also list as inputs).
        InputNames = _session.InputNames.ToArray();
        _outputNames = _session.OutputNames.ToArray();
        OutputNames = _outputNames;
    }

    /// <summary>The model's real inputs as ONNX Runtime sees them, in graph order.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>The model's outputs, in graph order.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>
    /// Runs the original model once. Inputs are matched by <see cref="OnnxTensor.Name"/>; every
    /// output comes back in graph order, converted to float32 whatever its element type.
    /// </summary>
    /// <exception cref="OnnxException">MG1023 when ONNX Runtime fails (its message is included).</exception>
    public float[][] Run(OnnxTensor[] inputs) => Run(inputs, null);

    /// <summary>As <see cref="Run(OnnxTensor[])"/>; also fills <paramref name="shapes"/> (one per output) when given.</summary>
    internal float[][] Run(OnnxTensor[] inputs, int[][]? shapes)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var names = new string[inputs.Length];
        var values = new OrtValue[inputs.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                names[i] = inputs[i].Name;
                values[i] = ToOrtValue(inputs[i]);
            }
            using var results = _session.Run(_runOptions, names, values, _outputNames);
            var outputs = new float[results.Count][];
            for (int o = 0; o < results.Count; o++)
            {
                outputs[o] = ToFloats(results[o], OutputNames[o]);
                if (shapes is not null) shapes[o] = Array.ConvertAll(results[o].GetTensorTypeAndShape().Shape, d => checked((int)d));
            }
            return outputs;
        }
        catch (OnnxRuntimeException e)
        {
            throw new OnnxException(EvaluationErrors.ReferenceRuntimeFailed,
                $"ONNX Runtime (the reference for the accuracy check) failed to run '{_modelPath}': {e.Message}", _modelPath, e);
        }
        finally
        {
            foreach (var v in values) v?.Dispose();
        }
    }

    private static OrtValue ToOrtValue(OnnxTensor tensor)
    {
        var type = tensor.Type switch
        {
            ElementType.Float => TensorElementType.Float,
            ElementType.Double => TensorElementType.Double,
            ElementType.Float16 => TensorElementType.Float16,
            ElementType.Int8 => TensorElementType.Int8,
            ElementType.Int16 => TensorElementType.Int16,
            ElementType.Int32 => TensorElementType.Int32,
            ElementType.Int64 => TensorElementType.Int64,
            ElementType.UInt8 => TensorElementType.UInt8,
            ElementType.UInt16 => TensorElementType.UInt16,
            ElementType.UInt32 => TensorElementType.UInt32,
            ElementType.UInt64 => TensorElementType.UInt64,
            ElementType.Bool => TensorElementType.Bool,
            _ => throw new ArgumentOutOfRangeException(nameof(tensor), tensor.Type, "element type not supported by the reference runner"),
        };
        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, Array.ConvertAll(tensor.Shape, d => (long)d));
        tensor.Data.CopyTo(value.GetTensorMutableRawData());
        return value;
    }

    private float[] ToFloats(OrtValue value, string name)
    {
        if (!value.IsTensor)
        {
            throw new OnnxException(EvaluationErrors.ReferenceRuntimeFailed,
                $"output '{name}' of '{_modelPath}' is a {value.OnnxType}, not a tensor; the accuracy check compares tensor outputs only", _modelPath);
        }
        var type = value.GetTensorTypeAndShape().ElementDataType switch
        {
            TensorElementType.Float => ElementType.Float,
            TensorElementType.Double => ElementType.Double,
            TensorElementType.Float16 => ElementType.Float16,
            TensorElementType.Int8 => ElementType.Int8,
            TensorElementType.Int16 => ElementType.Int16,
            TensorElementType.Int32 => ElementType.Int32,
            TensorElementType.Int64 => ElementType.Int64,
            TensorElementType.UInt8 => ElementType.UInt8,
            TensorElementType.UInt16 => ElementType.UInt16,
            TensorElementType.UInt32 => ElementType.UInt32,
            TensorElementType.UInt64 => ElementType.UInt64,
            TensorElementType.Bool => ElementType.Bool,
            var other => throw new OnnxException(EvaluationErrors.ReferenceRuntimeFailed,
                $"output '{name}' of '{_modelPath}' has element type {other}, which the accuracy check cannot compare", _modelPath),
        };
        // The raw view: GetTensorDataAsSpan<T> insists that T matches the element type.
        return ElementConversion.ToFloats(type, value.GetTensorMutableRawData());
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
