using ModelGen.Onnx;

namespace ModelGen.Optimizer.Tests.Pruning;

/// <summary>Runs an optimized model both ways: ONNX Runtime on the written .onnx and our executor on the plan that ships.</summary>
internal static class PruningTestHelpers
{
    /// <summary>The largest |ORT − ModelGen| over <paramref name="count"/> validation images.</summary>
    public static double MaxDifference(OptimizeResult result, string onnxPath, string input, int[] shape, int count)
    {
        using var interpreter = result.CreateInterpreter();
        double max = 0;
        for (int i = 0; i < count; i++)
        {
            var x = TrainedModels.Pixels(TrainedModels.ValidationStart + i);
            var ort = OrtReference.Run(onnxPath, (input, shape, x))[0];
            var ours = interpreter.RunFloats(x)[0];
            Assert.Equal(ort.Length, ours.Length);
            for (int k = 0; k < ort.Length; k++) max = Math.Max(max, Math.Abs(ort[k] - ours[k]));
        }
        return max;
    }

    /// <summary>Mean squared difference between the original model (ONNX Runtime) and the optimized plan (our executor).</summary>
    public static double OutputMse(string original, OptimizeResult result, string input, int[] shape, int count)
    {
        using var interpreter = result.CreateInterpreter();
        double sum = 0;
        long n = 0;
        for (int i = 0; i < count; i++)
        {
            var x = TrainedModels.Pixels(TrainedModels.ValidationStart + i);
            var reference = OrtReference.Run(original, (input, shape, x))[0];
            var ours = interpreter.RunFloats(x)[0];
            for (int k = 0; k < reference.Length; k++, n++) sum += (reference[k] - ours[k]) * (double)(reference[k] - ours[k]);
        }
        return sum / n;
    }

    /// <summary>Top-1 accuracy of the plan on the validation images.</summary>
    public static double Top1(OptimizeResult result, int count)
    {
        using var interpreter = result.CreateInterpreter();
        int correct = 0;
        for (int i = 0; i < count; i++)
        {
            var y = interpreter.RunFloats(TrainedModels.Pixels(TrainedModels.ValidationStart + i))[0];
            if (Array.IndexOf(y, y.Max()) == MnistData.Labels[TrainedModels.ValidationStart + i]) correct++;
        }
        return (double)correct / count;
    }

    /// <summary>The initializers of a written .onnx.</summary>
    public static Dictionary<string, ModelGen.Onnx.Ir.OnnxTensor> Initializers(string onnxPath) =>
        OnnxLoader.Load(File.ReadAllBytes(onnxPath), Path.GetDirectoryName(onnxPath), onnxPath).Graph.Initializers;
}
