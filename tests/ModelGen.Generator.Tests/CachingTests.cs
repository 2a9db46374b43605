using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace ModelGen.Generator.Tests;

/// <summary>The pipeline models are value-equatable, so unrelated edits re-run nothing.</summary>
public class CachingTests
{
    private static readonly SpecInput[] Specs =
    {
        new("Mlp.mgspec", TestSpecs.Mlp, "Mlp", "App"),
        new("Cnn.mgspec", TestSpecs.Cnn, "Cnn", "App"),
    };

    [Fact]
    public void UnrelatedCodeEditIsCached()
    {
        var (driver, compilation, _) = GeneratorHarness.CreateDriver(Specs);
        driver = driver.RunGenerators(compilation, TestContext.Current.CancellationToken);

        var edited = compilation.AddSyntaxTrees(CSharpSyntaxTree.ParseText("class Another { }", GeneratorHarness.ParseOptions, cancellationToken: TestContext.Current.CancellationToken));
        var result = driver.RunGenerators(edited, TestContext.Current.CancellationToken).GetRunResult().Results.Single();

        var outputs = result.TrackedSteps[ModelGenerator.ModelSpecStep].SelectMany(s => s.Outputs).ToList();
        Assert.Equal(2, outputs.Count);
        Assert.All(outputs, o =>
            Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"ModelSpec output was {o.Reason}"));
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), o =>
            Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"source output was {o.Reason}"));
    }

    [Fact]
    public void ChangedSpecIsModifiedAndOnlyThatOne()
    {
        var (driver, compilation, texts) = GeneratorHarness.CreateDriver(Specs);
        driver = driver.RunGenerators(compilation, TestContext.Current.CancellationToken);

        var original = texts.Single(t => t.Path == "Mlp.mgspec");
        var changed = new InMemoryAdditionalText("Mlp.mgspec", TestSpecs.Mlp.Replace("A two-layer perceptron", "A changed perceptron"));
        driver = driver.ReplaceAdditionalText(original, changed).RunGenerators(compilation, TestContext.Current.CancellationToken);
        var result = driver.GetRunResult().Results.Single();

        var reasons = result.TrackedSteps[ModelGenerator.ModelSpecStep].SelectMany(s => s.Outputs).Select(o => o.Reason).ToList();
        Assert.Single(reasons, r => r == IncrementalStepRunReason.Modified);
        Assert.Single(reasons, r => r is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged);
        var mlp = result.GeneratedSources.Single(s => s.HintName == "App.Mlp.g.cs");
        Assert.Contains("A changed perceptron", mlp.SourceText.ToString());
    }

    [Fact]
    public void IdenticalRewriteOfSpecIsUnchanged()
    {
        var (driver, compilation, texts) = GeneratorHarness.CreateDriver(Specs);
        driver = driver.RunGenerators(compilation, TestContext.Current.CancellationToken);

        // The build rewrites the spec with the same content: the new text object parses to an equal model.
        var original = texts.Single(t => t.Path == "Cnn.mgspec");
        driver = driver.ReplaceAdditionalText(original, new InMemoryAdditionalText("Cnn.mgspec", TestSpecs.Cnn)).RunGenerators(compilation, TestContext.Current.CancellationToken);
        var result = driver.GetRunResult().Results.Single();

        Assert.All(result.TrackedSteps[ModelGenerator.ModelSpecStep].SelectMany(s => s.Outputs), o =>
            Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"ModelSpec output was {o.Reason}"));
        Assert.All(result.TrackedOutputSteps.SelectMany(s => s.Value).SelectMany(s => s.Outputs), o =>
            Assert.True(o.Reason is IncrementalStepRunReason.Cached or IncrementalStepRunReason.Unchanged, $"source output was {o.Reason}"));
    }
}
