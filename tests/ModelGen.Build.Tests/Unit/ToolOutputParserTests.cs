namespace ModelGen.Build.Tests.Unit;

public class ToolOutputParserTests
{
    [Fact]
    public void UnixPathWithLineAndColumn()
    {
        var d = ToolOutputParser.Parse("/home/u/models/x.onnx(3,7): error MG1002: not a valid ONNX model");

        Assert.NotNull(d);
        Assert.Equal(ToolDiagnosticKind.Error, d.Kind);
        Assert.Equal("/home/u/models/x.onnx", d.File);
        Assert.Equal(3, d.Line);
        Assert.Equal(7, d.Column);
        Assert.Equal(0, d.EndLine);
        Assert.Equal("MG1002", d.Code);
        Assert.Equal("not a valid ONNX model", d.Message);
        Assert.Equal("", d.Subcategory);
    }

    [Fact]
    public void WindowsPathWithoutLocation()
    {
        var d = ToolOutputParser.Parse(@"C:\src\my app\model.onnx: error MG1004: operator 'Foo' is not supported");

        Assert.NotNull(d);
        Assert.Equal(@"C:\src\my app\model.onnx", d.File);
        Assert.Equal(0, d.Line);
        Assert.Equal("MG1004", d.Code);
        Assert.Equal("operator 'Foo' is not supported", d.Message);
    }

    [Fact]
    public void WindowsPathWithFullRange()
    {
        var d = ToolOutputParser.Parse(@"D:\m\x.onnx(1,2,3,4): warning MG1012: dimension 'N' was fixed to 1");

        Assert.NotNull(d);
        Assert.Equal(ToolDiagnosticKind.Warning, d.Kind);
        Assert.Equal(@"D:\m\x.onnx", d.File);
        Assert.Equal((1, 2, 3, 4), (d.Line, d.Column, d.EndLine, d.EndColumn));
        Assert.Equal("MG1012", d.Code);
    }

    [Fact]
    public void LineOnlyAndMessageWithColons()
    {
        var d = ToolOutputParser.Parse("models/x.onnx(0) : error MG1001: accuracy: dropped 2.3% > 1.0%");

        Assert.NotNull(d);
        Assert.Equal("models/x.onnx", d.File);
        Assert.Equal(0, d.Line);
        Assert.Equal("accuracy: dropped 2.3% > 1.0%", d.Message);
    }

    [Fact]
    public void NoOrigin()
    {
        var d = ToolOutputParser.Parse("error MG1010: unknown option '--bogus'");

        Assert.NotNull(d);
        Assert.Equal("", d.File);
        Assert.Equal("MG1010", d.Code);
        Assert.Equal("unknown option '--bogus'", d.Message);
    }

    [Fact]
    public void Subcategory()
    {
        var d = ToolOutputParser.Parse("x.onnx: optimizer error MG1099: internal error");

        Assert.NotNull(d);
        Assert.Equal("optimizer", d.Subcategory);
        Assert.Equal("x.onnx", d.File);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Optimized x.onnx: 12 nodes -> 9 steps, 1.2 MB of weights")]
    [InlineData("the error was fixed")]
    [InlineData("warning: no code here")]
    [InlineData("   at ModelGen.Cli.CliApp.Run(String[] args)")]
    public void PlainLinesAreNotDiagnostics(string line) => Assert.Null(ToolOutputParser.Parse(line));

    [Fact]
    public void PathologicalLineEndsQuickly()
    {
        // Long runs of ':' and spaces are the worst case for the lazy origin; it must give up
        // (within the 1 s timeout at most) rather than hang the build.
        var line = string.Concat(Enumerable.Repeat("a : b ( 1 , ", 5000));
        var watch = System.Diagnostics.Stopwatch.StartNew();

        Assert.Null(ToolOutputParser.Parse(line));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(3), $"took {watch.Elapsed}");
    }

    [Theory]
    [InlineData("Unhandled exception. System.InvalidOperationException: boom", true)]
    [InlineData("   at ModelGen.Cli.CliApp.Run(String[] args) in /src/CliApp.cs:line 12", true)]
    [InlineData(" ---> System.IO.IOException: disk", true)]
    [InlineData("at the end", false)]
    [InlineData("Optimized x.onnx", false)]
    public void CrashLines(string line, bool expected) => Assert.Equal(expected, ToolOutputParser.IsCrashLine(line));
}
