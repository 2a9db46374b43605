using System.Reflection;
using System.Runtime.Loader;
using System.Security.Cryptography;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace ModelGen.Generator.Tests;

/// <summary>
/// End to end without MSBuild: a hand-made spec and weights blob go through the generator, the
/// output is compiled with the weights as a manifest resource, loaded, and Predict is checked
/// against a result computed by hand.
/// </summary>
public class GeneratedPredictorRunTests
{
    // y = Relu(x · W + b) with x: [1,3], W: [3,2], b: [2]. The bias sits at offset 64, as the
    // optimizer aligns every weight to 64 bytes.
    private static readonly float[] W = { 1, 2, 3, 4, 5, 6 };
    private static readonly float[] B = { -20, 0.5f };

    [Fact]
    public void PredictMatchesHandComputedGemmRelu()
    {
        byte[] weights = new byte[72];
        Buffer.BlockCopy(W, 0, weights, 0, 24);
        Buffer.BlockCopy(B, 0, weights, 64, 8);
        string sha = Convert.ToHexStringLower(SHA256.HashData(weights));
        string spec =
            "modelgen-spec 1\n" +
            $"model name=\"Tiny\" source=\"tiny.onnx\" source-sha256=\"\" weights-sha256=\"{sha}\" weights-bytes=72 arena-bytes=192 ir-version=8 opset=17 producer=\"test\" producer-version=\"1\"\n" +
            "doc \"Gemm then Relu.\"\n" +
            "slot id=0 name=\"x\" type=float shape=[1,3] arena=0\n" +
            "slot id=1 name=\"W\" type=float shape=[3,2] weights=0\n" +
            "slot id=2 name=\"b\" type=float shape=[2] weights=64\n" +
            "slot id=3 name=\"gemm_out\" type=float shape=[1,2] arena=64\n" +
            "slot id=4 name=\"y\" type=float shape=[1,2] arena=128\n" +
            "input name=\"x\" slot=0 doc=\"\"\n" +
            "output name=\"y\" slot=4 doc=\"\"\n" +
            "step op=Gemm name=\"gemm\" in=[0,1,2] out=[3] @alpha=float:1 @beta=float:1 @transA=int:0 @transB=int:0\n" +
            "step op=Relu name=\"relu\" in=[3] out=[4]\n";

        var result = GeneratorHarness.Run(new SpecInput("Tiny.mgspec", spec, "TinyNet", "RunTest", "public"));
        string source = GeneratorHarness.SingleSource(result);
        var assembly = CompileAndLoad(source, "ModelGen.RunTest.TinyNet.weights", weights);

        var type = assembly.GetType("RunTest.TinyNet", throwOnError: true)!;
        Assert.Equal(3, (int)type.GetField("XLength")!.GetValue(null)!);
        Assert.Equal(2, (int)type.GetField("YLength")!.GetValue(null)!);

        // Predict takes spans, which reflection cannot pass: call it through a compiled thunk instead.
        var thunk = (Action<object, float[], float[]>)assembly.GetType("RunTest.Thunk", throwOnError: true)!
            .GetMethod("Predict")!.CreateDelegate(typeof(Action<object, float[], float[]>));
        using var predictor = (IDisposable)Activator.CreateInstance(type)!;

        float[] x = { 1, -2, 3 };
        float[] y = new float[2];
        thunk(predictor, x, y);

        // x·W = [1·1 - 2·3 + 3·5, 1·2 - 2·4 + 3·6] = [10, 12]; + b = [-10, 12.5]; Relu -> [0, 12.5].
        // The arithmetic is exact in fp32, so a tolerance of 1e-6 only allows for summation order.
        Assert.Equal(0f, y[0], 1e-6f);
        Assert.Equal(12.5f, y[1], 1e-6f);

        var ex = Assert.Throws<ArgumentException>(() => thunk(predictor, new float[4], y));
        Assert.Contains("must have 3 elements, got 4", ex.Message);
    }

    private static Assembly CompileAndLoad(string generated, string resourceName, byte[] weights)
    {
        const string thunk =
            "namespace RunTest { public static class Thunk { " +
            "public static void Predict(object p, float[] x, float[] y) => ((TinyNet)p).Predict(x, y); } }";
        var compilation = GeneratorHarness.CreateCompilation(
            CSharpSyntaxTree.ParseText(generated, GeneratorHarness.ParseOptions, "TinyNet.g.cs", cancellationToken: TestContext.Current.CancellationToken),
            CSharpSyntaxTree.ParseText(thunk, GeneratorHarness.ParseOptions, "Thunk.cs", cancellationToken: TestContext.Current.CancellationToken));
        using var pe = new MemoryStream();
        var emit = compilation.Emit(
            pe,
            manifestResources: new[] { new ResourceDescription(resourceName, () => new MemoryStream(weights), isPublic: true) },
            cancellationToken: TestContext.Current.CancellationToken);
        Assert.True(emit.Success, GeneratorHarness.Describe(emit.Diagnostics.Where(d => d.Severity >= DiagnosticSeverity.Warning)));
        pe.Position = 0;
        // A collectible context per test; ModelGen.Runtime resolves to the copy already loaded by the test host.
        var context = new AssemblyLoadContext("TinyNet" + Guid.NewGuid().ToString("N"), isCollectible: true);
        return context.LoadFromStream(pe);
    }
}
