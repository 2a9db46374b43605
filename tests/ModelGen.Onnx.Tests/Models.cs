using ModelGen.Tests;

namespace ModelGen.Onnx.Tests;

/// <summary>Paths of the shared test models used by several test classes.</summary>
internal static class Models
{
    public static readonly string[] Light = ["light_bvlc_alexnet", "light_squeezenet", "light_resnet50", "light_vgg19"];

    public static string LightPath(string name) => TestData.Require($"onnx-light/{name}/model.onnx");

    public static string Real(string file) => TestData.Require($"real/{file}");

    /// <summary>Every onnx-node case folder (requires the shared data).</summary>
    public static string[] NodeCases() =>
        Directory.GetDirectories(TestData.Require("onnx-node")).OrderBy(d => d, StringComparer.Ordinal).ToArray();
}
