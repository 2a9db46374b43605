using ModelGen.Onnx.Ir;

namespace ModelGen.Onnx;

/// <summary>Writes the IR back to ONNX protobuf bytes; deterministic for the same IR.</summary>
public static class OnnxWriter
{
    public static byte[] ToBytes(OnnxModel model) => throw new NotImplementedException();

    public static void Save(OnnxModel model, string path) => File.WriteAllBytes(path, ToBytes(model));

    /// <summary>Serializes one tensor as a TensorProto (for test data files).</summary>
    public static byte[] TensorToBytes(OnnxTensor tensor) => throw new NotImplementedException();
}
