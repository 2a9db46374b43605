using ModelGen.Onnx.Ir;

namespace ModelGen.Onnx.Shapes;

internal static partial class Rules
{
    private static void AddReductions(Dictionary<string, Func<NodeContext, TensorInfo[]>> t)
    {
        // The opset in which each reduction's axes moved from an attribute to an input.
        t["ReduceSum"] = c => Reduce(c, 13);
        foreach (var op in new[] { "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare" })
        {
            t[op] = c => Reduce(c, 18);
        }
        t["ArgMax"] = ArgReduce;
        t["ArgMin"] = ArgReduce;
    }

    /// <summary>keepdims keeps reduced axes as 1; no axes reduces all, unless noop_with_empty_axes (then identity).</summary>
    private static TensorInfo[] Reduce(NodeContext c, long axesInputSince)
    {
        var x = c.In(0);
        bool keep = c.Node.GetInt("keepdims", 1) != 0;
        var axes = c.IntsAttrOrInput("axes", 1, axesInputSince, out bool unknown);
        if (x.Shape is null) return c.Single(x.Type, null);
        int rank = x.Shape.Length;
        if (unknown) return c.Single(x.Type, keep ? Dims.Unknown(rank) : null);
        if (axes is null || axes.Length == 0)
        {
            if (c.Node.GetInt("noop_with_empty_axes", 0) != 0) return c.Single(x.Type, x.Shape);
            axes = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        }
        var reduced = axes.Select(a => c.NormalizeAxis(a, rank, "axes entry")).ToHashSet();
        var result = new List<Dim>();
        for (int i = 0; i < rank; i++)
        {
            if (!reduced.Contains(i)) result.Add(x.Shape[i]);
            else if (keep) result.Add(Dim.Of(1));
        }
        return c.Single(x.Type, result.ToArray());
    }

    private static TensorInfo[] ArgReduce(NodeContext c)
    {
        var x = c.In(0);
        if (x.Shape is null) return c.Single(Runtime.ElementType.Int64, null);
        int axis = c.NormalizeAxis(c.Node.GetInt("axis", 0), x.Shape.Length);
        bool keep = c.Node.GetInt("keepdims", 1) != 0;
        var result = x.Shape.Where((_, i) => keep || i != axis).Select((d, i) => keep && i == axis ? Dim.Of(1) : d).ToArray();
        return c.Single(Runtime.ElementType.Int64, result);
    }
}
