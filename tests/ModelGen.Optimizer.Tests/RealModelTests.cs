using ModelGen.Tests;

namespace ModelGen.Optimizer.Tests;

/// <summary>
/// The two real pretrained MNIST models from ../shared/testdata/real: the ONNX model zoo's
/// mnist-8 (IR 3, initializers listed as inputs, Conv with auto_pad SAME_UPPER + Add +
/// Relu + MaxPool twice, Reshape, MatMul, Add) and onnx-mlir's MLP (MaxPool, Reshape by a
/// Constant, Gemm, Relu, Gemm, Softmax). Checked against ONNX Runtime on real images and
/// against their published accuracy on all 10,000 test images.
/// </summary>
public class RealModelTests
{
    private static float[] Preprocess(byte[] image, bool normalize) =>
        Array.ConvertAll(image, b => normalize ? (b / 255f - 0.1307f) / 0.3081f : b / 255f);

    [Theory]
    [InlineData("real/mnist-8.onnx", "Input3", false, 9890)]
    [InlineData("real/onnx-mlir-mnist-mlp.onnx", "image", true, 9254)]
    public void Matches_onnx_runtime_and_the_published_accuracy(string file, string inputName, bool normalize, int publishedCorrect)
    {
        string path = TestData.Require(file);
        var result = ModelOptimizer.Optimize(new OptimizeOptions(path, "", "Mnist"));
        using var interpreter = result.CreateInterpreter();
        Assert.Single(interpreter.Inputs);
        Assert.Equal(inputName, interpreter.Inputs[0].Name); // weights listed as inputs are not inputs
        Assert.Equal(new[] { 1, 1, 28, 28 }, interpreter.Inputs[0].Shape);

        int correct = 0, agree = 0, checkedAgainstOrt = 0;
        double worst = 0;
        for (int i = 0; i < MnistData.Images.Length; i++)
        {
            var x = Preprocess(MnistData.Images[i], normalize);
            var ours = interpreter.RunFloats(x)[0];
            int predicted = ArgMax(ours);
            if (predicted == MnistData.Labels[i]) correct++;
            // ONNX Runtime on every 10th image: same numbers (norm-wise relative error <= 1e-4), same class.
            if (i % 10 == 0)
            {
                var reference = OrtReference.Run(path, (inputName, new[] { 1, 1, 28, 28 }, x))[0];
                worst = Math.Max(worst, Compare.MaxRelativeError(reference, ours));
                if (ArgMax(reference) == predicted) agree++;
                checkedAgainstOrt++;
            }
        }
        Assert.True(worst <= 1e-4, $"max relative error against ONNX Runtime {worst:E2}");
        Assert.Equal(checkedAgainstOrt, agree);
        // The published accuracy, give or take a couple of borderline images decided by float rounding.
        Assert.InRange(correct, publishedCorrect - 3, publishedCorrect + 3);
    }

    private static int ArgMax(float[] v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
