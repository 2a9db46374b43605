using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Onnx.Shapes;

internal static partial class Rules
{
    private static void AddLinear(Dictionary<string, Func<NodeContext, TensorInfo[]>> t)
    {
        t["Gemm"] = Gemm;
        t["MatMul"] = c => c.Single(c.In(0).Type, MatMulShape(c, c.Shape(0), c.Shape(1)));
    }

    /// <summary>Y = alpha·op(A)·op(B) + beta·C with A, B 2-D and C broadcastable to [M, N].</summary>
    private static TensorInfo[] Gemm(NodeContext c)
    {
        var a = c.In(0);
        var b = c.Shape(1);
        if (a.Shape is null || b is null) return c.Single(a.Type, Dims.Unknown(2));
        if (a.Shape.Length != 2 || b.Length != 2)
        {
            throw c.Mismatch($"Gemm needs 2-D A and B, got A {Dims.Show(a.Shape)} and B {Dims.Show(b)} (insert a Flatten or Reshape)");
        }
        bool transA = c.Node.GetInt("transA", 0) != 0, transB = c.Node.GetInt("transB", 0) != 0;
        Dim m = transA ? a.Shape[1] : a.Shape[0], ka = transA ? a.Shape[0] : a.Shape[1];
        Dim kb = transB ? b[1] : b[0], n = transB ? b[0] : b[1];
        if (Dims.Conflict(ka, kb))
        {
            throw c.Mismatch($"inner dimensions differ: op(A) is [{m},{ka}] and op(B) is [{kb},{n}] (transA={(transA ? 1 : 0)}, transB={(transB ? 1 : 0)})");
        }
        var y = new[] { m, n };
        if (c.Has(2) && c.Shape(2) is { } cs)
        {
            var bc = Dims.Broadcast(c, y, cs)!;
            if (bc.Length != 2 || Dims.Conflict(bc[0], m) || Dims.Conflict(bc[1], n))
            {
                throw c.Mismatch($"bias C {Dims.Show(cs)} cannot be broadcast to the result [{m},{n}]");
            }
        }
        return c.Single(a.Type, y);
    }

    /// <summary>numpy.matmul shapes: 1-D operands get a dimension prepended/appended and removed again; batch dims broadcast.</summary>
    internal static Dim[]? MatMulShape(NodeContext c, Dim[]? a, Dim[]? b)
    {
        if (a is null || b is null) return null;
        if (a.Length == 0 || b.Length == 0) throw c.Mismatch("MatMul operands must have at least one dimension, got a scalar");
        var a2 = a.Length == 1 ? new[] { Dim.Of(1), a[0] } : a;
        var b2 = b.Length == 1 ? new[] { b[0], Dim.Of(1) } : b;
        Dim k1 = a2[^1], k2 = b2[^2];
        if (Dims.Conflict(k1, k2))
        {
            throw c.Mismatch($"inner dimensions differ: A {Dims.Show(a)} has {k1} columns, B {Dims.Show(b)} has {k2} rows");
        }
        var batch = Dims.Broadcast(c, a2[..^2], b2[..^2])!;
        var result = new List<Dim>(batch);
        if (a.Length > 1) result.Add(a2[^2]);
        if (b.Length > 1) result.Add(b2[^1]);
        return result.ToArray();
    }
}
