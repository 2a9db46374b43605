using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace ModelGen.Generator.Tests;

/// <summary>Emitted literals read back by the C# parser give the original values exactly.</summary>
public class LiteralsTests
{
    [Theory]
    [InlineData("plain")]
    [InlineData("quote \" and backslash \\")]
    [InlineData("new\nline\r\ttab")]
    [InlineData("line\u2028separator\u2029paragraph\u0085next")]
    [InlineData("*/ /* // <&>")]
    [InlineData("ünïcödé 日本")]
    [InlineData("\0nul")]
    public void StringRoundTrips(string value)
    {
        string literal = Literals.String(value);
        Assert.DoesNotContain('\n', literal);
        var parsed = (LiteralExpressionSyntax)SyntaxFactory.ParseExpression(literal);
        Assert.Empty(parsed.GetDiagnostics());
        Assert.Equal(value, parsed.Token.ValueText);
    }

    [Fact]
    public void LoneSurrogateIsEscaped() => Assert.Equal("\"\\ud800x\"", Literals.String("\ud800x"));

    [Theory]
    [InlineData(1f)]
    [InlineData(-0.1f)]
    [InlineData(3.4028235E+38f)]
    [InlineData(1.401298E-45f)]
    [InlineData(-2.5E-05f)]
    [InlineData(0.333333343f)]
    public void FloatRoundTrips(float value)
    {
        string literal = Literals.Float(value);
        Assert.EndsWith("f", literal);
        var expression = SyntaxFactory.ParseExpression(literal);
        Assert.Empty(expression.GetDiagnostics());
        // A negative value parses as unary minus applied to a literal.
        float parsed = expression is PrefixUnaryExpressionSyntax { OperatorToken.Text: "-", Operand: LiteralExpressionSyntax negated }
            ? -(float)negated.Token.Value!
            : (float)((LiteralExpressionSyntax)expression).Token.Value!;
        Assert.Equal(BitConverter.SingleToInt32Bits(value), BitConverter.SingleToInt32Bits(parsed));
    }

    [Fact]
    public void NonFiniteFloatsAreSpelledOut()
    {
        Assert.Equal("float.PositiveInfinity", Literals.Float(float.PositiveInfinity));
        Assert.Equal("float.NegativeInfinity", Literals.Float(float.NegativeInfinity));
        Assert.Equal("float.NaN", Literals.Float(float.NaN));
    }

    [Fact]
    public void FloatIgnoresCurrentCulture()
    {
        var saved = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Equal("0.5f", Literals.Float(0.5f));
            Assert.Equal("-1234567L", Literals.Long(-1234567));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void DocLinesEscapeXmlAndSplitOnEveryLineEnd()
    {
        var lines = Literals.DocLines("a<b>&c\r\nd\re\u2028f\u0085g\u0001h");
        Assert.Equal(new[] { "a&lt;b&gt;&amp;c", "d", "e", "f", "g h" }, lines);
    }
}
