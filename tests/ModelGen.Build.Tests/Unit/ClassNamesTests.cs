namespace ModelGen.Build.Tests.Unit;

public class ClassNamesTests
{
    [Theory]
    [InlineData("digits", "Digits")]
    [InlineData("my-model.v2", "MyModelV2")]
    [InlineData("resnet_50", "Resnet50")]
    [InlineData("MNIST", "MNIST")]
    [InlineData("mnist-8", "Mnist8")]
    [InlineData("onnx mlir mnist", "OnnxMlirMnist")]
    [InlineData("2layer", "Model2layer")]
    [InlineData("---", "Model")]
    [InlineData("", "Model")]
    public void ToPascalCase_MakesAnIdentifierFromAFileName(string fileName, string expected)
    {
        var actual = ClassNames.ToPascalCase(fileName);

        Assert.Equal(expected, actual);
        Assert.True(ClassNames.IsIdentifier(actual));
    }

    [Theory]
    [InlineData("Net", true)]
    [InlineData("_net2", true)]
    [InlineData("2net", false)]
    [InlineData("my-net", false)]
    [InlineData("", false)]
    [InlineData("a.b", false)]
    public void IsIdentifier(string name, bool expected) => Assert.Equal(expected, ClassNames.IsIdentifier(name));

    [Theory]
    [InlineData("App", true)]
    [InlineData("App.Models", true)]
    [InlineData("App..Models", false)]
    [InlineData("App.2", false)]
    public void IsNamespace(string name, bool expected) => Assert.Equal(expected, ClassNames.IsNamespace(name));
}
