using System.IO.Compression;
using System.Xml.Linq;

namespace ModelGen.Build.Tests.Integration;

[Collection(IntegrationCollection.Name)]
public sealed class PackageLayoutTests
{
    [Fact]
    public void PackageHasTheRuntimeBuildLogicTasksGeneratorAndCli()
    {
        var package = PackedPackage.Get();
        Assert.Equal(["ModelGen.0.1.0.nupkg"], Directory.GetFiles(package.Feed).Select(Path.GetFileName));

        using var zip = ZipFile.OpenRead(package.NupkgPath);
        var entries = zip.Entries.Select(e => e.FullName).ToHashSet();

        string[] required =
        [
            "lib/net10.0/ModelGen.Runtime.dll",
            "lib/net10.0/ModelGen.Runtime.xml",
            "build/ModelGen.props",
            "build/ModelGen.targets",
            "build/tasks/netstandard2.0/ModelGen.Build.dll",
            "analyzers/dotnet/cs/ModelGen.Generator.dll",
            "tools/net10.0/any/modelgen.dll",
            "tools/net10.0/any/modelgen.deps.json",
            "tools/net10.0/any/modelgen.runtimeconfig.json",
            "tools/net10.0/any/ModelGen.Optimizer.dll",
            "tools/net10.0/any/ModelGen.Onnx.dll",
            "tools/net10.0/any/ModelGen.Runtime.dll",
            "tools/net10.0/any/Google.Protobuf.dll",
            "README.md",
        ];
        foreach (var path in required) Assert.True(entries.Contains(path), $"{path} is missing from the package");

        // Nothing of the build machine's own making: no apphost, no symbols, no other libs.
        Assert.DoesNotContain("tools/net10.0/any/modelgen", entries);
        Assert.DoesNotContain(entries, e => e.EndsWith(".pdb", StringComparison.Ordinal));
        Assert.Equal(
            ["lib/net10.0/ModelGen.Runtime.dll", "lib/net10.0/ModelGen.Runtime.xml"],
            entries.Where(e => e.StartsWith("lib/", StringComparison.Ordinal)).Order());

        // Every dependency the CLI's deps.json names is in the package.
        using (var deps = zip.GetEntry("tools/net10.0/any/modelgen.deps.json")!.Open())
        {
            var json = System.Text.Json.JsonDocument.Parse(deps);
            foreach (var target in json.RootElement.GetProperty("targets").EnumerateObject())
            {
                foreach (var library in target.Value.EnumerateObject())
                {
                    if (!library.Value.TryGetProperty("runtime", out var runtime)) continue;
                    foreach (var dll in runtime.EnumerateObject())
                    {
                        var name = Path.GetFileName(dll.Name);
                        Assert.True(entries.Contains("tools/net10.0/any/" + name), $"the CLI needs {name}");
                    }
                }
            }
        }

        var nuspecEntry = zip.Entries.Single(e => e.FullName.EndsWith(".nuspec", StringComparison.Ordinal));
        using var nuspecStream = nuspecEntry.Open();
        var metadata = XDocument.Load(nuspecStream).Root!.Elements().Single(e => e.Name.LocalName == "metadata");
        string Field(string name) => metadata.Elements().SingleOrDefault(e => e.Name.LocalName == name)?.Value ?? "";
        Assert.Equal("ModelGen", Field("id"));
        Assert.Equal("0.1.0", Field("version"));
        Assert.Equal("MIT", Field("license"));
        Assert.Equal("README.md", Field("readme"));
        Assert.NotEqual("", Field("description"));
        Assert.NotEqual("true", Field("developmentDependency"));
        // ILGPU (managed) runs the device backends. The other dependencies are ONNX Runtime (the accuracy gate's reference, run by the CLI
        // from the NuGet cache, and the engine of models that fall back to it) and the Tensors
        // version it needs, with compile and runtime assets only: the app gets ORT's managed
        // assembly, never its native libraries for every platform (the build copies the one it
        // needs when a model falls back; see _ModelGen_AddOnnxRuntime).
        var dependencies = metadata.Descendants().Where(e => e.Name.LocalName == "dependency")
            .Select(e => $"{e.Attribute("id")?.Value} {e.Attribute("version")?.Value} exclude={e.Attribute("exclude")?.Value}")
            .Order().ToArray();
        const string Managed = "exclude=Build,Native,Analyzers,BuildTransitive";
        Assert.Equal([$"ILGPU 1.5.3 {Managed}", $"ILGPU.Algorithms 1.5.3 {Managed}",
            $"Microsoft.ML.OnnxRuntime 1.31.1 {Managed}", $"System.Numerics.Tensors 9.0.19 {Managed}"], dependencies);
        // The props name the same ORT version, to find its native library in the NuGet cache.
        using var propsStream = zip.Entries.Single(e => e.FullName == "build/ModelGen.props").Open();
        var props = XDocument.Load(propsStream).Descendants().Single(e => e.Name.LocalName == "ModelGen_OnnxRuntimeVersion").Value;
        var ortVersion = metadata.Descendants().Single(e => e.Name.LocalName == "dependency" && e.Attribute("id")?.Value == "Microsoft.ML.OnnxRuntime")
            .Attribute("version")!.Value;
        Assert.Equal(ortVersion, props);
        // ORT's native libraries for every platform stay out of the package (~150 MB).
        Assert.DoesNotContain(entries, e => e.StartsWith("tools/net10.0/any/runtimes/", StringComparison.Ordinal));
    }
}
