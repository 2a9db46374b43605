using ModelGen.Cli;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Runtime;
using ModelGen.Tests;

namespace ModelGen.Optimizer.Tests;

/// <summary>
/// The `modelgen` command: outputs, exit codes, and one MG1xxx error per kind of bad input, in
/// MSBuild's canonical format, naming the file, with no stack trace.
/// </summary>
public class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = CliApp.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static void AssertError(string file, string code, (int Code, string Out, string Err) r, string? mentions = null)
    {
        Assert.Equal(CliApp.BadInput, r.Code);
        Assert.Contains($"{file}: error {code}: ", r.Err);
        if (mentions is not null) Assert.Contains(mentions, r.Err);
        Assert.DoesNotContain("   at ", r.Err); // no stack trace
    }

    [Fact]
    public void Optimize_writes_spec_weights_and_onnx()
    {
        using var dir = new TempFolder();
        string model = TestModels.Mlp().Save(dir.Path, "my-mlp.onnx");
        var r = Run("optimize", model, "--out", dir.Combine("out"));
        Assert.True(r.Code == 0, r.Err);
        // --name defaults to the file name in PascalCase.
        foreach (var ext in new[] { ".mgspec", ".weights", ".onnx" }) Assert.True(File.Exists(dir.Combine("out/MyMlp" + ext)), ext);
        var spec = Spec.SpecReader.Read(File.ReadAllText(dir.Combine("out/MyMlp.mgspec")));
        Assert.Equal("MyMlp", spec.Name);
        Assert.Equal(new FileInfo(dir.Combine("out/MyMlp.weights")).Length, spec.WeightsBytes);
        Assert.Contains("my-mlp.onnx -> MyMlp", r.Out);
    }

    [Fact]
    public void Response_file_arguments_are_read_one_per_line()
    {
        using var dir = new TempFolder();
        string model = TestModels.Mlp().Save(dir.Path, "m.onnx");
        File.WriteAllLines(dir.Combine("args.rsp"), new[] { "optimize", model, "--out", dir.Combine("o"), "--name", "Net" });
        var r = Run("@" + dir.Combine("args.rsp"));
        Assert.True(r.Code == 0, r.Err);
        Assert.True(File.Exists(dir.Combine("o/Net.mgspec")));
    }

    [Fact]
    public void Missing_file_is_MG1001()
    {
        using var dir = new TempFolder();
        string path = dir.Combine("nope.onnx");
        AssertError(path, ErrorCodes.FileNotFound, Run("optimize", path, "--out", dir.Combine("o")));
    }

    [Fact]
    public void Corrupt_file_is_MG1002()
    {
        using var dir = new TempFolder();
        string path = dir.Combine("corrupt.onnx");
        var bytes = new byte[4096];
        new Random(5).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        AssertError(path, ErrorCodes.CorruptModel, Run("optimize", path, "--out", dir.Combine("o")));
        Assert.False(File.Exists(dir.Combine("o/Corrupt.mgspec")));
    }

    [Fact]
    public void Truncated_file_is_MG1003()
    {
        using var dir = new TempFolder();
        var bytes = File.ReadAllBytes(TestModels.SmallCnn().Save(dir.Path, "full.onnx"));
        string path = dir.Combine("truncated.onnx");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        AssertError(path, ErrorCodes.TruncatedModel, Run("optimize", path, "--out", dir.Combine("o")));
    }

    [Fact]
    public void Unsupported_op_with_fallback_Error_is_MG1004_and_names_the_op()
    {
        using var dir = new TempFolder();
        string path = HardmaxModel(dir);
        AssertError(path, ErrorCodes.UnsupportedOp, Run("optimize", path, "--out", dir.Combine("o"), "--fallback", "Error"), mentions: "Hardmax");
    }

    [Fact]
    public void Unsupported_op_by_default_warns_MG1017_and_writes_the_outputs()
    {
        using var dir = new TempFolder();
        string path = HardmaxModel(dir);
        var r = Run("optimize", path, "--out", dir.Combine("o"));
        Assert.True(r.Code == 0, r.Out + r.Err);
        Assert.Contains($"{path}: warning MG1017: ModelGen does not compile Hardmax (node 'n0_Hardmax')", r.Out);
        Assert.True(File.Exists(dir.Combine("o/Hardmax.mgspec")));
        Assert.Contains(" engine=onnxruntime", File.ReadAllText(dir.Combine("o/Hardmax.mgspec")));
    }

    [Fact]
    public void Inspect_lists_each_op_and_where_it_runs()
    {
        using var dir = new TempFolder();
        string path = HardmaxModel(dir);
        var r = Run("inspect", path);
        Assert.True(r.Code == 0, r.Out + r.Err);
        Assert.Matches(@"(?m)^Hardmax\s+1\s+falls back to ONNX Runtime", r.Out);
        Assert.Contains("input:  x float [1,4]", r.Out);
    }

    [Fact]
    public void Bad_max_batch_is_MG1010()
    {
        using var dir = new TempFolder();
        string path = HardmaxModel(dir);
        var r = Run("optimize", path, "--out", dir.Combine("o"), "--max-batch", "-3");
        Assert.Equal(CliApp.BadInput, r.Code);
        Assert.Contains("error MG1010: MaxBatch must be a whole number from 0 to 65536, not '-3'.", r.Err);
    }

    private static string HardmaxModel(TempFolder dir)
    {
        var m = new TestModels(6);
        var x = m.Input("x", 1, 4);
        m.Output(m.Node("Hardmax", new[] { x }));
        return m.Save(dir.Path, "hardmax.onnx");
    }

    [Fact]
    public void Shape_mismatch_is_MG1005()
    {
        using var dir = new TempFolder();
        var m = new TestModels(7);
        var x = m.Input("x", 1, 12);
        // Gemm needs K to agree: the input has 12 columns, the weight 10 rows.
        m.Output(m.Node("Gemm", new[] { x, m.Weight("w", new[] { 10, 3 }) }));
        string path = m.Save(dir.Path, "mismatch.onnx");
        AssertError(path, ErrorCodes.ShapeMismatch, Run("optimize", path, "--out", dir.Combine("o")));
    }

    [Fact]
    public void Opset_newer_than_supported_is_MG1014()
    {
        using var dir = new TempFolder();
        var m = new TestModels(9, opset: Validation.OpsetSupport.MaxDefaultOpset + 1);
        m.Output(m.Node("Relu", new[] { m.Input("x", 1, 4) }));
        string path = m.Save(dir.Path, "future.onnx");
        AssertError(path, ErrorCodes.UnsupportedOpset, Run("optimize", path, "--out", dir.Combine("o")),
            mentions: $"opset {Validation.OpsetSupport.MaxDefaultOpset + 1}");
    }

    [Fact]
    public void Missing_required_attribute_is_MG1015_and_names_the_node()
    {
        using var dir = new TempFolder();
        var m = new TestModels(10);
        var x = m.Input("x", 1, 4);
        // Concat requires 'axis'.
        m.Output(m.Node("Concat", new[] { x, x }));
        string path = m.Save(dir.Path, "noaxis.onnx");
        AssertError(path, ErrorCodes.MissingAttribute, Run("optimize", path, "--out", dir.Combine("o")), mentions: "'axis'");
    }

    [Fact]
    public void Bad_arguments_are_MG1010()
    {
        Assert.Equal(CliApp.BadInput, Run("optimize").Code);
        Assert.Contains("error MG1010", Run("frobnicate").Err);
        Assert.Contains("error MG1010", Run("optimize", "x.onnx", "--out", "o", "--name", "1bad").Err);
        Assert.Equal(CliApp.Success, Run("--help").Code);
    }

    [Fact]
    public void Symbolic_batch_gets_a_batched_plan_and_another_symbolic_dim_a_warning()
    {
        using var dir = new TempFolder();
        var m = new TestModels(8);
        m.Graph.Inputs.Add(new TensorInfo("x", ElementType.Float, new[] { Dim.Symbolic("N"), Dim.Of(4) }));
        m.Output(m.Node("Relu", new[] { "x" }));
        string path = m.Save(dir.Path, "dyn.onnx");
        var r = Run("optimize", path, "--out", dir.Combine("o"), "--max-batch", "32");
        Assert.True(r.Code == 0, r.Err);
        Assert.DoesNotContain("warning", r.Out);
        Assert.Contains(" max-batch=32", File.ReadAllText(dir.Combine("o/Dyn.mgspec")));

        // With MaxBatch 0 the batch is compiled as 1, with MG1013.
        r = Run("optimize", path, "--out", dir.Combine("o0"), "--max-batch", "0");
        Assert.Equal(0, r.Code);
        Assert.Contains($"{path}: warning {ModelOptimizer.SymbolicDimensionWarning}: ", r.Out);

        // A symbolic dimension other than the batch is compiled as 1, with MG1013.
        var w = new TestModels(9);
        w.Graph.Inputs.Add(new TensorInfo("x", ElementType.Float, new[] { Dim.Of(1), Dim.Symbolic("width") }));
        w.Output(w.Node("Relu", new[] { "x" }));
        string wide = w.Save(dir.Path, "wide.onnx");
        r = Run("optimize", wide, "--out", dir.Combine("ow"));
        Assert.Equal(0, r.Code);
        Assert.Contains($"{wide}: warning {ModelOptimizer.SymbolicDimensionWarning}: input 'x' dimension 1 is symbolic ('width')", r.Out);
    }

    [Fact]
    public void Real_ir3_model_keeps_weights_out_of_the_inputs()
    {
        using var dir = new TempFolder();
        string model = TestData.Require("real/mnist-8.onnx");
        var r = Run("optimize", model, "--out", dir.Combine("o"), "--name", "Mnist");
        Assert.True(r.Code == 0, r.Err);
        var spec = Spec.SpecReader.Read(File.ReadAllText(dir.Combine("o/Mnist.mgspec")));
        Assert.Equal("Input3", Assert.Single(spec.Inputs).Name);
        Assert.Equal("Plus214_Output_0", Assert.Single(spec.Outputs).Name);
    }

    [Theory]
    [InlineData("--prune", "Bogus", "MG1040")]
    [InlineData("--sparsity", "2", "MG1041")]
    [InlineData("--prune-scope", "Somewhere", "MG1042")]
    [InlineData("--low-rank", "Energy:7", "MG1043")]
    [InlineData("--recover", "Train", "MG1044")]
    public void Bad_pruning_values_are_MG104x_errors(string option, string value, string code)
    {
        using var dir = new TempFolder();
        string model = TestModels.Mlp().Save(dir.Path, "mlp.onnx");
        AssertError(model, code, Run("optimize", model, "--out", dir.Combine("out"), option, value), value);
    }

    [Fact]
    public void Prune_magnitude_writes_a_smaller_weights_file_and_a_report_with_the_pruning_section()
    {
        using var dir = new TempFolder();
        string model = TestModels.Mlp().Save(dir.Path, "mlp.onnx");
        var dense = Run("optimize", model, "--out", dir.Combine("dense"));
        var r = Run("optimize", model, "--out", dir.Combine("out"), "--prune", "Magnitude", "--sparsity", "0.9", "--allow-ungated", "true");
        Assert.True(dense.Code == 0 && r.Code == 0, r.Err);
        Assert.Contains("warning MG1031", r.Out);
        Assert.True(new FileInfo(dir.Combine("out/Mlp.weights")).Length < 0.3 * new FileInfo(dir.Combine("dense/Mlp.weights")).Length);
        string report = File.ReadAllText(dir.Combine("out/Mlp.report.md"));
        Assert.Contains("## Pruning and factorization", report);
        Assert.Contains("\"pruning\"", File.ReadAllText(dir.Combine("out/Mlp.report.json")));
    }
}
