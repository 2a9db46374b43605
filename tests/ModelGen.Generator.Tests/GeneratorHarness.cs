using System.Collections.Immutable;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;

namespace ModelGen.Generator.Tests;

/// <summary>An additional file held in memory.</summary>
internal sealed class InMemoryAdditionalText(string path, string text) : AdditionalText
{
    private readonly SourceText _text = SourceText.From(text, Encoding.UTF8);

    public override string Path { get; } = path;

    public override SourceText GetText(CancellationToken cancellationToken = default) => _text;
}

/// <summary>Item metadata per additional file, as MSBuild's CompilerVisibleItemMetadata would surface it.</summary>
internal sealed class TestOptionsProvider(IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> perFile) : AnalyzerConfigOptionsProvider
{
    public override AnalyzerConfigOptions GlobalOptions { get; } = new Options(new Dictionary<string, string>());

    public override AnalyzerConfigOptions GetOptions(SyntaxTree tree) => GlobalOptions;

    public override AnalyzerConfigOptions GetOptions(AdditionalText textFile) =>
        perFile.TryGetValue(textFile.Path, out var metadata)
            ? new Options(metadata.ToDictionary(kv => "build_metadata.AdditionalFiles." + kv.Key, kv => kv.Value))
            : GlobalOptions;

    private sealed class Options(Dictionary<string, string> values) : AnalyzerConfigOptions
    {
        public override bool TryGetValue(string key, out string value)
        {
            if (values.TryGetValue(key, out var v))
            {
                value = v;
                return true;
            }
            value = "";
            return false;
        }
    }
}

/// <summary>One spec file and its item metadata.</summary>
internal sealed record SpecInput(string Path, string Text, string? ClassName, string? Namespace = null, string? Access = null, string? Resource = null, string? Source = null, string? Backend = null)
{
    public IReadOnlyDictionary<string, string> Metadata()
    {
        var m = new Dictionary<string, string>();
        if (ClassName is not null) m["ModelGen_ClassName"] = ClassName;
        if (Namespace is not null) m["ModelGen_Namespace"] = Namespace;
        if (Access is not null) m["ModelGen_Access"] = Access;
        if (Resource is not null) m["ModelGen_WeightsResource"] = Resource;
        if (Source is not null) m["ModelGen_Source"] = Source;
        if (Backend is not null) m["ModelGen_Backend"] = Backend;
        return m;
    }
}

/// <summary>Runs <see cref="ModelGenerator"/> the way the compiler does, and compiles its output.</summary>
internal static class GeneratorHarness
{
    public static readonly CSharpParseOptions ParseOptions =
        new CSharpParseOptions(LanguageVersion.Latest, DocumentationMode.Diagnose);

    /// <summary>Framework references from the running .NET plus ModelGen.Runtime.</summary>
    public static IReadOnlyList<MetadataReference> References { get; } = LoadReferences();

    public static (GeneratorDriver Driver, Compilation Compilation, ImmutableArray<AdditionalText> Texts) CreateDriver(IEnumerable<SpecInput> specs, string userCode = "class UserCode { }")
    {
        var list = specs.ToList();
        var texts = list.Select(s => (AdditionalText)new InMemoryAdditionalText(s.Path, s.Text)).ToImmutableArray();
        var options = new TestOptionsProvider(list.ToDictionary(s => s.Path, s => s.Metadata()));
        GeneratorDriver driver = CSharpGeneratorDriver.Create(
            new[] { new ModelGenerator().AsSourceGenerator() }, texts, ParseOptions, options,
            new GeneratorDriverOptions(IncrementalGeneratorOutputKind.None, trackIncrementalGeneratorSteps: true));
        return (driver, CreateCompilation(CSharpSyntaxTree.ParseText(userCode, ParseOptions, "User.cs")), texts);
    }

    public static CSharpCompilation CreateCompilation(params SyntaxTree[] trees) => CSharpCompilation.Create(
        "Generated" + Guid.NewGuid().ToString("N"), trees, References,
        new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary, nullableContextOptions: NullableContextOptions.Enable));

    /// <summary>Runs the generator once over the specs.</summary>
    public static GeneratorDriverRunResult Run(params SpecInput[] specs)
    {
        var (driver, compilation, _) = CreateDriver(specs);
        return driver.RunGenerators(compilation, TestContext.Current.CancellationToken).GetRunResult();
    }

    /// <summary>The single generated source of a run that must produce exactly one.</summary>
    public static string SingleSource(GeneratorDriverRunResult result)
    {
        Assert.Empty(result.Diagnostics);
        var source = Assert.Single(Assert.Single(result.Results).GeneratedSources);
        return source.SourceText.ToString();
    }

    /// <summary>Diagnostics as stable text, one per line: id, severity, file(line,col), message.</summary>
    public static string Describe(IEnumerable<Diagnostic> diagnostics) => string.Concat(
        diagnostics
            .Select(d =>
            {
                var span = d.Location.GetLineSpan();
                string where = d.Location == Location.None
                    ? "(no location)"
                    : $"{span.Path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1})";
                return $"{d.Id} {d.Severity} {where}: {d.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}\n";
            })
            .OrderBy(s => s, StringComparer.Ordinal));

    private static IReadOnlyList<MetadataReference> LoadReferences()
    {
        var tpa = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "").Split(Path.PathSeparator);
        var refs = tpa
            .Where(p => Path.GetFileName(p) is var f && (f.StartsWith("System.", StringComparison.Ordinal) || f is "netstandard.dll" or "mscorlib.dll"))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p))
            .ToList();
        refs.Add(MetadataReference.CreateFromFile(typeof(ModelGen.Runtime.PlanExecutor).Assembly.Location));
        return refs;
    }
}
