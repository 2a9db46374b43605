using ModelGen.Tests;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Inspection;
using ModelGen.Spec;

using ModelGen.Optimizer.Tests.Batching;

namespace ModelGen.Optimizer.Tests.Fallback;

/// <summary>
/// A model holding an op ModelGen has no kernel for (TopK) still compiles: warning MG1017 names
/// the op and node, the spec says ONNX Runtime runs it, and the interpreter (the engine a
/// generated predictor uses) matches ONNX Runtime on the source file. Fallback=Error fails.
/// </summary>
public sealed class OnnxRuntimeFallbackTests
{
    /// <summary>Gemm → Relu → TopK(k=3) on a 1x10 input; the graph output is TopK's values.</summary>
    private static TestModels TopKModel(bool symbolicBatch = false)
    {
        var m = new TestModels(21);
        var x = m.Input("x", 1, 10);
        var h = m.Node("Gemm", new[] { x, m.Weight("w", new[] { 10, 12 }, 0.4f), m.Weight("b", new[] { 12 }, 0.1f) });
        h = m.Node("Relu", new[] { h });
        var topk = m.MultiNode("TopK", new[] { h, m.Ints("k", 3) }, 2, OnnxAttribute.OfInt("axis", 1));
        m.Output(topk[0]);
        return symbolicBatch ? m.WithSymbolicBatch() : m;
    }

    [Fact]
    public void UnsupportedOpBuildsWithWarningAndMatchesOnnxRuntime()
    {
        using var dir = new TempFolder();
        var m = TopKModel();
        string path = m.Save(dir.Path, "topk.onnx");
        var result = ModelOptimizer.Optimize(new OptimizeOptions(path, dir.Combine("out"), "TopKNet"));

        var warning = Assert.Single(result.Warnings, w => w.Code == ErrorCodes.OnnxRuntimeFallback);
        Assert.Contains("TopK (node 'n2_TopK')", warning.Message);
        Assert.Equal(path, warning.File);
        Assert.Equal(ModelSpec.OnnxRuntimeEngine, result.Compiled.Spec.Engine);
        Assert.Empty(result.Compiled.Spec.Steps);
        Assert.Equal(new[] { 1, 3 }, result.Compiled.Spec.Slots[result.Compiled.Spec.Outputs[0].Slot].Shape.ToArray());
        // The weights blob is the model itself, and it is what the .onnx output holds too.
        Assert.Equal(result.Compiled.Weights.Length, result.Compiled.Spec.WeightsBytes);
        Assert.True(File.Exists(dir.Combine("out/TopKNet.weights")));

        using var interpreter = result.CreateInterpreter();
        Assert.True(interpreter.RunsOnOnnxRuntime);
        for (int trial = 0; trial < 3; trial++)
        {
            var x = m.RandomInput(10);
            var expected = OrtReference.Run(path, ("x", new[] { 1, 10 }, x))[0];
            var actual = interpreter.RunFloats(x)[0];
            Compare.Close(expected, actual, 1e-6f, 1e-7f, "TopK values");
        }
    }

    [Fact]
    public void FallbackErrorFailsNamingTheOp()
    {
        using var dir = new TempFolder();
        string path = TopKModel().Save(dir.Path, "topk.onnx");
        var e = Assert.Throws<OnnxException>(() => ModelOptimizer.Optimize(
            new OptimizeOptions(path, dir.Combine("out"), "TopKNet") { Fallback = FallbackMode.Error }));
        Assert.Equal(ErrorCodes.UnsupportedOp, e.Code);
        Assert.Contains("TopK (node 'n2_TopK')", e.Message);
        Assert.Contains("Fallback=\"Error\"", e.Message);
        Assert.False(Directory.Exists(dir.Combine("out")) && Directory.EnumerateFiles(dir.Combine("out")).Any(), "a failed build leaves no outputs");
    }

    [Fact]
    public void QuantizeIsIgnoredWithAWarningOnTheFallback()
    {
        using var dir = new TempFolder();
        string path = TopKModel().Save(dir.Path, "topk.onnx");
        var result = ModelOptimizer.Optimize(new OptimizeOptions(path, "", "TopKNet")
        {
            Quantize = ModelGen.Optimizer.Quantization.QuantizeMode.Int8Weights,
            AllowUngated = true,
        });
        Assert.Contains(result.Warnings, w => w.Code == ErrorCodes.LossyIgnoredOnFallback);
        Assert.Equal(ModelSpec.OnnxRuntimeEngine, result.Compiled.Spec.Engine);
    }

    [Fact]
    public void SymbolicBatchOnTheFallbackStacksInputsAndOutputs()
    {
        using var dir = new TempFolder();
        var m = TopKModel(symbolicBatch: true);
        string path = m.Save(dir.Path, "topk.onnx");
        var result = ModelOptimizer.Optimize(new OptimizeOptions(path, "", "TopKNet") { MaxBatch = 16 });
        var spec = result.Compiled.Spec;
        Assert.Equal(16, spec.MaxBatch);
        Assert.All(spec.Slots, s => Assert.Equal(0, s.BatchAxis));
        Assert.DoesNotContain(result.Warnings, w => w.Code == ModelOptimizer.SymbolicDimensionWarning);

        var plan = Planning.SpecToPlan.Convert(spec);
        using var weights = Runtime.ModelWeights.FromBytes(result.Compiled.Weights);
        using var ort = new Runtime.OnnxRuntime.OnnxRuntimeModel(weights, "test");
        using var batch = new Runtime.BatchedExecutor(plan, 16, p => new Runtime.OnnxRuntime.OnnxRuntimeExecutor(p, ort));
        var x = m.RandomInput(7 * 10);
        var expected = OrtReference.Run(path, ("x", new[] { 7, 10 }, x))[0];
        var actual = BatchRun.Floats(batch, 7, x, 10, 3);
        Compare.Close(expected, actual, 1e-6f, 1e-7f, "TopK values, batch 7");
    }

    [Fact]
    public void InspectListsWhatIsCompiledAndWhatFallsBack()
    {
        using var dir = new TempFolder();
        string path = TopKModel().Save(dir.Path, "topk.onnx");
        string text = ModelInspector.Inspect(path);
        Assert.Matches(@"(?m)^Gemm\s+1\s+compiled \(CPU and device kernels\)$", text);
        Assert.Matches(@"(?m)^TopK\s+1\s+falls back to ONNX Runtime \(no ModelGen kernel\)$", text);
        Assert.Contains("verdict: ONNX Runtime runs the whole model", text);

        string compiled = TestModels.Mlp().Save(dir.Path, "mlp.onnx");
        string mlp = ModelInspector.Inspect(compiled);
        Assert.DoesNotContain("falls back", mlp);
        Assert.Contains("verdict: compiled by ModelGen: 4 nodes -> ", mlp);
        Assert.Contains("backends: Cpu, Cuda, OpenCL, IlgpuCpu (every step has a device kernel)", mlp);
    }
}
