using System.Runtime.InteropServices;
using Google.Protobuf;
using ModelGen.Onnx.Protos;

namespace ModelGen.Onnx.Tests;

/// <summary>Each kind of bad input gives its own error code, names the file, and says what to do.</summary>
public sealed class LoaderErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("mg-onnx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void MissingFile_IsFileNotFound()
    {
        var path = Path.Combine(_dir, "nope.onnx");
        var e = Assert.Throws<OnnxException>(() => OnnxLoader.Load(path));
        Assert.Equal(ErrorCodes.FileNotFound, e.Code);
        Assert.Equal(path, e.File);
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void GarbageBytes_AreCorrupt()
    {
        var path = Path.Combine(_dir, "text.onnx");
        File.WriteAllText(path, "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n");
        var e = Assert.Throws<OnnxException>(() => OnnxLoader.Load(path));
        Assert.Equal(ErrorCodes.CorruptModel, e.Code);
        Assert.Equal(path, e.File);
        Assert.Contains("re-export", e.Message);
    }

    [Fact]
    public void HalfAFile_IsTruncated()
    {
        var bytes = File.ReadAllBytes(Models.Real("mnist-8.onnx"));
        var path = Path.Combine(_dir, "half.onnx");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<OnnxException>(() => OnnxLoader.Load(path));
        Assert.Equal(ErrorCodes.TruncatedModel, e.Code);
        Assert.Equal(path, e.File);
    }

    [Fact]
    public void NoGraph_IsInvalidGraph()
    {
        var bytes = new ModelProto { IrVersion = 8, ProducerName = "x" }.ToByteArray();
        var e = Assert.Throws<OnnxException>(() => OnnxLoader.Load(bytes, null, "x.onnx"));
        Assert.Equal(ErrorCodes.InvalidGraph, e.Code);
        Assert.Equal("x.onnx", e.File);
    }

    [Fact]
    public void ExternalData_InsideFolder_Loads()
    {
        WriteFloats(Path.Combine(_dir, "w.bin"), 8); // the weight is floats 4..7, at byte 16
        var path = Path.Combine(_dir, "m.onnx");
        File.WriteAllBytes(path, ProtoModels.WithExternalWeight("w.bin", offset: 16, length: 16));
        var model = OnnxLoader.Load(path);
        Assert.Equal(new float[] { 4, 5, 6, 7 }, model.Graph.Initializers["w"].AsSpan<float>().ToArray());
    }

    [Theory]
    [InlineData("../outside.bin")]
    [InlineData("sub/../../outside.bin")]
    [InlineData("/etc/passwd")]
    [InlineData("missing.bin")]
    public void ExternalData_EscapingAbsoluteOrMissing_IsBadExternalData(string location)
    {
        var inner = Directory.CreateDirectory(Path.Combine(_dir, "model")).FullName;
        WriteFloats(Path.Combine(_dir, "outside.bin"), 4);
        var path = Path.Combine(inner, "m.onnx");
        File.WriteAllBytes(path, ProtoModels.WithExternalWeight(location));
        var e = Assert.Throws<OnnxException>(() => OnnxLoader.Load(path));
        Assert.Equal(ErrorCodes.BadExternalData, e.Code);
        Assert.Contains("'w'", e.Message);
        Assert.Contains(location, e.Message);
        Assert.Equal(path, e.File);
    }

    [Fact]
    public void ExternalData_SymlinkOutOfFolder_IsBadExternalData()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) Assert.Skip("symbolic links need a Unix file system here");
        var inner = Directory.CreateDirectory(Path.Combine(_dir, "model")).FullName;
        WriteFloats(Path.Combine(_dir, "secret.bin"), 4);
        File.CreateSymbolicLink(Path.Combine(inner, "w.bin"), Path.Combine(_dir, "secret.bin"));
        var path = Path.Combine(inner, "m.onnx");
        File.WriteAllBytes(path, ProtoModels.WithExternalWeight("w.bin"));
        var e = Assert.Throws<OnnxException>(() => OnnxLoader.Load(path));
        Assert.Equal(ErrorCodes.BadExternalData, e.Code);
        Assert.Contains("outside", e.Message);
    }

    [Fact]
    public void ExternalData_TooShort_IsBadExternalData()
    {
        WriteFloats(Path.Combine(_dir, "w.bin"), 3);
        var path = Path.Combine(_dir, "m.onnx");
        File.WriteAllBytes(path, ProtoModels.WithExternalWeight("w.bin"));
        var e = Assert.Throws<OnnxException>(() => OnnxLoader.Load(path));
        Assert.Equal(ErrorCodes.BadExternalData, e.Code);
        Assert.Contains("too short", e.Message);
    }

    [Fact]
    public void ExternalData_FromBytesWithoutFolder_IsBadExternalData()
    {
        var e = Assert.Throws<OnnxException>(() => OnnxLoader.Load(ProtoModels.WithExternalWeight("w.bin"), null, "mem.onnx"));
        Assert.Equal(ErrorCodes.BadExternalData, e.Code);
    }

    [Fact]
    public void UnsupportedInitializerType_NamesTheTensor()
    {
        var model = ModelProto.Parser.ParseFrom(ProtoModels.WithExternalWeight("w.bin"));
        var w = model.Graph.Initializer[0];
        w.DataLocation = TensorProto.Types.DataLocation.Default;
        w.ExternalData.Clear();
        // Complex numbers have no place in ModelGen's kernels (bfloat16 and the float8 family load now).
        w.DataType = (int)TensorProto.Types.DataType.Complex64;
        w.RawData = ByteString.CopyFrom(new byte[32]);
        var e = Assert.Throws<OnnxException>(() => OnnxLoader.Load(model.ToByteArray(), null, "complex.onnx"));
        Assert.Equal(ErrorCodes.UnsupportedType, e.Code);
        Assert.Contains("'w'", e.Message);
    }

    [Fact]
    public void RawDataOfWrongSize_IsTensorDataMismatch()
    {
        var model = ModelProto.Parser.ParseFrom(ProtoModels.WithExternalWeight("w.bin"));
        var w = model.Graph.Initializer[0];
        w.DataLocation = TensorProto.Types.DataLocation.Default;
        w.ExternalData.Clear();
        w.RawData = ByteString.CopyFrom(new byte[12]);
        var e = Assert.Throws<OnnxException>(() => OnnxLoader.Load(model.ToByteArray(), null, "short.onnx"));
        Assert.Equal(ErrorCodes.TensorDataMismatch, e.Code);
        Assert.Contains("'w'", e.Message);
    }

    [Fact]
    public void TypedDataOfWrongLength_IsTensorDataMismatch()
    {
        var model = ModelProto.Parser.ParseFrom(ProtoModels.WithExternalWeight("w.bin"));
        var w = model.Graph.Initializer[0];
        w.DataLocation = TensorProto.Types.DataLocation.Default;
        w.ExternalData.Clear();
        w.FloatData.Add(1f); // one value for a tensor with more elements
        var e = Assert.Throws<OnnxException>(() => OnnxLoader.Load(model.ToByteArray(), null, "few.onnx"));
        Assert.Equal(ErrorCodes.TensorDataMismatch, e.Code);
        Assert.Contains("'w'", e.Message);
    }

    [Fact]
    public void Cycle_IsInvalidGraph_NamingANode()
    {
        var model = ModelProto.Parser.ParseFrom(ProtoModels.WithExternalWeight("w.bin"));
        model.Graph.Initializer.Clear();
        model.Graph.Node.Clear();
        model.Graph.Node.Add(ProtoModels.Node("Add", ["x", "b"], ["a"]));
        model.Graph.Node.Add(ProtoModels.Node("Relu", ["a"], ["b"]));
        model.Graph.Node.Add(ProtoModels.Node("Relu", ["a"], ["y"]));
        var e = Assert.Throws<OnnxException>(() => OnnxLoader.Load(model.ToByteArray(), null, "cycle.onnx"));
        Assert.Equal(ErrorCodes.InvalidGraph, e.Code);
        Assert.Contains("cycle", e.Message);
        Assert.Contains("Add 'Add_a'", e.Message);
    }

    [Fact]
    public void UndefinedValue_IsInvalidGraph_NamingNodeAndValue()
    {
        var model = ModelProto.Parser.ParseFrom(ProtoModels.WithExternalWeight("w.bin"));
        model.Graph.Initializer.Clear();
        var e = Assert.Throws<OnnxException>(() => OnnxLoader.Load(model.ToByteArray(), null, "undef.onnx"));
        Assert.Equal(ErrorCodes.InvalidGraph, e.Code);
        Assert.Contains("'w'", e.Message);
        Assert.Contains("Add 'Add_s'", e.Message);
    }

    [Fact]
    public void UnsortedGraph_IsSortedStably()
    {
        var model = ModelProto.Parser.ParseFrom(ProtoModels.WithExternalWeight("w.bin"));
        model.Graph.Initializer.Clear();
        model.Graph.Input.Add(ProtoModels.Value("w", 4));
        model.Graph.Node.Clear();
        model.Graph.Node.Add(ProtoModels.Node("Relu", ["s"], ["y"]));
        model.Graph.Node.Add(ProtoModels.Node("Neg", ["x"], ["n"]));
        model.Graph.Node.Add(ProtoModels.Node("Add", ["x", "w"], ["s"]));
        var loaded = OnnxLoader.Load(model.ToByteArray(), null);
        Assert.Equal(["Neg", "Add", "Relu"], loaded.Graph.Nodes.Select(n => n.OpType));
    }

    /// <summary>Writes floats 0, 1, 2, … as little-endian bytes.</summary>
    private static void WriteFloats(string path, int count)
    {
        var values = Enumerable.Range(0, count).Select(i => (float)i).ToArray();
        File.WriteAllBytes(path, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
    }
}
