using Google.Protobuf;
using ModelGen.Onnx.Ir;
using ModelGen.Onnx.Writing;

namespace ModelGen.Onnx;

/// <summary>
/// Writes the IR back to ONNX protobuf bytes; deterministic for the same IR. Tensors are written
/// as raw_data. Real inputs are written before the initializer inputs of IR &lt; 4 models.
/// </summary>
public static class OnnxWriter
{
    /// <summary>Serializes a model as ONNX ModelProto bytes.</summary>
    public static byte[] ToBytes(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return IrToProto.Model(model).ToByteArray();
    }

    /// <summary>Writes a model to <paramref name="path"/>.</summary>
    public static void Save(OnnxModel model, string path) => File.WriteAllBytes(path, ToBytes(model));

    /// <summary>Serializes one tensor as a TensorProto (for test data files).</summary>
    public static byte[] TensorToBytes(OnnxTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return IrToProto.Tensor(tensor).ToByteArray();
    }
}
