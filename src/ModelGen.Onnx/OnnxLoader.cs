using ModelGen.Onnx.Ir;

namespace ModelGen.Onnx;

/// <summary>Reads ONNX model files into the IR.</summary>
public static class OnnxLoader
{
    /// <summary>
    /// Loads a model file. External data is resolved relative to the file's folder and may not
    /// escape it. Initializers that old models list as inputs are moved out of
    /// <see cref="OnnxGraph.Inputs"/> into <see cref="OnnxGraph.InitializerInputs"/>.
    /// Nodes come back in topological order.
    /// </summary>
    /// <exception cref="OnnxException">Missing, corrupt or truncated file, bad external data, unsupported types.</exception>
    public static OnnxModel Load(string path) => throw new NotImplementedException();

    /// <summary>Loads a model from bytes; <paramref name="baseDirectory"/> resolves external data (null: none allowed).</summary>
    public static OnnxModel Load(byte[] bytes, string? baseDirectory, string? displayPath = null) =>
        throw new NotImplementedException();

    /// <summary>Reads a serialized TensorProto (an ONNX test-data <c>input_N.pb</c>).</summary>
    public static OnnxTensor LoadTensor(string path) => throw new NotImplementedException();
}
