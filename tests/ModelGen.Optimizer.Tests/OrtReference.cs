using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace ModelGen.Optimizer.Tests;

/// <summary>ONNX Runtime as the reference: runs a model file on float inputs.</summary>
internal static class OrtReference
{
    // Sessions are cached per file (and write time): creating one costs milliseconds.
    private static readonly Dictionary<(string, DateTime), InferenceSession> s_sessions = new();

    public static float[][] Run(string modelPath, params (string Name, int[] Shape, float[] Data)[] inputs)
    {
        InferenceSession session;
        lock (s_sessions)
        {
            var key = (Path.GetFullPath(modelPath), File.GetLastWriteTimeUtc(modelPath));
            if (!s_sessions.TryGetValue(key, out session!))
            {
                using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_DISABLE_ALL };
                s_sessions[key] = session = new InferenceSession(modelPath, options);
            }
        }
        var feeds = inputs.Select(i => NamedOnnxValue.CreateFromTensor(i.Name, new DenseTensor<float>(i.Data, i.Shape))).ToList();
        using var results = session.Run(feeds);
        return session.OutputNames
            .Select(name => results.First(r => r.Name == name).AsTensor<float>().ToArray())
            .ToArray();
    }
}

/// <summary>Tolerance checks that say where and by how much two results differ.</summary>
internal static class Compare
{
    /// <summary>|a − e| ≤ atol + rtol·|e| elementwise.</summary>
    public static void Close(float[] expected, float[] actual, float rtol, float atol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (float.IsNaN(e) && float.IsNaN(a)) continue;
            if (MathF.Abs(a - e) > atol + rtol * MathF.Abs(e))
            {
                Assert.Fail($"{what}: element {i} is {a}, expected {e} (|diff| {MathF.Abs(a - e)}, rtol {rtol}, atol {atol})");
            }
        }
    }

    /// <summary>
    /// The norm-wise relative error max|a − e| / max|e| (∞-norms) of a whole tensor. Per-element
    /// relative error is meaningless for elements near zero, where float32 summation order alone
    /// moves the last digits; relative to the tensor's scale it is the standard measure.
    /// </summary>
    public static double MaxRelativeError(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        double diff = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            diff = Math.Max(diff, Math.Abs((double)actual[i] - expected[i]));
            scale = Math.Max(scale, Math.Abs((double)expected[i]));
        }
        return scale == 0 ? diff : diff / scale;
    }
}
