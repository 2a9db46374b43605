using System.Diagnostics;
using ModelGen.Tests;

namespace ModelGen.Conformance.Tests;

/// <summary>
/// ONNX's four "light" real-architecture models (IR 3, opset 9; the weights are ConstantOfShape
/// fills, so the models are small files but full-size networks): each is compiled by the
/// optimizer, run by the plan executor on <c>test_data_set_0/input_0.pb</c> and compared with
/// <c>output_0.pb</c> at rtol = 1e-3, atol = 1e-7 (<see cref="TensorComparison"/>).
/// </summary>
public class LightModelTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("light_bvlc_alexnet")]
    [InlineData("light_squeezenet")]
    [InlineData("light_resnet50")]
    [InlineData("light_vgg19")]
    public void ModelMatchesOnnxExpectedOutput(string name)
    {
        string dir = TestData.Require(Path.Combine("onnx-light", name));
        var clock = Stopwatch.StartNew();
        string? failure = CaseRunner.Run(dir);
        output.WriteLine($"{name}: compiled and ran in {clock.Elapsed.TotalSeconds:F1} s, peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / (1 << 20)} MiB");
        Assert.True(failure is null, $"{name}: {failure}");
    }
}
