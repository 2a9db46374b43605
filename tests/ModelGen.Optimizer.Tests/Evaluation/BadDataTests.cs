using ModelGen.Tests;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Quantization;
using ModelGen.Runtime;
using static ModelGen.Optimizer.Tests.Evaluation.NpyFixtures;

namespace ModelGen.Optimizer.Tests.Evaluation;

/// <summary>
/// Issue 3's bad-data cases: each gets its own MG code, naming the file and the array, and a
/// failed build leaves none of the model's outputs behind.
/// </summary>
public class BadDataTests
{
    [Fact]
    public void NaN_in_float32_data_is_MG1026_naming_the_array_the_index_and_the_sample()
    {
        using var dir = new TempFolder();
        var values = new float[3 * 2 * 2];
        values[7] = float.NaN; // flat 7 in (3, 2, 2) = (1, 1, 1)
        string path = dir.Combine("v.npz");
        Npz.Write(path, [("x", NpyArray.FromFloats([3, 2, 2], values))]);
        var e = Fails(EvaluationErrors.NonFiniteData, () => ValidationSet.Load(path, [TensorInfo.Static("x", ElementType.Float, 1, 2, 2)]));
        Assert.Contains($"array 'x' in '{path}' holds NaN at index (1, 1, 1) (sample 1)", e.Message);
        Assert.Equal(path, e.File);
    }

    [Fact]
    public void Infinity_in_float64_data_is_MG1026_even_though_it_would_convert()
    {
        using var dir = new TempFolder();
        string path = dir.Combine("v.npz");
        Npz.Write(path, [("x", NpyArray.From<double>(ElementType.Double, [2, 3], [0, 1, 2, 3, double.NegativeInfinity, 5]))]);
        var e = Fails(EvaluationErrors.NonFiniteData, () => ValidationSet.Load(path, [TensorInfo.Static("x", ElementType.Float, 1, 3)]));
        Assert.Contains("holds -Infinity at index (1, 1) (sample 1)", e.Message);
    }

    [Fact]
    public void Integer_data_is_not_checked_and_finite_floats_pass()
    {
        using var dir = new TempFolder();
        string path = dir.Combine("v.npz");
        Npz.Write(path, [("x", NpyArray.From<long>(ElementType.Int64, [2, 2], [1, 2, 3, 4])), ("y", NpyArray.FromFloats([2, 1], [float.MaxValue, -0f]))]);
        var set = ValidationSet.Load(path, [TensorInfo.Static("x", ElementType.Float, 1, 2), TensorInfo.Static("y", ElementType.Float, 1, 1)]);
        Assert.Equal(2, set.Count);
    }

    [Fact]
    public void NaN_in_a_test_data_set_tensor_is_MG1026_naming_the_file()
    {
        using var dir = new TempFolder();
        string set = Path.Combine(dir.Path, "test_data_set_0");
        Directory.CreateDirectory(set);
        string file = Path.Combine(set, "input_0.pb");
        File.WriteAllBytes(file, OnnxWriter.TensorToBytes(OnnxTensor.FromFloats("x", [1, 3], [0f, float.PositiveInfinity, 1f])));
        var e = Fails(EvaluationErrors.NonFiniteData, () => ValidationSet.Load(dir.Path, [TensorInfo.Static("x", ElementType.Float, 1, 3)]));
        Assert.Contains("input_0.pb' (model input 'x') holds Infinity at index (0, 1)", e.Message);
        Assert.Equal(file, e.File);
    }

    /// <summary>The data for the MLP test model (input [1,196], 10 classes), broken in one way.</summary>
    public static TheoryData<string, string> BrokenData => new()
    {
        { "missing array", EvaluationErrors.InputArrayMissing },
        { "wrong shape", EvaluationErrors.SampleShapeMismatch },
        { "NaN", EvaluationErrors.NonFiniteData },
        { "labels too short", EvaluationErrors.BadLabels },
        { "label out of range", EvaluationErrors.BadLabels },
        { "corrupt", EvaluationErrors.DataFileMalformed },
        { "no file", EvaluationErrors.DataFileMissing },
    };

    [Theory]
    [MemberData(nameof(BrokenData))]
    public void A_bad_data_build_fails_with_its_code_and_leaves_no_outputs(string broken, string code)
    {
        using var dir = new TempFolder();
        string model = TestModels.Mlp().Save(dir.Path, "m.onnx");
        string outDir = Path.Combine(dir.Path, "out");
        // Outputs of an earlier, successful build (and a report from an earlier quantized one) must not survive the failed build.
        ModelOptimizer.Optimize(new OptimizeOptions(model, outDir, "M"));
        File.WriteAllText(Path.Combine(outDir, "M.report.md"), "old");
        File.WriteAllText(Path.Combine(outDir, "M.report.json"), "{}");
        Assert.NotEmpty(Directory.GetFiles(outDir, "M.*"));

        string data = Write(dir.Combine("val.npz"), broken);
        var e = Fails(code, () => ModelOptimizer.Optimize(new OptimizeOptions(model, outDir, "M")
        {
            Quantize = QuantizeMode.Int8, ValidationData = data, Metric = MetricKind.Top1,
        }));
        Assert.Equal(Path.GetFullPath(data), Path.GetFullPath(e.File!));
        Assert.Empty(Directory.GetFiles(outDir, "M.*"));
    }

    private static string Write(string path, string broken)
    {
        const int samples = 20;
        var rng = new Random(5);
        var x = Enumerable.Range(0, samples * 196).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var labels = Enumerable.Range(0, samples).Select(i => (long)(i % 10)).ToArray();
        switch (broken)
        {
            case "missing array":
                Npz.Write(path, [("image", NpyArray.FromFloats([samples, 196], x))]);
                break;
            case "wrong shape":
                Npz.Write(path, [("input", NpyArray.FromFloats([samples, 14, 14], x))]);
                break;
            case "NaN":
                x[3 * 196 + 5] = float.NaN;
                Npz.Write(path, [("input", NpyArray.FromFloats([samples, 196], x))]);
                break;
            case "labels too short":
                Npz.Write(path, [("input", NpyArray.FromFloats([samples, 196], x)), ("labels", NpyArray.From<long>(ElementType.Int64, [samples - 1], labels[1..]))]);
                break;
            case "label out of range":
                labels[4] = 10;
                Npz.Write(path, [("input", NpyArray.FromFloats([samples, 196], x)), ("labels", NpyArray.From<long>(ElementType.Int64, [samples], labels))]);
                break;
            case "corrupt":
                Npz.Write(path, [("input", NpyArray.FromFloats([samples, 196], x))]);
                var bytes = File.ReadAllBytes(path);
                File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]); // truncated mid-file: the zip directory is gone
                break;
            case "no file":
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(broken), broken, "unknown case");
        }
        return path;
    }
}
