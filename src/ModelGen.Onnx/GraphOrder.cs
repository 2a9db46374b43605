using ModelGen.Onnx.Ir;

namespace ModelGen.Onnx;

/// <summary>Topological ordering of a graph's nodes.</summary>
public static class GraphOrder
{
    /// <summary>Sorts nodes so that every value is produced before it is consumed (stable for already-sorted graphs).</summary>
    /// <exception cref="OnnxException">InvalidGraph: a cycle, or a value that nothing produces.</exception>
    public static void Sort(OnnxGraph graph) => throw new NotImplementedException();
}
