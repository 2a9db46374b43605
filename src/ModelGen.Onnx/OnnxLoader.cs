using Google.Protobuf;
using ModelGen.Onnx.Ir;
using ModelGen.Onnx.Loading;
using ModelGen.Onnx.Protos;

namespace ModelGen.Onnx;

/// <summary>Reads ONNX model files into the IR.</summary>
public static class OnnxLoader
{
    /// <summary>
    /// Loads a model file. External data is resolved relative to the file's folder and may not
    /// escape it. Initializers that old models list as inputs are moved out of
    /// <see cref="OnnxGraph.Inputs"/> into <see cref="OnnxGraph.InitializerInputs"/>; so are
    /// IR ≥ 4 inputs that have an initializer (a default value): ModelGen bakes those in as
    /// constants, so they are never <c>Predict</c> parameters. Nodes come back in topological order.
    /// </summary>
    /// <exception cref="OnnxException">Missing, corrupt or truncated file, bad external data, unsupported types.</exception>
    public static OnnxModel Load(string path)
    {
        var bytes = ReadFile(path, "model");
        return Load(bytes, Path.GetDirectoryName(Path.GetFullPath(path)), path);
    }

    /// <summary>Loads a model from bytes; <paramref name="baseDirectory"/> resolves external data (null: none allowed).</summary>
    /// <exception cref="OnnxException">Corrupt or truncated bytes, bad external data, unsupported types, invalid graph.</exception>
    public static OnnxModel Load(byte[] bytes, string? baseDirectory, string? displayPath = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var proto = Parse(ModelProto.Parser, bytes, "model", displayPath);
        return Convert(() => new ProtoToIr(baseDirectory, displayPath).Model(proto), displayPath);
    }

    /// <summary>Reads a serialized TensorProto (an ONNX test-data <c>input_N.pb</c>); external data resolves beside it.</summary>
    /// <exception cref="OnnxException">Missing, corrupt or truncated file, unsupported element type.</exception>
    public static OnnxTensor LoadTensor(string path)
    {
        var bytes = ReadFile(path, "tensor");
        var proto = Parse(TensorProto.Parser, bytes, "tensor", path);
        string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return Convert(() => TensorDecoder.Decode(proto, $"tensor in '{Path.GetFileName(path)}'", dir, path), path);
    }

    private static byte[] ReadFile(string path, string what)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new OnnxException(ErrorCodes.FileNotFound,
                $"the {what} file '{path}' does not exist; check the path (relative paths are taken from the project folder)", path, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new OnnxException(ErrorCodes.FileNotFound, $"the {what} file '{path}' cannot be read: {e.Message}", path, e);
        }
    }

    private static T Parse<T>(MessageParser<T> parser, byte[] bytes, string what, string? file) where T : IMessage<T>
    {
        try
        {
            return parser.ParseFrom(bytes);
        }
        catch (InvalidProtocolBufferException e) when (IsTruncation(e))
        {
            throw new OnnxException(ErrorCodes.TruncatedModel,
                $"the {what} file ends in the middle of a protobuf message ({bytes.Length} bytes read); it was probably cut off while copying or downloading: copy or download it again, or re-export the model",
                file, e);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxException(ErrorCodes.CorruptModel,
                $"the {what} file is not a valid ONNX protobuf ({e.Message.TrimEnd('.')}); make sure it is an .onnx file, not e.g. a Git LFS pointer or a different format, and re-export it if needed",
                file, e);
        }
    }

    /// <summary>
    /// Protobuf reports "input ended unexpectedly" (or a length that runs past the end) both for a
    /// file that was cut off and for a length field that lies. Both mean that the data that should
    /// be there is not, so both count as truncation; other failures (bad tags, bad wire types,
    /// bad UTF-8, too deep nesting) are corruption.
    /// </summary>
    private static bool IsTruncation(InvalidProtocolBufferException e) =>
        e.Message.Contains("ended unexpectedly", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("truncated", StringComparison.OrdinalIgnoreCase);

    private static T Convert<T>(Func<T> convert, string? file)
    {
        try
        {
            return convert();
        }
        catch (OnnxException e)
        {
            e.File ??= file;
            throw;
        }
        catch (Exception e) when (e is ArgumentException or OverflowException or InvalidOperationException or IndexOutOfRangeException)
        {
            // Our checks should catch every inconsistency first; this keeps a missed one from
            // escaping as a raw exception, while still telling the user what went wrong.
            throw new OnnxException(ErrorCodes.CorruptModel,
                $"the model is inconsistent: {e.Message}; re-export the model (if the model loads elsewhere, please report this as a ModelGen bug)", file, e);
        }
    }
}
