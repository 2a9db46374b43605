using ModelGen.Tests;
using ModelGen.Onnx;
using ModelGen.Optimizer.Quantization;

namespace ModelGen.Optimizer.Tests;

/// <summary>
/// The optimized plan, run by the interpreter (the predictor's own executor and kernels), must
/// give ONNX Runtime's answers on the original model: norm-wise relative error
/// max|actual − expected| / max|expected| at most 1e-4.
/// The optimized .onnx must also still run in ONNX Runtime and agree.
/// </summary>
public class OptimizerVersusOrtTests
{
    private const double Tolerance = 1e-4;

    public static TheoryData<string> Models => new() { "Mlp", "MatMulMlp", "SmallCnn", "ConvBatchNorm", "ResidualCnn", "ResidualReadTwice", "FireModules" };

    private static TestModels Make(string name) => name switch
    {
        "Mlp" => TestModels.Mlp(),
        "MatMulMlp" => TestModels.MatMulMlp(),
        "SmallCnn" => TestModels.SmallCnn(),
        "ConvBatchNorm" => TestModels.ConvBatchNorm(),
        "ResidualCnn" => TestModels.ResidualCnn(),
        "ResidualReadTwice" => TestModels.ResidualReadTwice(),
        "FireModules" => TestModels.FireModules(),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void Interpreter_matches_onnx_runtime_on_random_inputs(string name)
    {
        using var dir = new TempFolder();
        var m = Make(name);
        string path = m.Save(dir.Path, name + ".onnx");
        var result = ModelOptimizer.Optimize(new OptimizeOptions(path, dir.Combine("out"), name));
        using var interpreter = result.CreateInterpreter();
        var input = interpreter.Inputs[0];

        for (int trial = 0; trial < 5; trial++)
        {
            var x = m.RandomInput((int)input.ElementCount);
            var expected = OrtReference.Run(path, (input.Name, input.Shape, x));
            var actual = interpreter.RunFloats(x);
            double err = Compare.MaxRelativeError(expected[0], actual[0]);
            Assert.True(err <= Tolerance, $"{name} trial {trial}: max relative error {err:E2} > {Tolerance:E0}");

            // The optimized model file is standard ONNX and agrees too.
            var fromOptimized = OrtReference.Run(dir.Combine($"out/{name}.onnx"), (input.Name, input.Shape, x));
            double err2 = Compare.MaxRelativeError(expected[0], fromOptimized[0]);
            Assert.True(err2 <= Tolerance, $"{name} optimized .onnx in ORT: max relative error {err2:E2}");
        }
    }

    [Fact]
    public void Fusion_and_folding_shrink_the_plan()
    {
        using var dir = new TempFolder();
        var cnn = ModelOptimizer.Optimize(new OptimizeOptions(TestModels.SmallCnn().Save(dir.Path, "cnn.onnx"), "", "Cnn"));
        // Conv+Relu twice fuse; Flatten stays a copy: 8 nodes become 6 steps.
        Assert.Equal(8, cnn.OriginalNodes);
        Assert.Equal(6, cnn.Steps);
        Assert.Equal(2, cnn.PassCounts["activation-fusion"]);

        var bn = ModelOptimizer.Optimize(new OptimizeOptions(TestModels.ConvBatchNorm().Save(dir.Path, "bn.onnx"), "", "Bn"));
        Assert.Equal(2, bn.PassCounts["batchnorm-folding"]);
        Assert.DoesNotContain(bn.Optimized.Graph.Nodes, n => n.OpType == "BatchNormalization");
        Assert.Contains(bn.Optimized.Graph.Nodes, n => n.OpType == "Conv" && n.GetString("activation", "") == "Clip");

        var mlp = ModelOptimizer.Optimize(new OptimizeOptions(TestModels.MatMulMlp().Save(dir.Path, "mm.onnx"), "", "Mm"));
        // Reshape by a constant shape, MatMul+Add+LeakyRelu, MatMul+Add+Sigmoid, Gemm, Tanh.
        Assert.Equal(4, mlp.Steps);
        Assert.All(mlp.Optimized.Graph.Nodes.Where(n => n.OpType == "MatMul"), n => Assert.Equal(3, n.Inputs.Count));
    }

    [Fact]
    public void Residual_adds_fuse_into_their_convs_unless_quantization_follows()
    {
        using var dir = new TempFolder();
        string path = TestModels.ResidualCnn().Save(dir.Path, "res.onnx");
        var fused = ModelOptimizer.Optimize(new OptimizeOptions(path, dir.Combine("out"), "Res"));
        // 6 Convs, 5 Relus, Add, Sum, pool, Flatten, Gemm = 16 nodes; each Relu and both residual adds fuse into a Conv.
        Assert.Equal(16, fused.OriginalNodes);
        Assert.Equal(9, fused.Steps);
        Assert.DoesNotContain(fused.Compiled.Spec.Steps, s => s.Op is "Add" or "Sum" or "Relu");
        var residualConvs = fused.Optimized.Graph.Nodes.Where(n => n.OpType == "Conv" && n.InputOrEmpty(4).Length > 0).ToList();
        Assert.Equal(2, residualConvs.Count);
        Assert.All(residualConvs, n => Assert.Equal("Relu", n.GetString("activation", "")));
        // The optimized .onnx is standard ONNX: the residuals are Adds again.
        var written = OnnxLoader.Load(File.ReadAllBytes(dir.Combine("out/Res.onnx")), dir.Combine("out"), "Res.onnx");
        Assert.Equal(2, written.Graph.Nodes.Count(n => n.OpType == "Add" && n.Name.EndsWith("__residual", StringComparison.Ordinal)));
        Assert.All(written.Graph.Nodes.Where(n => n.OpType == "Conv"), n => Assert.True(n.Inputs.Count <= 3));

        var quantized = ModelOptimizer.Optimize(new OptimizeOptions(path, dir.Combine("q"), "ResQ") { Quantize = QuantizeMode.Int8Weights, AllowUngated = true });
        Assert.DoesNotContain(quantized.Optimized.Graph.Nodes, n => n.OpType == "Conv" && n.InputOrEmpty(4).Length > 0);
    }

    [Fact]
    public void Batch_one_channel_concats_need_no_step_unless_the_plan_is_batch_polymorphic()
    {
        using var dir = new TempFolder();
        var fixedBatch = ModelOptimizer.Optimize(new OptimizeOptions(TestModels.FireModules().Save(dir.Path, "fire.onnx"), dir.Combine("out"), "Fire"));
        var spec = fixedBatch.Compiled.Spec;
        Assert.DoesNotContain(spec.Steps, s => s.Op == "Concat");
        // Each expand writes into its part of the concatenated output: its slot is inside the output's bytes.
        var concats = fixedBatch.Optimized.Graph.Nodes.Where(n => n.OpType == "Concat").ToList();
        Assert.Equal(2, concats.Count);
        foreach (var concat in concats)
        {
            var output = spec.Slots.Single(s => s.Name == concat.Outputs[0]);
            long at = output.Offset;
            foreach (var input in concat.Inputs)
            {
                var slot = spec.Slots.Single(s => s.Name == input);
                Assert.Equal(at, slot.Offset);
                at += Spec.SpecReader.ByteLength(slot);
            }
        }

        var batched = ModelOptimizer.Optimize(new OptimizeOptions(TestModels.FireModules().WithSymbolicBatch().Save(dir.Path, "fireN.onnx"), dir.Combine("outN"), "FireN"));
        Assert.Equal(2, batched.Compiled.Spec.Steps.Count(s => s.Op == "Concat"));
    }

    [Fact]
    public void Memory_planner_reuses_buffers()
    {
        using var dir = new TempFolder();
        var result = ModelOptimizer.Optimize(new OptimizeOptions(TestModels.SmallCnn().Save(dir.Path, "cnn.onnx"), "", "Cnn"));
        var spec = result.Compiled.Spec;
        long sum = spec.Slots.Where(s => s.Storage == Spec.SlotStorage.Arena).Sum(s => Spec.SpecReader.ByteLength(s));
        Assert.True(spec.ArenaBytes < sum, $"arena {spec.ArenaBytes} B should be smaller than the {sum} B of all activations");
    }

    [Fact]
    public void Outputs_are_byte_identical_across_runs()
    {
        using var dir = new TempFolder();
        string path = TestModels.SmallCnn().Save(dir.Path, "cnn.onnx");
        ModelOptimizer.Optimize(new OptimizeOptions(path, dir.Combine("a"), "Cnn"));
        ModelOptimizer.Optimize(new OptimizeOptions(path, dir.Combine("b"), "Cnn"));
        foreach (var ext in new[] { ".mgspec", ".weights", ".onnx" })
        {
            Assert.Equal(File.ReadAllBytes(dir.Combine("a/Cnn" + ext)), File.ReadAllBytes(dir.Combine("b/Cnn" + ext)));
        }
    }
}
