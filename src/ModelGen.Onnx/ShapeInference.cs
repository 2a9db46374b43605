using ModelGen.Onnx.Ir;

namespace ModelGen.Onnx;

/// <summary>
/// Static shape and type inference. Fills <see cref="OnnxGraph.ValueInfo"/> for every node
/// output, checks that declared shapes agree with inferred ones, and reports mismatches.
/// </summary>
public static class ShapeInference
{
    /// <summary>Infers every value's type and shape; nodes must be in topological order.</summary>
    /// <exception cref="OnnxException">ShapeMismatch, UnsupportedOp or InvalidGraph, naming the node.</exception>
    public static void Run(OnnxModel model) => throw new NotImplementedException();
}
