using ModelGen.Tests;
using System.Runtime.InteropServices;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Runtime;
using static ModelGen.Optimizer.Tests.Evaluation.NpyFixtures;

namespace ModelGen.Optimizer.Tests.Evaluation;

/// <summary>The .npy/.npz reader and writer, on hand-built bytes and round trips.</summary>
public class NpyReaderTests
{
    private static NpyArray ReadNpy(byte[] bytes) => Npy.Read(new MemoryStream(bytes), "test.npy", "x");

    [Fact]
    public void Reads_a_version_1_header_as_numpy_writes_it()
    {
        var a = ReadNpy(NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Floats(1, 2, 3, 4, 5, 6)));
        Assert.Equal(ElementType.Float, a.Type);
        Assert.Equal(new[] { 2, 3 }, a.Shape);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6 }, MemoryMarshal.Cast<byte, float>(a.Data).ToArray());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void Reads_version_2_and_3_headers(int major)
    {
        var a = ReadNpy(NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", Floats(7, 8, 9), major));
        Assert.Equal(new[] { 3 }, a.Shape);
        Assert.Equal(new float[] { 7, 8, 9 }, MemoryMarshal.Cast<byte, float>(a.Data).ToArray());
    }

    [Theory]
    // Spacing, quoting, key order and trailing commas vary between writers (and Python 2's 10L).
    [InlineData("{\"shape\":(2,3),\"fortran_order\":False,\"descr\":\"<f4\"}")]
    [InlineData("{ 'descr' : '<f4' ,\n 'fortran_order' : False , 'shape' : ( 2 , 3 , ) , }")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }")]
    public void Parses_headers_regardless_of_spacing_quotes_and_key_order(string header)
    {
        var a = ReadNpy(NpyBytes(header, new byte[24], pad: false));
        Assert.Equal(new[] { 2, 3 }, a.Shape);
        Assert.Equal(ElementType.Float, a.Type);
    }

    [Theory]
    [InlineData("<f4", ElementType.Float, 4)]
    [InlineData("=f4", ElementType.Float, 4)]
    [InlineData("<f8", ElementType.Double, 8)]
    [InlineData("<f2", ElementType.Float16, 2)]
    [InlineData("<i8", ElementType.Int64, 8)]
    [InlineData("<i4", ElementType.Int32, 4)]
    [InlineData("<i2", ElementType.Int16, 2)]
    [InlineData("|u1", ElementType.UInt8, 1)]
    [InlineData("<u1", ElementType.UInt8, 1)]
    [InlineData("|i1", ElementType.Int8, 1)]
    [InlineData("|b1", ElementType.Bool, 1)]
    [InlineData("<u8", ElementType.UInt64, 8)]
    public void Maps_each_dtype(string descr, ElementType expected, int size)
    {
        var data = Enumerable.Range(1, 4 * size).Select(i => (byte)i).ToArray();
        var a = ReadNpy(NpyBytes($"{{'descr': '{descr}', 'fortran_order': False, 'shape': (4,), }}", data));
        Assert.Equal(expected, a.Type);
        Assert.Equal(data, a.Data);
    }

    [Fact]
    public void Reads_zero_dimensional_and_empty_arrays()
    {
        var scalar = ReadNpy(NpyBytes("{'descr': '<f8', 'fortran_order': False, 'shape': (), }", BitConverter.GetBytes(2.5)));
        Assert.Empty(scalar.Shape);
        Assert.Equal(1, scalar.ElementCount);
        Assert.Equal(2.5, BitConverter.ToDouble(scalar.Data));

        var empty = ReadNpy(NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", []));
        Assert.Equal(new[] { 0, 3 }, empty.Shape);
        Assert.Empty(empty.Data);
    }

    [Theory]
    [InlineData("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", "Fortran")]
    [InlineData("{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", "big-endian")]
    [InlineData("{'descr': '<c8', 'fortran_order': False, 'shape': (2, 3), }", "not supported")]
    [InlineData("{'descr': '<U5', 'fortran_order': False, 'shape': (2, 3), }", "not supported")]
    [InlineData("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2, 3), }", "structured")]
    [InlineData("{'descr': '<f4', 'shape': (2, 3), }", "'fortran_order'")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", "bad dimension")]
    [InlineData("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), ", "ends too early")]
    [InlineData("{'descr': '<f4', 'fortran_order': Maybe, 'shape': (2, 3), }", "unexpected name 'Maybe'")]
    public void Rejects_unsupported_or_malformed_headers_with_MG1021(string header, string says)
    {
        var e = Fails(EvaluationErrors.DataFileMalformed, () => ReadNpy(NpyBytes(header, new byte[24])));
        Assert.Contains(says, e.Message);
        Assert.Contains("array 'x' in 'test.npy'", e.Message);
        Assert.Equal("test.npy", e.File);
    }

    [Fact]
    public void A_fortran_ordered_vector_is_the_same_as_a_c_ordered_one()
    {
        var a = ReadNpy(NpyBytes("{'descr': '<f4', 'fortran_order': True, 'shape': (3,), }", Floats(1, 2, 3)));
        Assert.Equal(new[] { 3 }, a.Shape);
    }

    [Fact]
    public void Rejects_truncated_overlong_and_non_npy_data_with_MG1021()
    {
        var full = NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Floats(1, 2, 3, 4, 5, 6));
        var e = Fails(EvaluationErrors.DataFileMalformed, () => ReadNpy(full[..^5]));
        Assert.Contains("truncated", e.Message);
        Assert.Contains("19 of its 24 data bytes", e.Message);
        Fails(EvaluationErrors.DataFileMalformed, () => ReadNpy(full[..20])); // inside the header
        Fails(EvaluationErrors.DataFileMalformed, () => ReadNpy(full[..9])); // inside the length
        Assert.Contains("more data", Fails(EvaluationErrors.DataFileMalformed, () => ReadNpy([.. full, 0])).Message);
        Assert.Contains("magic", Fails(EvaluationErrors.DataFileMalformed, () => ReadNpy("PK\x03\x04 not npy"u8.ToArray())).Message);
        var v9 = full.ToArray();
        v9[6] = 9;
        Assert.Contains("version 9.0", Fails(EvaluationErrors.DataFileMalformed, () => ReadNpy(v9)).Message);
    }

    [Fact]
    public void Writer_produces_numpys_exact_header_and_alignment()
    {
        var ms = new MemoryStream();
        Npy.Write(ms, NpyArray.FromFloats([2, 3], [1, 2, 3, 4, 5, 6]));
        var bytes = ms.ToArray();
        // What numpy.save writes for np.arange(1, 7, dtype=np.float32).reshape(2, 3): a 118-byte
        // header (dict + spaces + '\n') so the data starts at byte 128.
        string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        Assert.Equal(128 + 24, bytes.Length);
        Assert.Equal(118, BitConverter.ToUInt16(bytes, 8));
        string header = System.Text.Encoding.Latin1.GetString(bytes, 10, 118);
        Assert.Equal(dict + new string(' ', 118 - dict.Length - 1) + "\n", header);

        var oneD = new MemoryStream();
        Npy.Write(oneD, NpyArray.From<long>(ElementType.Int64, [3], [1, 2, 3]));
        Assert.Contains("'descr': '<i8', 'fortran_order': False, 'shape': (3,), }", System.Text.Encoding.Latin1.GetString(oneD.ToArray()));
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 8)]
    public void Reads_stored_and_deflated_npz_built_by_hand(bool deflate, int method)
    {
        using var dir = new TempFolder();
        string path = dir.Combine("data.npz");
        Zip(path, deflate,
            ("x.npy", NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", Floats(1.5f, -2))),
            ("labels.npy", NpyBytes("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", MemoryMarshal.AsBytes<long>([3, 4]).ToArray())),
            ("notes.txt", "not an array"u8.ToArray()));
        Assert.Equal(method, FirstEntryMethod(path));
        var arrays = Npz.Read(path);
        Assert.Equal(new[] { "x", "labels" }, arrays.Keys);
        Assert.Equal(new float[] { 1.5f, -2 }, MemoryMarshal.Cast<byte, float>(arrays["x"].Data).ToArray());
        Assert.Equal(new long[] { 3, 4 }, MemoryMarshal.Cast<byte, long>(arrays["labels"].Data).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Npz_round_trips_every_dtype(bool compress)
    {
        using var dir = new TempFolder();
        string path = dir.Combine("all.npz");
        var arrays = new List<(string, NpyArray)>();
        foreach (var type in new[] { ElementType.Float, ElementType.Double, ElementType.Float16, ElementType.Int8, ElementType.Int16,
                     ElementType.Int32, ElementType.Int64, ElementType.UInt8, ElementType.UInt16, ElementType.UInt32, ElementType.UInt64, ElementType.Bool })
        {
            var data = Enumerable.Range(0, 6 * type.SizeOf()).Select(i => type == ElementType.Bool ? (byte)(i % 2) : (byte)(i * 37)).ToArray();
            arrays.Add((type.ToOnnxName(), new NpyArray(type, [2, 3], data)));
        }
        arrays.Add(("scalar", NpyArray.FromFloats([], [42f])));
        Npz.Write(path, arrays, compress);
        Assert.Equal(compress ? 8 : 0, FirstEntryMethod(path));
        var read = Npz.Read(path);
        Assert.Equal(arrays.Count, read.Count);
        foreach (var (name, array) in arrays)
        {
            Assert.Equal(array.Type, read[name].Type);
            Assert.Equal(array.Shape, read[name].Shape);
            Assert.Equal(array.Data, read[name].Data);
        }
    }

    [Fact]
    public void Npz_errors_name_the_file_and_say_what_to_do()
    {
        using var dir = new TempFolder();
        var missing = Fails(EvaluationErrors.DataFileMissing, () => Npz.Read(dir.Combine("nope.npz")));
        Assert.Contains("nope.npz", missing.Message);

        string notZip = dir.Combine("bad.npz");
        File.WriteAllText(notZip, "this is not a zip archive at all, not even close");
        Assert.Contains("not a valid .npz", Fails(EvaluationErrors.DataFileMalformed, () => Npz.Read(notZip)).Message);

        // A deflated entry cut short: the zip directory is fine but the entry's data is not.
        string cut = dir.Combine("cut.npz");
        Zip(cut, true, ("x.npy", NpyBytes("{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }", Floats(new float[1000]))[..400]));
        var truncated = Fails(EvaluationErrors.DataFileMalformed, () => Npz.Read(cut));
        Assert.Contains("array 'x' in", truncated.Message);
        Assert.Contains("truncated", truncated.Message);
    }
}
