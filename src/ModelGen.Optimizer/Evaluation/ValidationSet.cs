using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// The user's validation data, one sample per model run: for every model input the sample's
/// tensor (batch 1, the model's element type) and, optionally, an integer class label.
/// Samples are kept in one contiguous, already converted buffer per input, so that
/// <see cref="Sample"/> is a slice copy.
/// </summary>
public sealed class ValidationSet
{
    private readonly byte[][] _data;
    private readonly int[] _sampleBytes;

    internal ValidationSet(string path, IReadOnlyList<TensorInfo> inputs, byte[][] data, int count,
        int[]? labels, IReadOnlyList<OnnxTensor[]>? recordedOutputs)
    {
        Path = path;
        Inputs = inputs;
        _data = data;
        Count = count;
        Labels = labels;
        RecordedOutputs = recordedOutputs;
        _sampleBytes = inputs.Select(i => checked((int)(NpyArray.CountOf(i.StaticShape()) * i.Type.SizeOf()))).ToArray();
    }

    /// <summary>The file or folder the data came from.</summary>
    public string Path { get; }

    /// <summary>Number of samples.</summary>
    public int Count { get; }

    /// <summary>The class label of each sample, or null when the data has none.</summary>
    public int[]? Labels { get; }

    /// <summary>
    /// The model inputs as fed: name, element type and the static per-sample shape (batch 1;
    /// symbolic dimensions resolved from the data).
    /// </summary>
    public IReadOnlyList<TensorInfo> Inputs { get; }

    /// <summary>
    /// For the folder form, the <c>output_N.pb</c> tensors of each <c>test_data_set_*</c> (in output
    /// order; empty arrays where a set has none); null for .npz data.
    /// </summary>
    public IReadOnlyList<OnnxTensor[]>? RecordedOutputs { get; }

    /// <summary>The tensors of sample <paramref name="index"/>, one per model input in graph order.</summary>
    public OnnxTensor[] Sample(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, Count);
        var tensors = new OnnxTensor[Inputs.Count];
        for (int i = 0; i < tensors.Length; i++)
        {
            int size = _sampleBytes[i];
            var bytes = _data[i].AsSpan((int)((long)index * size), size).ToArray();
            tensors[i] = new OnnxTensor(Inputs[i].Name, Inputs[i].Type, Inputs[i].StaticShape(), bytes);
        }
        return tensors;
    }

    /// <summary>
    /// Loads validation data for a model with inputs <paramref name="modelInputs"/> (graph order).
    /// <paramref name="path"/> is either
    /// <list type="bullet">
    /// <item>an <c>.npz</c> file with one array per model input, named after it, samples stacked
    /// along a new first axis: an input <c>[1,C,H,W]</c> takes <c>[S,C,H,W]</c> (or <c>[S,1,C,H,W]</c>),
    /// an input <c>[C,H,W]</c> takes <c>[S,C,H,W]</c>; plus an optional integer array
    /// <paramref name="labelsArray"/> of shape <c>[S]</c> (or <c>[S,1]</c>); or</item>
    /// <item>a folder of ONNX test-data folders <c>test_data_set_*</c>, each holding one sample as
    /// <c>input_N.pb</c> TensorProtos in graph input order (and optionally <c>output_N.pb</c>,
    /// exposed as <see cref="RecordedOutputs"/>); a single such folder works too.</item>
    /// </list>
    /// Data is converted to each input's element type as <see cref="ElementConversion"/> describes.
    /// Float data must be finite: NaN or infinity is refused on load, naming the array and the first bad element.
    /// </summary>
    /// <exception cref="OnnxException">
    /// MG1020 missing path; MG1021 malformed file; MG1024 no array for an input; MG1025 a per-sample
    /// shape or sample count that does not fit; MG1026 NaN or infinity; MG1027 bad labels; MG1022
    /// other data that cannot feed the model (element type, value range, zero samples).
    /// </exception>
    public static ValidationSet Load(string path, IReadOnlyList<TensorInfo> modelInputs, string? labelsArray = "labels")
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(modelInputs);
        if (modelInputs.Count == 0)
        {
            throw new OnnxException(EvaluationErrors.DataMismatch, "the model has no inputs, so there is nothing to feed validation data to", path);
        }
        if (Directory.Exists(path)) return FolderValidationSource.Load(path, modelInputs);
        if (!File.Exists(path))
        {
            throw new OnnxException(EvaluationErrors.DataFileMissing,
                $"the validation data '{path}' does not exist; give an .npz file or a folder of test_data_set_* folders (relative paths are taken from the project folder)", path);
        }
        return NpzValidationSource.Load(path, modelInputs, labelsArray);
    }

    internal static string Describe(int[] shape) => "(" + string.Join(", ", shape) + (shape.Length == 1 ? ",)" : ")");
}
