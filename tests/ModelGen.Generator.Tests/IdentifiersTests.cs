namespace ModelGen.Generator.Tests;

/// <summary>Tensor names to C# identifiers.</summary>
public class IdentifiersTests
{
    [Theory]
    [InlineData("input.1", "input1", "Input1")]
    [InlineData("Plus214_Output_0", "plus214Output0", "Plus214Output0")]
    [InlineData("gpu_0/data_0", "gpu0Data0", "Gpu0Data0")]
    [InlineData("0", "t0", "T0")]
    [InlineData("1_a", "t1A", "T1A")]
    [InlineData("///", "tensor", "Tensor")]
    [InlineData("", "tensor", "Tensor")]
    [InlineData("données:ü", "donnéesÜ", "DonnéesÜ")]
    [InlineData("class", "class", "Class")]
    public void CamelAndPascal(string tensor, string camel, string pascal)
    {
        Assert.Equal(camel, Identifiers.ToCamelCase(tensor));
        Assert.Equal(pascal, Identifiers.ToPascalCase(tensor));
        Assert.True(Microsoft.CodeAnalysis.CSharp.SyntaxFacts.IsValidIdentifier(camel));
    }

    [Theory]
    [InlineData("class", "@class")]
    [InlineData("int", "@int")]
    [InlineData("value", "value")]
    [InlineData("input1", "input1")]
    public void KeywordsAreEscaped(string identifier, string expected) =>
        Assert.Equal(expected, Identifiers.EscapeKeyword(identifier));

    [Fact]
    public void DuplicatesGetNumberSuffixes()
    {
        var taken = new HashSet<string>();
        Assert.Equal("input1", Identifiers.MakeUnique("input1", taken));
        Assert.Equal("input12", Identifiers.MakeUnique("input1", taken));
        Assert.Equal("input13", Identifiers.MakeUnique("input1", taken));
        Assert.Equal("x2", Identifiers.MakeUnique("x", taken, name => name != "x"));
    }
}
