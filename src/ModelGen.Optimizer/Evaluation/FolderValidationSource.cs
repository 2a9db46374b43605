using System.Globalization;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// Builds a <see cref="ValidationSet"/> from ONNX test-data folders: <c>test_data_set_0</c>,
/// <c>test_data_set_1</c>, … each holding one sample as <c>input_N.pb</c> TensorProtos in graph
/// input order and optionally the expected <c>output_N.pb</c>. A folder that itself holds
/// <c>input_0.pb</c> is taken as a single sample.
/// </summary>
internal static class FolderValidationSource
{
    private const string SetPrefix = "test_data_set_";

    public static ValidationSet Load(string path, IReadOnlyList<TensorInfo> modelInputs)
    {
        var sets = FindSets(path);
        if (sets.Count == 0)
        {
            throw Mismatch(path, $"the folder '{path}' holds no {SetPrefix}* folders (and no input_0.pb), so it has zero samples; " +
                "put one folder per sample with input_N.pb files, or give an .npz file");
        }

        var inputs = new TensorInfo[modelInputs.Count];
        var data = new byte[modelInputs.Count][];
        var outputs = new List<OnnxTensor[]>(sets.Count);
        for (int s = 0; s < sets.Count; s++)
        {
            string set = sets[s];
            int extra = modelInputs.Count;
            if (File.Exists(Path.Combine(set, $"input_{extra}.pb")))
            {
                throw Shape(set, $"'{set}' has input_{extra}.pb but the model has only {modelInputs.Count} input(s); remove the extra files or check the model");
            }
            for (int i = 0; i < modelInputs.Count; i++)
            {
                var input = modelInputs[i];
                string file = Path.Combine(set, $"input_{i}.pb");
                if (!File.Exists(file))
                {
                    throw new OnnxException(EvaluationErrors.InputArrayMissing, $"'{set}' has no input_{i}.pb for the model input '{input.Name}' (input {i}); every {SetPrefix}* folder needs one file per model input", set);
                }
                var tensor = LoadTensor(file);
                if (inputs[i] is null)
                {
                    int[]? shape = input.Shape is null ? null : SampleShapes.FromSingle(input.Shape, tensor.Shape);
                    if (shape is null)
                    {
                        throw Shape(file, $"'{file}' holds a tensor of shape {ValidationSet.Describe(tensor.Shape)}, which does not fit the model input {input} (batch 1)");
                    }
                    inputs[i] = TensorInfo.Static(input.Name, input.Type, shape);
                    data[i] = new byte[checked(sets.Count * tensor.ElementCount * input.Type.SizeOf())];
                }
                var expected = inputs[i].StaticShape();
                if (SampleShapes.FromSingle(input.Shape!, tensor.Shape) is not { } fits || !fits.AsSpan().SequenceEqual(expected))
                {
                    throw Shape(file, $"'{file}' holds a tensor of shape {ValidationSet.Describe(tensor.Shape)} but the first sample's input '{input.Name}' " +
                        $"was {ValidationSet.Describe(expected)}; every sample needs the same shape");
                }
                FiniteCheck.Require(tensor.Type, tensor.Data, tensor.Shape, stacked: false, $"'{file}' (model input '{input.Name}')", file);
                int sampleBytes = data[i].Length / sets.Count;
                Store(tensor, input, file, data[i].AsSpan(s * sampleBytes, sampleBytes));
            }
            outputs.Add(LoadOutputs(set));
        }
        return new ValidationSet(path, inputs, data, sets.Count, null, outputs);
    }

    private static List<string> FindSets(string path)
    {
        if (File.Exists(Path.Combine(path, "input_0.pb"))) return [path];
        return Directory.GetDirectories(path, SetPrefix + "*")
            .OrderBy(d => int.TryParse(Path.GetFileName(d).AsSpan(SetPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : int.MaxValue)
            .ThenBy(d => d, StringComparer.Ordinal)
            .ToList();
    }

    private static void Store(OnnxTensor tensor, TensorInfo input, string file, Span<byte> destination)
    {
        if (!ElementConversion.CanConvert(tensor.Type, input.Type))
        {
            throw Mismatch(file, $"'{file}' holds {tensor.Type.ToOnnxName()} data but the model input '{input.Name}' is {input.Type.ToOnnxName()}; " +
                "floating-point data cannot feed an integer input");
        }
        try
        {
            ElementConversion.Convert(tensor.Type, tensor.Data, input.Type, destination);
        }
        catch (OverflowException)
        {
            throw Mismatch(file, $"'{file}' holds a value that does not fit the model input's {input.Type.ToOnnxName()}");
        }
    }

    private static OnnxTensor[] LoadOutputs(string set)
    {
        var outputs = new List<OnnxTensor>();
        for (int n = 0; File.Exists(Path.Combine(set, $"output_{n}.pb")); n++)
        {
            outputs.Add(LoadTensor(Path.Combine(set, $"output_{n}.pb")));
        }
        return outputs.ToArray();
    }

    // The loader's codes are about model files; here a missing or corrupt tensor file is a data problem.
    private static OnnxTensor LoadTensor(string file)
    {
        try
        {
            return OnnxLoader.LoadTensor(file);
        }
        catch (OnnxException e)
        {
            string code = e.Code == ErrorCodes.FileNotFound ? EvaluationErrors.DataFileMissing : EvaluationErrors.DataFileMalformed;
            throw new OnnxException(code, $"validation data '{file}': {e.Message}", file, e);
        }
    }

    private static OnnxException Mismatch(string file, string message) => new(EvaluationErrors.DataMismatch, message, file);

    private static OnnxException Shape(string file, string message) => new(EvaluationErrors.SampleShapeMismatch, message, file);
}
