using Microsoft.ML.OnnxRuntime;
using ModelGen.Build.Tests.Integration;

namespace ModelGen.Build.Tests.Unit;

/// <summary>The hand-encoded test models are what the integration tests say they are, per ORT.</summary>
public class TestModelsTests
{
    [Fact]
    public void SmallCnnAndTinyMlpRunInOnnxRuntime()
    {
        using var cnn = new InferenceSession(TestModels.SmallCnn().Encode());
        using var input = OrtValue.CreateTensorValueFromMemory(new float[64], [1, 1, 8, 8]);
        using var output = cnn.Run(new RunOptions(), ["x"], [input], ["y"]);
        Assert.Equal([1L, 3L], output[0].GetTensorTypeAndShape().Shape);

        using var mlp = new InferenceSession(TestModels.TinyMlp().Encode());
        Assert.Equal([1, 5], mlp.OutputMetadata["scores"].Dimensions);
    }

    [Fact]
    public void ShapeMismatchModelIsRejectedByOnnxRuntime() =>
        Assert.ThrowsAny<OnnxRuntimeException>(() => new InferenceSession(TestModels.GemmShapeMismatch().Encode()));

    [Fact]
    public void UnsupportedOpModelIsValidOnnx()
    {
        // Det is a real ONNX op (so the failure the build test expects is "unsupported", not "invalid").
        using var session = new InferenceSession(TestModels.UnsupportedOp().Encode());
        Assert.True(session.InputMetadata.ContainsKey("x"));
    }
}
