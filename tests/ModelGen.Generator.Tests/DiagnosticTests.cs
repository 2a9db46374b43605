using Microsoft.CodeAnalysis;
using ModelGen.Tests;

namespace ModelGen.Generator.Tests;

/// <summary>Each MG2xxx diagnostic: where it points, what it says, and that it blocks only its own class.</summary>
public class DiagnosticTests
{
    [Fact]
    public void AllDiagnostics()
    {
        string badSyntax = TestSpecs.Mlp.Replace("slot id=3 name=\"hidden\"", "slot id=3 name=\"hidden\" shape=oops");
        string unknownSlot = TestSpecs.Mlp.Replace("output name=\"logits\" slot=6", "output name=\"logits\" slot=60");
        string hugeInput = TestSpecs.Mlp
            .Replace("weights-bytes=50920 arena-bytes=3200", "weights-bytes=50920 arena-bytes=8589934656")
            .Replace("shape=[1,784] arena=0", "shape=[65536,32768] arena=0")
            .Replace("slot id=3 name=\"hidden\" type=float shape=[1,16] arena=3136", "slot id=3 name=\"hidden\" type=float shape=[1,16] arena=8589934592");
        var result = GeneratorHarness.Run(
            new SpecInput("Good.mgspec", TestSpecs.Mlp, "Good", "App"),
            new SpecInput("BadHeader.mgspec", "modelgen-spec 2\n", "BadHeader", "App"),
            new SpecInput("BadSyntax.mgspec", badSyntax, "BadSyntax", "App"),
            new SpecInput("UnknownSlot.mgspec", unknownSlot, "UnknownSlot", "App"),
            new SpecInput("NoClass.mgspec", TestSpecs.Mlp, null, "App"),
            new SpecInput("DigitClass.mgspec", TestSpecs.Mlp, "1Model", "App"),
            new SpecInput("KeywordClass.mgspec", TestSpecs.Mlp, "class", "App"),
            new SpecInput("MemberClass.mgspec", TestSpecs.Mlp, "Predict", "App"),
            new SpecInput("LowerClass.mgspec", TestSpecs.Mlp, "mlp", "App"),
            new SpecInput("BadNamespace.mgspec", TestSpecs.Mlp, "Ns1", "App..Models"),
            new SpecInput("KeywordNamespace.mgspec", TestSpecs.Mlp, "Ns2", "App.namespace"),
            new SpecInput("BadAccess.mgspec", TestSpecs.Mlp, "Acc", "App", "protected"),
            new SpecInput("BadBackend.mgspec", TestSpecs.Mlp, "Gpu", "App", Backend: "Vulkan"),
            new SpecInput("one/Same.mgspec", TestSpecs.Mlp, "Same", "App"),
            new SpecInput("two/Same.mgspec", TestSpecs.Cnn, "Same", "App"),
            new SpecInput("Huge.mgspec", hugeInput, "Huge", "App"));

        Snapshot.Verify(GeneratorHarness.Describe(result.Diagnostics), "txt");
        Assert.All(result.Diagnostics, d =>
        {
            Assert.Equal(DiagnosticSeverity.Error, d.Severity);
            Assert.Contains(WellKnownDiagnosticTags.NotConfigurable, d.Descriptor.CustomTags);
        });
        // Only the valid spec produced a class; every broken one produced nothing.
        var generated = Assert.Single(result.Results.Single().GeneratedSources);
        Assert.Equal("App.Good.g.cs", generated.HintName);
    }

    [Fact]
    public void MalformedSpecPointsAtLineAndColumn()
    {
        string text = TestSpecs.Mlp.Replace("type=float shape=[16] weights=50176", "type=float shape=[16] weights=-5");
        var result = GeneratorHarness.Run(new SpecInput("/repo/obj/M.mgspec", text, "M"));
        var d = Assert.Single(result.Diagnostics);
        Assert.Equal("MG2001", d.Id);
        var span = d.Location.GetLineSpan();
        Assert.Equal("/repo/obj/M.mgspec", span.Path);
        Assert.Equal(6, span.StartLinePosition.Line + 1);
        Assert.Contains("negative offset -5", d.GetMessage(System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public void BackendMetadataIsCaseInsensitiveAndSetsTheDefaultConstructor()
    {
        string source = GeneratorHarness.SingleSource(GeneratorHarness.Run(new SpecInput("m.mgspec", TestSpecs.Mlp, "M1", "", Backend: "opencl")));
        Assert.Contains("public M1() : this(global::ModelGen.Backend.OpenCL)", source);
        string auto = GeneratorHarness.SingleSource(GeneratorHarness.Run(new SpecInput("m.mgspec", TestSpecs.Mlp, "M2", "")));
        Assert.Contains("public M2() : this(global::ModelGen.Backend.Auto)", auto);
    }

    [Fact]
    public void AccessIsCaseInsensitive()
    {
        string source = GeneratorHarness.SingleSource(GeneratorHarness.Run(new SpecInput("m.mgspec", TestSpecs.Mlp, "M1", "", "PUBLIC")));
        Assert.Contains("public sealed partial class M1", source);
    }

    [Fact]
    public void FixingADuplicateRestoresBothClasses()
    {
        var (driver, compilation, _) = GeneratorHarness.CreateDriver(new[]
        {
            new SpecInput("one/Same.mgspec", TestSpecs.Mlp, "Same", "App"),
            new SpecInput("two/Same.mgspec", TestSpecs.Cnn, "Same", "Other"),
        });
        var result = driver.RunGenerators(compilation, TestContext.Current.CancellationToken).GetRunResult();
        Assert.Empty(result.Diagnostics);
        Assert.Equal(2, result.Results.Single().GeneratedSources.Length);
    }
}
