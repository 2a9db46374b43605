using System.Runtime.InteropServices;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>Builds a <see cref="ValidationSet"/> from an .npz file: one array per model input plus optional labels.</summary>
internal static class NpzValidationSource
{
    public static ValidationSet Load(string path, IReadOnlyList<TensorInfo> modelInputs, string? labelsArray)
    {
        var wanted = new HashSet<string>(modelInputs.Select(i => i.Name), StringComparer.Ordinal);
        bool labelsAreInput = labelsArray is not null && wanted.Contains(labelsArray);
        if (labelsArray is not null) wanted.Add(labelsArray);
        var arrays = Npz.Read(path, wanted.Contains);

        var inputs = new TensorInfo[modelInputs.Count];
        var data = new byte[modelInputs.Count][];
        int count = -1;
        string? countFrom = null;
        for (int i = 0; i < modelInputs.Count; i++)
        {
            var input = modelInputs[i];
            if (!arrays.TryGetValue(input.Name, out var array))
            {
                string available = ListArrays(path);
                throw new OnnxException(EvaluationErrors.InputArrayMissing,
                    $"'{path}' has no array '{input.Name}' for the model input '{input.Name}' (it holds: {available}); " +
                    "save one array per model input, named after it, with the samples along the first axis", path);
            }
            if (input.Shape is null)
            {
                throw Shape(path, $"the model input '{input.Name}' has an unknown rank, so the array '{input.Name}' in '{path}' cannot be matched to it");
            }
            int[]? sampleShape = array.Shape.Length == 0 ? null : SampleShapes.FromStacked(input.Shape, array.Shape);
            if (sampleShape is null)
            {
                throw Shape(path,
                    $"array '{input.Name}' in '{path}' has shape {ValidationSet.Describe(array.Shape)}, which does not fit the model input {input}: " +
                    $"expected {SampleShapes.ExpectedStacked(input.Shape)} with S = the number of samples");
            }
            int samples = array.Shape[0];
            if (count >= 0 && samples != count)
            {
                throw Shape(path, $"array '{input.Name}' in '{path}' holds {samples} samples but array '{countFrom}' holds {count}; every array needs the same number of samples");
            }
            count = samples;
            countFrom = input.Name;
            inputs[i] = TensorInfo.Static(input.Name, input.Type, sampleShape);
            FiniteCheck.Require(array.Type, array.Data, array.Shape, stacked: true, $"array '{input.Name}' in '{path}'", path);
            data[i] = ConvertArray(array, input, path);
        }
        if (count == 0) throw Mismatch(path, $"'{path}' holds zero samples; the accuracy gate needs at least one");

        int[]? labels = null;
        if (labelsArray is not null && !labelsAreInput && arrays.TryGetValue(labelsArray, out var labelArray))
        {
            labels = ReadLabels(labelArray, labelsArray, count, countFrom!, path);
        }
        return new ValidationSet(path, inputs, data, count, labels, null);
    }

    private static byte[] ConvertArray(NpyArray array, TensorInfo input, string path)
    {
        if (array.Type == input.Type) return array.Data; // the common case: no copy
        if (!ElementConversion.CanConvert(array.Type, input.Type))
        {
            throw Mismatch(path,
                $"array '{input.Name}' in '{path}' is {array.Type.ToOnnxName()} but the model input is {input.Type.ToOnnxName()}; " +
                "floating-point data cannot feed an integer input, save the array with an integer dtype");
        }
        var converted = new byte[array.ElementCount * input.Type.SizeOf()];
        try
        {
            ElementConversion.Convert(array.Type, array.Data, input.Type, converted);
        }
        catch (OverflowException)
        {
            throw Mismatch(path, $"array '{input.Name}' in '{path}' holds a value that does not fit the model input's {input.Type.ToOnnxName()}");
        }
        return converted;
    }

    private static int[] ReadLabels(NpyArray array, string name, int count, string countFrom, string path)
    {
        if (ElementConversion.IsFloat(array.Type) || array.Type == ElementType.Bool)
        {
            throw Labels(path, $"the labels array '{name}' in '{path}' is {array.Type.ToOnnxName()}; labels must be integer class indices (e.g. labels.astype(np.int64))");
        }
        bool shapeOk = array.Shape.Length == 1 || (array.Shape.Length == 2 && array.Shape[1] == 1);
        if (!shapeOk || array.Shape[0] != count)
        {
            throw Labels(path,
                $"the labels array '{name}' in '{path}' has shape {ValidationSet.Describe(array.Shape)}; it needs one label per sample, shape ({count},), " +
                $"because array '{countFrom}' holds {count} samples");
        }
        var labels = new int[count];
        try
        {
            ElementConversion.Convert(array.Type, array.Data, ElementType.Int32, MemoryMarshal.AsBytes(labels.AsSpan()));
        }
        catch (OverflowException)
        {
            throw Labels(path, $"the labels array '{name}' in '{path}' holds a value outside the int32 range; labels must be class indices 0..K-1");
        }
        int negative = Array.FindIndex(labels, l => l < 0);
        if (negative >= 0)
        {
            throw Labels(path, $"the labels array '{name}' in '{path}' holds {labels[negative]} at sample {negative}; labels must be class indices 0..K-1");
        }
        return labels;
    }

    private static string ListArrays(string path)
    {
        var names = new List<string>();
        Npz.Read(path, name =>
        {
            names.Add(name);
            return false;
        });
        return names.Count == 0 ? "no arrays" : string.Join(", ", names.Select(n => $"'{n}'"));
    }

    private static OnnxException Mismatch(string path, string message) => new(EvaluationErrors.DataMismatch, message, path);

    private static OnnxException Shape(string path, string message) => new(EvaluationErrors.SampleShapeMismatch, message, path);

    private static OnnxException Labels(string path, string message) => new(EvaluationErrors.BadLabels, message, path);
}
