using ModelGen.Tests;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Tests.Pruning;

/// <summary>
/// The pruning tests' models and data, made by project code from the real MNIST test set
/// (../shared/testdata/real): an MLP (the sample's Digits.Trainer perceptron, 784-128-10) and a
/// small CNN, each trained once per test run on images 0–5,999; calibration data is images
/// 6,000–7,999 and validation data (with labels) images 8,000–8,999, so neither overlaps training.
/// </summary>
internal static class TrainedModels
{
    public const int TrainCount = 6000, CalibrationStart = 6000, CalibrationCount = 2000, ValidationStart = 8000, ValidationCount = 1000;

    private static readonly string s_dir = TempFolder.UntilProcessExit("modelgen-pruning-").Path;
    private static readonly Lazy<string> s_mlp = new(TrainMlp);
    private static readonly Lazy<string> s_cnn = new(TrainCnn);
    private static readonly Lazy<(string Mlp, string Cnn)> s_calibration = new(() => (Data("mlp-calibration.npz", "pixels", [784], CalibrationStart, CalibrationCount),
        Data("cnn-calibration.npz", "image", [1, 28, 28], CalibrationStart, CalibrationCount)));
    private static readonly Lazy<(string Mlp, string Cnn)> s_validation = new(() => (Data("mlp-validation.npz", "pixels", [784], ValidationStart, ValidationCount),
        Data("cnn-validation.npz", "image", [1, 28, 28], ValidationStart, ValidationCount)));

    /// <summary>The trained MLP (.onnx): input "pixels" [1,784] in [0,1], output "probabilities" [1,10].</summary>
    public static string Mlp => s_mlp.Value;

    /// <summary>The trained CNN (.onnx): input "image" [1,1,28,28] in [0,1], output "logits" [1,10].</summary>
    public static string Cnn => s_cnn.Value;

    public static string MlpCalibration => s_calibration.Value.Mlp;
    public static string CnnCalibration => s_calibration.Value.Cnn;
    public static string MlpValidation => s_validation.Value.Mlp;
    public static string CnnValidation => s_validation.Value.Cnn;

    /// <summary>Image <paramref name="i"/> of the MNIST test set as floats in [0,1].</summary>
    public static float[] Pixels(int i) => Array.ConvertAll(MnistData.Images[i], b => b / 255f);

    private static string TrainMlp()
    {
        var net = new Digits.Trainer.Mlp(seed: 20261123);
        var train = Enumerable.Range(0, TrainCount).Select(Pixels).ToArray();
        var labels = MnistData.Labels.Take(TrainCount).Select(l => (int)l).ToArray();
        var order = Enumerable.Range(0, TrainCount).ToArray();
        var rng = new Random(7);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            rng.Shuffle(order);
            for (int start = 0; start + 32 <= order.Length; start += 32)
            {
                var idx = order.AsSpan(start, 32).ToArray();
                net.TrainBatch(idx.Select(i => train[i]).ToList(), idx.Select(i => labels[i]).ToList(), epoch == 0 ? 0.1f : 0.03f, 0.9f);
            }
        }
        var b = new GraphBuilder("mlp", opset: 13);
        string x = b.Input("pixels", ElementType.Float, 1, 784);
        string h = b.Node("Gemm", [x, b.Initializer("fc1.weight", [128, 784], net.W1), b.Initializer("fc1.bias", [128], net.B1)], OnnxAttribute.OfInt("transB", 1));
        h = b.Node("Relu", [h]);
        string y = b.Node("Gemm", [h, b.Initializer("fc2.weight", [10, 128], net.W2), b.Initializer("fc2.bias", [10], net.B2)], OnnxAttribute.OfInt("transB", 1));
        b.Output(b.NamedNode("Softmax", [y], "probabilities", OnnxAttribute.OfInt("axis", 1)));
        return Save(b.Build(), "mlp.onnx");
    }

    private static string TrainCnn()
    {
        var net = new SmallCnn(seed: 5);
        var train = Enumerable.Range(0, TrainCount).Select(Pixels).ToArray();
        var labels = MnistData.Labels.Take(TrainCount).Select(l => (int)l).ToArray();
        var order = Enumerable.Range(0, TrainCount).ToArray();
        var rng = new Random(11);
        for (int epoch = 0; epoch < 2; epoch++)
        {
            rng.Shuffle(order);
            for (int start = 0; start + 16 <= order.Length; start += 16)
            {
                var idx = order.AsSpan(start, 16).ToArray();
                net.TrainBatch(idx.Select(i => train[i]).ToList(), idx.Select(i => labels[i]).ToList(), epoch == 0 ? 0.05f : 0.02f, 0.9f);
            }
        }
        var b = new GraphBuilder("cnn", opset: 13);
        string x = b.Input("image", ElementType.Float, 1, 1, 28, 28);
        var conv = new[] { OnnxAttribute.OfInts("kernel_shape", 3, 3), OnnxAttribute.OfInts("pads", 1, 1, 1, 1) };
        var pool = new[] { OnnxAttribute.OfInts("kernel_shape", 2, 2), OnnxAttribute.OfInts("strides", 2, 2) };
        string c = b.Node("Conv", [x, b.Initializer("conv1.weight", [SmallCnn.C1, 1, 3, 3], net.W1), b.Initializer("conv1.bias", [SmallCnn.C1], net.B1)], conv);
        c = b.Node("MaxPool", [b.Node("Relu", [c])], pool);
        c = b.Node("Conv", [c, b.Initializer("conv2.weight", [SmallCnn.C2, SmallCnn.C1, 3, 3], net.W2), b.Initializer("conv2.bias", [SmallCnn.C2], net.B2)], conv);
        c = b.Node("MaxPool", [b.Node("Relu", [c])], pool);
        c = b.Node("Flatten", [c], OnnxAttribute.OfInt("axis", 1));
        b.Output(b.NamedNode("Gemm", [c, b.Initializer("fc.weight", [10, SmallCnn.Flat], net.W3), b.Initializer("fc.bias", [10], net.B3)], "logits",
            OnnxAttribute.OfInt("transB", 1)));
        return Save(b.Build(), "cnn.onnx");
    }

    private static string Save(OnnxModel model, string name)
    {
        string path = Path.Combine(s_dir, name);
        OnnxWriter.Save(model, path);
        return path;
    }

    private static string Data(string name, string input, int[] sampleShape, int start, int count)
    {
        var pixels = new float[count * 784];
        for (int i = 0; i < count; i++) Pixels(start + i).CopyTo(pixels, i * 784);
        var labels = Enumerable.Range(start, count).Select(i => (long)MnistData.Labels[i]).ToArray();
        string path = Path.Combine(s_dir, name);
        Npz.Write(path, [(input, NpyArray.FromFloats([count, .. sampleShape], pixels)), ("labels", NpyArray.From(ElementType.Int64, [count], labels.AsSpan()))]);
        return path;
    }
}
