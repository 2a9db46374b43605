using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using ModelGen.Tests;

namespace ModelGen.Generator.Tests;

/// <summary>
/// Snapshot tests of the emitted predictor classes. Each case is also compiled against
/// ModelGen.Runtime with XML-doc checking on, and must give no error and no warning.
/// </summary>
public class EmittedCodeTests
{
    [Fact]
    public void Mlp() => VerifyAndCompile(new SpecInput("obj/Models/Mlp.mgspec", TestSpecs.Mlp, "MlpModel", "MyApp.Models", Source: "Models/mlp.onnx"));

    [Fact]
    public void Cnn() => VerifyAndCompile(new SpecInput("obj/Models/Mnist.mgspec", TestSpecs.Cnn, "Mnist", "Samples"));

    [Fact]
    public void PublicAccessNestedNamespace() =>
        VerifyAndCompile(new SpecInput("Mlp.mgspec", TestSpecs.Mlp, "Classifier", "Company.Product.Vision.Models", "Public", "Custom.Resource.bin"));

    [Fact]
    public void GlobalNamespace() => VerifyAndCompile(new SpecInput("Mlp.mgspec", TestSpecs.Mlp, "GlobalMlp", ""));

    [Fact]
    public void NamesNeedingEscapes() => VerifyAndCompile(new SpecInput("Names.mgspec", TestSpecs.Names, "Input1Shape", "Weird"));

    [Fact]
    public void MultipleInputsAndOutputs() => VerifyAndCompile(new SpecInput("Multi.mgspec", TestSpecs.MultiIo, "Multi", "MyApp"));

    [Fact]
    public void BatchedMlp() => VerifyAndCompile(new SpecInput("obj/Models/Mlp.mgspec", TestSpecs.BatchedMlp, "BatchedMlp", "MyApp.Models"));

    [Fact]
    public void OnnxRuntimeFallback() => VerifyAndCompile(new SpecInput("obj/TopK.mgspec", TestSpecs.OnnxRuntimeTopK, "TopKNet", "MyApp"));

    [Fact]
    public void OutputIsDeterministic()
    {
        var spec = new SpecInput("Cnn.mgspec", TestSpecs.Cnn, "Mnist", "Samples");
        string first = GeneratorHarness.SingleSource(GeneratorHarness.Run(spec));
        string second = GeneratorHarness.SingleSource(GeneratorHarness.Run(spec with { Text = TestSpecs.Cnn.Replace("\n", "\r\n") }));
        Assert.Equal(first, second);
    }

    /// <summary>A spec as the optimizer's SpecWriter prints it generates the same class as the hand-written text.</summary>
    [Fact]
    public void SpecWriterOutputGeneratesTheSameClass()
    {
        string rewritten = ModelGen.Spec.SpecWriter.Write(ModelGen.Spec.SpecReader.Read(TestSpecs.Names));
        string fromText = GeneratorHarness.SingleSource(GeneratorHarness.Run(new SpecInput("N.mgspec", TestSpecs.Names, "Names", "W")));
        string fromWriter = GeneratorHarness.SingleSource(GeneratorHarness.Run(new SpecInput("N.mgspec", rewritten, "Names", "W")));
        Assert.Equal(fromText, fromWriter);
    }

    [Fact]
    public void ClassesDifferingOnlyInCaseAreReportedNotCrashed()
    {
        var result = GeneratorHarness.Run(
            new SpecInput("a.mgspec", TestSpecs.Mlp, "Model", "App"),
            new SpecInput("b.mgspec", TestSpecs.Mlp, "MODEL", "App"));
        Assert.Equal(new[] { "MG2005", "MG2005" }, result.Diagnostics.Select(d => d.Id));
        Assert.Empty(result.Results.Single().GeneratedSources);
        Assert.Null(result.Results.Single().Exception);
    }

    [Fact]
    public void HintNameIsNamespaceDotClass()
    {
        var result = GeneratorHarness.Run(
            new SpecInput("a/Mlp.mgspec", TestSpecs.Mlp, "MlpModel", "MyApp.Models"),
            new SpecInput("b/Mlp.mgspec", TestSpecs.Mlp, "MlpModel", ""));
        Assert.Empty(result.Diagnostics);
        var hints = result.Results.Single().GeneratedSources.Select(s => s.HintName).OrderBy(h => h, StringComparer.Ordinal);
        Assert.Equal(new[] { "MlpModel.g.cs", "MyApp.Models.MlpModel.g.cs" }, hints);
    }

    [Fact]
    public void NoSpecsGenerateNothing()
    {
        var result = GeneratorHarness.Run();
        Assert.Empty(result.Diagnostics);
        Assert.Empty(result.Results.Single().GeneratedSources);
    }

    [Fact]
    public void OtherAdditionalFilesAreIgnored()
    {
        var result = GeneratorHarness.Run(new SpecInput("notes.txt", "not a spec", "Notes"), new SpecInput("model.onnx", "binary", "Model"));
        Assert.Empty(result.Diagnostics);
        Assert.Empty(result.Results.Single().GeneratedSources);
    }

    [Fact]
    public void DefaultResourceNameIncludesNamespaceAndClass()
    {
        string inNamespace = GeneratorHarness.SingleSource(GeneratorHarness.Run(new SpecInput("m.mgspec", TestSpecs.Mlp, "MlpModel", "MyApp.Models")));
        string global = GeneratorHarness.SingleSource(GeneratorHarness.Run(new SpecInput("m.mgspec", TestSpecs.Mlp, "MlpModel", "")));
        Assert.Contains("\"ModelGen.MyApp.Models.MlpModel.weights\"", inNamespace);
        Assert.Contains("\"ModelGen.MlpModel.weights\"", global);
    }

    /// <summary>
    /// A ResNet-50-sized plan (300 fused Conv steps, 601 slots: more than ResNet-50 has after
    /// fusion) stays far below 200 KB of source, and carries no weight values.
    /// </summary>
    [Fact]
    public void LargePlanStaysSmall()
    {
        string source = GeneratorHarness.SingleSource(GeneratorHarness.Run(new SpecInput("Big.mgspec", BigSpec(300), "Big", "Perf")));
        Assert.True(source.Length < 150_000, $"generated {source.Length} characters for 300 steps");
        Assert.Equal(300, source.Split("new(\"Conv\"").Length - 1);
    }

    private static string BigSpec(int steps)
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("modelgen-spec 1\n");
        sb.Append($"model name=\"Big\" source=\"resnet50.onnx\" source-sha256=\"\" weights-sha256=\"\" weights-bytes={steps * 16384} arena-bytes=1605632 ir-version=7 opset=13 producer=\"pytorch\" producer-version=\"2.1.0\"\n");
        sb.Append("doc \"\"\n");
        // Slot 0 is the input; step i reads slot 2i (activation) and 2i+1 (weight), and writes 2i+2.
        sb.Append("slot id=0 name=\"input\" type=float shape=[1,64,56,56] arena=0\n");
        for (int i = 0; i < steps; i++)
        {
            sb.Append($"slot id={2 * i + 1} name=\"layer{i}.conv.weight\" type=float shape=[64,64,1,1] weights={i * 16384}\n");
            sb.Append($"slot id={2 * i + 2} name=\"/layer{i}/relu/Relu_output_0\" type=float shape=[1,64,56,56] arena={(i % 2 == 0 ? 802816 : 0)}\n");
        }
        sb.Append("input name=\"input\" slot=0 doc=\"\"\n");
        sb.Append($"output name=\"output\" slot={2 * steps} doc=\"\"\n");
        for (int i = 0; i < steps; i++)
        {
            sb.Append($"step op=Conv name=\"/layer{i}/conv/Conv\" in=[{2 * i},{2 * i + 1},-1] out=[{2 * i + 2}] " +
                      "@dilations=ints:[1,1] @group=int:1 @kernel_shape=ints:[1,1] @pads=ints:[0,0,0,0] @strides=ints:[1,1] @activation=string:\"Relu\"\n");
        }
        return sb.ToString();
    }

    private static void VerifyAndCompile(SpecInput spec, [System.Runtime.CompilerServices.CallerMemberName] string member = "")
    {
        string source = GeneratorHarness.SingleSource(GeneratorHarness.Run(spec));
        // The version changes with every release; the snapshot pins everything else.
        string scrubbed = source.Replace($"\"ModelGen\", \"{ModelGenerator.Version}\"", "\"ModelGen\", \"{version}\"");
        Snapshot.Verify(scrubbed, member: member);

        var tree = CSharpSyntaxTree.ParseText(source, GeneratorHarness.ParseOptions, "Generated.g.cs");
        var diagnostics = GeneratorHarness.CreateCompilation(tree).GetDiagnostics()
            .Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .ToList();
        Assert.True(diagnostics.Count == 0, "the generated code does not compile cleanly:\n" + GeneratorHarness.Describe(diagnostics));
    }
}
