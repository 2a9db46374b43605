using ModelGen.Benchmarks;
using ModelGen.Onnx;
using ModelGen.Tests;

namespace ModelGen.Optimizer.Tests;

/// <summary>
/// ONNX's light SqueezeNet and ResNet-50 with seeded weights in place of their constant ones (<see cref="LightWeights"/>,
/// the benchmark's own), against ONNX Runtime. With the constant weights every channel is alike and the expected output
/// is a uniform softmax (the conformance suite's <c>LightModelTests</c> check loading, shapes and structure only); with
/// these, the convs, pools, concats, batch norms and residual adds of two real architectures are checked for numbers.
/// </summary>
public class SeededLightModelTests
{
    [Theory]
    [InlineData("light_squeezenet", "data_0")]
    [InlineData("light_resnet50", "gpu_0/data_0")]
    public void Matches_onnx_runtime_with_seeded_weights(string name, string inputName)
    {
        string source = TestData.Require(Path.Combine("onnx-light", name, "model.onnx"));
        using var folder = new TempFolder();
        string path = Path.Combine(folder.Path, name + ".onnx");
        OnnxWriter.Save(LightWeights.Randomize(OnnxLoader.Load(source), seed: 2026), path);

        var input = OnnxLoader.LoadTensor(Path.Combine(Path.GetDirectoryName(source)!, "test_data_set_0", "input_0.pb")).ToFloatArray();
        var result = ModelOptimizer.Optimize(new OptimizeOptions(path, "", "Light"));
        using var interpreter = result.CreateInterpreter();
        var ours = interpreter.RunFloats(input)[0];
        var reference = OrtReference.Run(path, (inputName, new[] { 1, 3, 224, 224 }, input))[0];

        // The check has teeth: the reference softmax is far from uniform (the constant weights give 0.001 everywhere).
        Assert.True(reference.Max() > 0.005f && reference.Distinct().Count() > 500,
            $"{name}: the seeded reference output is degenerate (max {reference.Max()}, {reference.Distinct().Count()} distinct values)");
        // Norm-wise relative error, the benchmark's fp32 tolerance.
        double error = Compare.MaxRelativeError(reference, ours);
        Assert.True(error <= 1e-4, $"{name}: max relative error against ONNX Runtime {error:E2}");
    }
}
