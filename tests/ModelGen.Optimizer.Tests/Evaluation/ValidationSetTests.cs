using System.Runtime.InteropServices;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Runtime;
using ModelGen.Tests;
using static ModelGen.Optimizer.Tests.Evaluation.NpyFixtures;

namespace ModelGen.Optimizer.Tests.Evaluation;

/// <summary>Loading validation data (.npz and test_data_set_* folders) for a model's inputs.</summary>
public class ValidationSetTests
{
    private static float[] Range(int n, float start = 0) => Enumerable.Range(0, n).Select(i => start + i).ToArray();

    private static float[] FloatsOf(OnnxTensor t) => t.AsSpan<float>().ToArray();

    private static string WriteNpz(TempFolder dir, params (string, NpyArray)[] arrays)
    {
        string path = dir.Combine("val.npz");
        Npz.Write(path, arrays);
        return path;
    }

    [Fact]
    public void Samples_stacked_along_the_batch_axis_come_back_with_batch_1()
    {
        using var dir = new TempFolder();
        string path = WriteNpz(dir, ("x", NpyArray.FromFloats([4, 2, 3], Range(24))),
            ("labels", NpyArray.From<long>(ElementType.Int64, [4], [3, 1, 4, 1])));
        var set = ValidationSet.Load(path, [TensorInfo.Static("x", ElementType.Float, 1, 2, 3)]);
        Assert.Equal(4, set.Count);
        Assert.Equal(path, set.Path);
        Assert.Equal(new[] { 3, 1, 4, 1 }, set.Labels);
        var sample = set.Sample(2);
        Assert.Single(sample);
        Assert.Equal("x", sample[0].Name);
        Assert.Equal(new[] { 1, 2, 3 }, sample[0].Shape);
        Assert.Equal(Range(6, 12), FloatsOf(sample[0]));
        Assert.Throws<ArgumentOutOfRangeException>(() => set.Sample(4));
    }

    [Fact]
    public void Samples_on_a_new_leading_axis_fit_inputs_with_or_without_a_batch_dimension()
    {
        using var dir = new TempFolder();
        string path = WriteNpz(dir, ("x", NpyArray.FromFloats([3, 1, 2, 2], Range(12))), ("v", NpyArray.FromFloats([3, 5], Range(15))));
        var set = ValidationSet.Load(path, [TensorInfo.Static("x", ElementType.Float, 1, 2, 2), TensorInfo.Static("v", ElementType.Float, 5)]);
        Assert.Equal(3, set.Count);
        Assert.Null(set.Labels);
        var s1 = set.Sample(1);
        Assert.Equal(new[] { 1, 2, 2 }, s1[0].Shape);
        Assert.Equal(Range(4, 4), FloatsOf(s1[0]));
        Assert.Equal(new[] { 5 }, s1[1].Shape);
        Assert.Equal(Range(5, 5), FloatsOf(s1[1]));
    }

    [Fact]
    public void A_symbolic_batch_dimension_becomes_1_and_other_symbolic_dimensions_come_from_the_data()
    {
        using var dir = new TempFolder();
        string path = WriteNpz(dir, ("x", NpyArray.FromFloats([2, 6], Range(12))));
        var input = new TensorInfo("x", ElementType.Float, [Dim.Symbolic("N"), Dim.Symbolic("len")]);
        var set = ValidationSet.Load(path, [input]);
        Assert.Equal(new[] { 1, 6 }, set.Inputs[0].StaticShape());
        Assert.Equal(Range(6, 6), FloatsOf(set.Sample(1)[0]));
    }

    [Fact]
    public void Converts_data_to_each_inputs_element_type_by_value()
    {
        using var dir = new TempFolder();
        string path = WriteNpz(dir,
            ("ids", NpyArray.From<int>(ElementType.Int32, [2, 1, 3], [1, -2, 3, 400000, 5, 6])),
            ("mask", NpyArray.From<double>(ElementType.Double, [2, 1, 3], [0.1, 0.2, 0.3, 1e-40, 2, 3])),
            ("pixels", NpyArray.From<byte>(ElementType.UInt8, [2, 2], [0, 255, 128, 7])),
            ("labels", NpyArray.From<byte>(ElementType.UInt8, [2], [9, 0])));
        var set = ValidationSet.Load(path, [
            TensorInfo.Static("ids", ElementType.Int64, 1, 3),
            TensorInfo.Static("mask", ElementType.Float, 1, 3),
            TensorInfo.Static("pixels", ElementType.Float, 1, 2)]);
        var s = set.Sample(1);
        Assert.Equal(ElementType.Int64, s[0].Type);
        Assert.Equal(new long[] { 400000, 5, 6 }, s[0].AsSpan<long>().ToArray());
        Assert.Equal(new float[] { (float)1e-40, 2, 3 }, FloatsOf(s[1])); // float64 -> float32 rounds to nearest (here a subnormal)
        Assert.Equal(new float[] { 128, 7 }, FloatsOf(s[2])); // no scaling: uint8 pixels stay 0..255
        Assert.Equal(new[] { 9, 0 }, set.Labels);
    }

    [Fact]
    public void Missing_array_is_MG1024_wrong_shape_and_inconsistent_counts_are_MG1025_naming_the_input()
    {
        using var dir = new TempFolder();
        var x = TensorInfo.Static("Input3", ElementType.Float, 1, 1, 28, 28);
        string path = WriteNpz(dir, ("image", NpyArray.FromFloats([2, 784], new float[1568])));
        var missing = Fails(EvaluationErrors.InputArrayMissing, () => ValidationSet.Load(path, [x]));
        Assert.Contains("no array 'Input3' for the model input 'Input3'", missing.Message);
        Assert.Contains("it holds: 'image'", missing.Message);
        Assert.Equal(path, missing.File);

        path = WriteNpz(dir, ("Input3", NpyArray.FromFloats([2, 28, 28], new float[1568])));
        var shape = Fails(EvaluationErrors.SampleShapeMismatch, () => ValidationSet.Load(path, [x]));
        Assert.Contains("shape (2, 28, 28)", shape.Message);
        Assert.Contains("expected (S, 1, 28, 28) or (S, 1, 1, 28, 28)", shape.Message);

        path = WriteNpz(dir, ("a", NpyArray.FromFloats([3, 2], new float[6])), ("b", NpyArray.FromFloats([2, 2], new float[4])));
        var counts = Fails(EvaluationErrors.SampleShapeMismatch, () => ValidationSet.Load(path,
            [TensorInfo.Static("a", ElementType.Float, 1, 2), TensorInfo.Static("b", ElementType.Float, 1, 2)]));
        Assert.Contains("array 'b' in", counts.Message);
        Assert.Contains("holds 2 samples but array 'a' holds 3", counts.Message);

        path = WriteNpz(dir, ("a", NpyArray.FromFloats([0, 2], [])));
        Assert.Contains("zero samples", Fails(EvaluationErrors.DataMismatch,
            () => ValidationSet.Load(path, [TensorInfo.Static("a", ElementType.Float, 1, 2)])).Message);
    }

    [Fact]
    public void Bad_labels_are_MG1027()
    {
        using var dir = new TempFolder();
        var a = TensorInfo.Static("a", ElementType.Float, 1, 2);
        string path = WriteNpz(dir, ("a", NpyArray.FromFloats([3, 2], new float[6])), ("labels", NpyArray.FromFloats([3], [1, 2, 3])));
        Assert.Contains("must be integer class indices", Fails(EvaluationErrors.BadLabels, () => ValidationSet.Load(path, [a])).Message);

        path = WriteNpz(dir, ("a", NpyArray.FromFloats([3, 2], new float[6])), ("labels", NpyArray.From<long>(ElementType.Int64, [2], [1, 2])));
        var length = Fails(EvaluationErrors.BadLabels, () => ValidationSet.Load(path, [a]));
        Assert.Contains("shape (2,)", length.Message);
        Assert.Contains("shape (3,)", length.Message);

        path = WriteNpz(dir, ("a", NpyArray.FromFloats([3, 2], new float[6])), ("labels", NpyArray.From<long>(ElementType.Int64, [3], [0, -1, 2])));
        var negative = Fails(EvaluationErrors.BadLabels, () => ValidationSet.Load(path, [a]));
        Assert.Contains("holds -1 at sample 1", negative.Message);
        Assert.Equal(path, negative.File);

        // Labels are optional; a null name ignores them; a custom name finds them.
        path = WriteNpz(dir, ("a", NpyArray.FromFloats([3, 2], new float[6])), ("y", NpyArray.From<long>(ElementType.Int64, [3, 1], [7, 8, 9])));
        Assert.Null(ValidationSet.Load(path, [a]).Labels);
        Assert.Null(ValidationSet.Load(path, [a], null).Labels);
        Assert.Equal(new[] { 7, 8, 9 }, ValidationSet.Load(path, [a], "y").Labels);
    }

    [Fact]
    public void Float_data_for_an_integer_input_and_values_out_of_range_are_MG1022()
    {
        using var dir = new TempFolder();
        string path = WriteNpz(dir, ("ids", NpyArray.FromFloats([1, 2], [1, 2])));
        Assert.Contains("float but the model input is int64",
            Fails(EvaluationErrors.DataMismatch, () => ValidationSet.Load(path, [TensorInfo.Static("ids", ElementType.Int64, 1, 2)])).Message);

        path = WriteNpz(dir, ("ids", NpyArray.From<long>(ElementType.Int64, [1, 2], [1, 1L << 40])));
        Assert.Contains("does not fit the model input's int32",
            Fails(EvaluationErrors.DataMismatch, () => ValidationSet.Load(path, [TensorInfo.Static("ids", ElementType.Int32, 1, 2)])).Message);
    }

    [Fact]
    public void A_missing_path_is_MG1020_and_a_garbage_file_is_MG1021()
    {
        using var dir = new TempFolder();
        var a = TensorInfo.Static("a", ElementType.Float, 1, 2);
        Assert.Contains("does not exist", Fails(EvaluationErrors.DataFileMissing, () => ValidationSet.Load(dir.Combine("none.npz"), [a])).Message);
        File.WriteAllText(dir.Combine("junk.npz"), "junk");
        Fails(EvaluationErrors.DataFileMalformed, () => ValidationSet.Load(dir.Combine("junk.npz"), [a]));
    }

    // Tensors named "out…" are written as output_N.pb after the inputs' input_N.pb.
    private static void WriteSet(string root, string name, params OnnxTensor[] tensors)
    {
        string set = Path.Combine(root, name);
        Directory.CreateDirectory(set);
        int inputs = 0, outputs = 0;
        foreach (var t in tensors)
        {
            string file = t.Name.StartsWith("out", StringComparison.Ordinal) ? $"output_{outputs++}.pb" : $"input_{inputs++}.pb";
            File.WriteAllBytes(Path.Combine(set, file), OnnxWriter.TensorToBytes(t));
        }
    }

    [Fact]
    public void Loads_test_data_set_folders_in_numeric_order_with_recorded_outputs()
    {
        using var dir = new TempFolder();
        foreach (int n in new[] { 0, 1, 10, 2 })
        {
            WriteSet(dir.Path, $"test_data_set_{n}",
                OnnxTensor.FromFloats("x", [1, 3], Range(3, n * 10)),
                OnnxTensor.FromInt64s("k", [1], [n]),
                OnnxTensor.FromFloats("out", [1], [n]));
        }
        var set = ValidationSet.Load(dir.Path, [TensorInfo.Static("x", ElementType.Float, 1, 3), TensorInfo.Static("k", ElementType.Int64, 1)]);
        Assert.Equal(4, set.Count);
        Assert.Null(set.Labels);
        int[] order = [0, 1, 2, 10];
        for (int i = 0; i < 4; i++)
        {
            var s = set.Sample(i);
            Assert.Equal(Range(3, order[i] * 10), FloatsOf(s[0]));
            Assert.Equal(order[i], s[1].AsSpan<long>()[0]);
            Assert.Equal((float)order[i], set.RecordedOutputs![i][0].AsSpan<float>()[0]);
        }

        // A folder that is itself one test_data_set works too; a tensor without the input's batch dimension gets it.
        var single = ValidationSet.Load(Path.Combine(dir.Path, "test_data_set_10"),
            [TensorInfo.Static("x", ElementType.Float, 1, 1, 3), TensorInfo.Static("k", ElementType.Int64, 1)]);
        Assert.Equal(1, single.Count);
        Assert.Equal(new[] { 1, 1, 3 }, single.Sample(0)[0].Shape);
        Assert.Equal(Range(3, 100), FloatsOf(single.Sample(0)[0]));
    }

    [Fact]
    public void Folder_errors_name_the_set_and_the_file()
    {
        using var dir = new TempFolder();
        var x = TensorInfo.Static("x", ElementType.Float, 1, 3);
        Assert.Contains("zero samples", Fails(EvaluationErrors.DataMismatch, () => ValidationSet.Load(dir.Path, [x])).Message);

        WriteSet(dir.Path, "test_data_set_0", OnnxTensor.FromFloats("x", [1, 3], Range(3)));
        WriteSet(dir.Path, "test_data_set_1", OnnxTensor.FromFloats("x", [1, 4], Range(4)));
        var shape = Fails(EvaluationErrors.SampleShapeMismatch, () => ValidationSet.Load(dir.Path, [x]));
        Assert.Contains("test_data_set_1", shape.Message);
        Assert.Contains("shape (1, 4)", shape.Message);

        var two = Fails(EvaluationErrors.InputArrayMissing, () => ValidationSet.Load(dir.Path, [x, TensorInfo.Static("y", ElementType.Float, 1)]));
        Assert.Contains("no input_1.pb for the model input 'y'", two.Message);

        File.WriteAllBytes(Path.Combine(dir.Path, "test_data_set_1", "input_0.pb"), [0x0a, 0xff, 0xff]);
        var corrupt = Fails(EvaluationErrors.DataFileMalformed, () => ValidationSet.Load(dir.Path, [x]));
        Assert.EndsWith("input_0.pb", corrupt.File);
    }

    [Fact]
    public void Loads_a_real_onnx_conformance_case()
    {
        string folder = TestData.Require("onnx-node/test_relu");
        var model = OnnxLoader.Load(Path.Combine(folder, "model.onnx"));
        var set = ValidationSet.Load(folder, model.Graph.Inputs);
        Assert.Equal(1, set.Count);
        var expected = OnnxLoader.LoadTensor(Path.Combine(folder, "test_data_set_0", "input_0.pb"));
        var sample = set.Sample(0);
        Assert.Equal(expected.Shape, sample[0].Shape);
        Assert.Equal(expected.Data, sample[0].Data);
        Assert.Single(set.RecordedOutputs![0]);
    }
}
