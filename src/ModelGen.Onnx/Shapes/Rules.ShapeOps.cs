using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Onnx.Shapes;

internal static partial class Rules
{
    private static void AddShapeOps(Dictionary<string, Func<NodeContext, TensorInfo[]>> t)
    {
        t["Reshape"] = Reshape;
        t["Flatten"] = Flatten;
        t["Transpose"] = Transpose;
        t["Concat"] = Concat;
        t["Constant"] = c =>
        {
            var v = ConstantNodes.Value(c.Node);
            return c.Single(v.Type, Dims.Of(v.Shape.Select(d => (long)d)));
        };
        t["ConstantOfShape"] = ConstantOfShape;
        t["Shape"] = Shape;
        t["Size"] = c => c.Single(ElementType.Int64, Array.Empty<Dim>());
        t["Gather"] = Gather;
        t["Unsqueeze"] = Unsqueeze;
        t["Squeeze"] = Squeeze;
        t["Slice"] = Slice;
        t["Split"] = Split;
        t["Pad"] = Pad;
        t["Resize"] = Resize;
        t["Upsample"] = Resize;
    }

    /// <summary>Reshape: 0 copies the input dim (unless allowzero), −1 takes the rest; element counts must agree.</summary>
    private static TensorInfo[] Reshape(NodeContext c)
    {
        var x = c.In(0);
        var target = c.Opset < 5 ? c.Node.GetInts("shape") : c.ConstInts(1);
        if (target is null)
        {
            var s = c.Opset < 5 ? null : c.Shape(1);
            return c.Single(x.Type, s is { Length: 1 } && s[0].Value is { } r ? Dims.Unknown((int)r) : null);
        }
        bool allowZero = c.Node.GetInt("allowzero", 0) != 0;
        var result = new Dim[target.Length];
        int inferred = -1;
        for (int i = 0; i < target.Length; i++)
        {
            long v = target[i];
            if (v == -1)
            {
                if (inferred >= 0) throw c.Mismatch($"shape [{string.Join(",", target)}] has more than one -1");
                inferred = i;
                result[i] = Dim.Unknown;
            }
            else if (v == 0 && !allowZero)
            {
                if (x.Shape is not null && i >= x.Shape.Length)
                {
                    throw c.Mismatch($"shape [{string.Join(",", target)}] copies dimension {i} (0) but the input {Dims.Show(x.Shape)} has only {x.Shape.Length}");
                }
                result[i] = x.Shape?[i] ?? Dim.Unknown;
            }
            else if (v < 0)
            {
                throw c.Mismatch($"shape [{string.Join(",", target)}] has the invalid size {v}");
            }
            else
            {
                result[i] = Dim.Of(v);
            }
        }
        if (x.Shape is null) return c.Single(x.Type, result);
        var total = Dims.Product(x.Shape);
        var rest = Dims.Product(result.Where((_, i) => i != inferred));
        if (inferred >= 0)
        {
            if (total.Value is { } t && rest.Value is { } r)
            {
                if (r == 0 ? t != 0 : t % r != 0)
                {
                    throw c.Mismatch($"cannot reshape {Dims.Show(x.Shape)} ({t} elements) to [{string.Join(",", target)}]: {t} is not a multiple of {r}");
                }
                result[inferred] = Dim.Of(r == 0 ? 0 : t / r);
            }
        }
        else if (total.Value is { } t && rest.Value is { } r && t != r)
        {
            throw c.Mismatch($"cannot reshape {Dims.Show(x.Shape)} ({t} elements) to {Dims.Show(result)} ({r} elements)");
        }
        return c.Single(x.Type, result);
    }

    private static TensorInfo[] Flatten(NodeContext c)
    {
        var x = c.In(0);
        if (x.Shape is null) return c.Single(x.Type, Dims.Unknown(2));
        long axis = c.Node.GetInt("axis", 1);
        int a = axis < 0 ? (int)(axis + x.Shape.Length) : (int)axis;
        if (a < 0 || a > x.Shape.Length) throw c.Mismatch($"axis {axis} is out of range for input {Dims.Show(x.Shape)}");
        return c.Single(x.Type, [Dims.Product(x.Shape[..a]), Dims.Product(x.Shape[a..])]);
    }

    private static TensorInfo[] Transpose(NodeContext c)
    {
        var x = c.In(0);
        var perm = c.Node.GetInts("perm");
        if (x.Shape is null) return c.Single(x.Type, perm is null ? null : Dims.Unknown(perm.Length));
        int rank = x.Shape.Length;
        perm ??= Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        if (perm.Length != rank || perm.Distinct().Count() != rank || perm.Any(p => p < 0 || p >= rank))
        {
            throw c.Mismatch($"perm [{string.Join(",", perm)}] is not a permutation of the {rank} dimensions of {Dims.Show(x.Shape)}");
        }
        return c.Single(x.Type, perm.Select(p => x.Shape[p]).ToArray());
    }

    private static TensorInfo[] Concat(NodeContext c)
    {
        var inputs = Enumerable.Range(0, c.Node.Inputs.Count).Where(c.Has).Select(c.In).ToArray();
        if (inputs.Length == 0) throw c.Mismatch("Concat needs at least one input");
        var type = inputs[0].Type;
        var known = inputs.Where(i => i.Shape is not null).ToArray();
        if (known.Length == 0) return c.Single(type, null);
        int rank = known[0].Shape!.Length;
        int axis = c.NormalizeAxis(c.Node.GetInt("axis", 0), rank);
        var result = known[0].Shape!.ToArray();
        foreach (var other in known.Skip(1))
        {
            if (other.Shape!.Length != rank)
            {
                throw c.Mismatch($"inputs have different ranks: '{known[0].Name}' {Dims.Show(known[0].Shape)} and '{other.Name}' {Dims.Show(other.Shape)}");
            }
            for (int d = 0; d < rank; d++)
            {
                if (d == axis) continue;
                if (Dims.Conflict(result[d], other.Shape[d]))
                {
                    throw c.Mismatch($"inputs differ outside the concat axis {axis}: '{known[0].Name}' {Dims.Show(known[0].Shape)} and '{other.Name}' {Dims.Show(other.Shape)} (dimension {d})");
                }
                result[d] = Dims.Better(result[d], other.Shape[d]);
            }
        }
        result[axis] = known.Length == inputs.Length ? Dims.Sum(inputs.Select(i => i.Shape![axis])) : Dim.Unknown;
        return c.Single(type, result);
    }

    private static TensorInfo[] ConstantOfShape(NodeContext c)
    {
        var type = c.Node.Attr("value")?.Tensor?.Type ?? ElementType.Float;
        var shape = c.ConstInts(0);
        if (shape is not null)
        {
            if (shape.Any(d => d < 0)) throw c.Mismatch($"shape [{string.Join(",", shape)}] has a negative size");
            return c.Single(type, Dims.Of(shape));
        }
        var s = c.Shape(0);
        return c.Single(type, s is { Length: 1 } && s[0].Value is { } r ? Dims.Unknown((int)r) : null);
    }

    /// <summary>Shape: a 1-D int64 of the (start/end-sliced, opset 15+) rank.</summary>
    private static TensorInfo[] Shape(NodeContext c)
    {
        var x = c.Shape(0);
        if (x is null) return c.Single(ElementType.Int64, Dims.Unknown(1));
        var (start, end) = ShapeRange(c.Node, x.Length);
        return c.Single(ElementType.Int64, [Dim.Of(Math.Max(0, end - start))]);
    }

    /// <summary>The [start, end) range of a Shape node's output (clamped like ONNX).</summary>
    internal static (int Start, int End) ShapeRange(OnnxNode node, int rank)
    {
        long start = node.GetInt("start", 0), end = node.GetInt("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        return ((int)Math.Clamp(start, 0, rank), (int)Math.Clamp(end, 0, rank));
    }

    private static TensorInfo[] Gather(NodeContext c)
    {
        var data = c.In(0);
        var indices = c.Shape(1);
        if (data.Shape is null || indices is null) return c.Single(data.Type, null);
        int axis = c.NormalizeAxis(c.Node.GetInt("axis", 0), data.Shape.Length);
        return c.Single(data.Type, [.. data.Shape[..axis], .. indices, .. data.Shape[(axis + 1)..]]);
    }

    private static TensorInfo[] Unsqueeze(NodeContext c)
    {
        var x = c.In(0);
        var axes = c.IntsAttrOrInput("axes", 1, 13, out bool unknown);
        if (axes is null && !unknown) throw c.Mismatch("Unsqueeze needs axes");
        if (x.Shape is null || axes is null) return c.Single(x.Type, null);
        int rank = x.Shape.Length + axes.Length;
        var positions = axes.Select(a => c.NormalizeAxis(a, rank, "axes entry")).ToHashSet();
        if (positions.Count != axes.Length) throw c.Mismatch($"axes [{string.Join(",", axes)}] repeats an axis");
        var result = new Dim[rank];
        int next = 0;
        for (int i = 0; i < rank; i++) result[i] = positions.Contains(i) ? Dim.Of(1) : x.Shape[next++];
        return c.Single(x.Type, result);
    }

    private static TensorInfo[] Squeeze(NodeContext c)
    {
        var x = c.In(0);
        var axes = c.IntsAttrOrInput("axes", 1, 13, out bool unknown);
        if (x.Shape is null || unknown) return c.Single(x.Type, null);
        HashSet<int> drop;
        if (axes is null || axes.Length == 0)
        {
            // Without axes every size-1 dimension goes; an unknown size makes the rank unknown.
            if (x.Shape.Any(d => !d.IsKnown)) return c.Single(x.Type, null);
            drop = Enumerable.Range(0, x.Shape.Length).Where(i => x.Shape[i].Value == 1).ToHashSet();
        }
        else
        {
            drop = axes.Select(a => c.NormalizeAxis(a, x.Shape.Length, "axes entry")).ToHashSet();
            foreach (int a in drop)
            {
                if (x.Shape[a].Value is { } v && v != 1) throw c.Mismatch($"cannot squeeze dimension {a} of {Dims.Show(x.Shape)}: its size is {v}, not 1");
            }
        }
        return c.Single(x.Type, x.Shape.Where((_, i) => !drop.Contains(i)).ToArray());
    }

    /// <summary>Slice with constant starts/ends/axes/steps (attributes before opset 10, inputs after).</summary>
    private static TensorInfo[] Slice(NodeContext c)
    {
        var x = c.In(0);
        if (x.Shape is null) return c.Single(x.Type, null);
        int rank = x.Shape.Length;
        long[]? starts, ends, axes, steps;
        if (c.Opset < 10)
        {
            starts = c.Node.GetInts("starts");
            ends = c.Node.GetInts("ends");
            axes = c.Node.GetInts("axes");
            steps = null;
        }
        else
        {
            starts = c.ConstInts(1);
            ends = c.ConstInts(2);
            axes = c.Has(3) ? c.ConstInts(3) : null;
            steps = c.Has(4) ? c.ConstInts(4) : null;
            if ((c.Has(3) && axes is null) || (c.Has(4) && steps is null)) starts = null;
        }
        if (starts is null || ends is null)
        {
            // Not constant: only the sliced axes change, and we may not know which.
            return c.Single(x.Type, axes is null ? Dims.Unknown(rank) : x.Shape.Select((d, i) => axes.Any(a => (a < 0 ? a + rank : a) == i) ? Dim.Unknown : d).ToArray());
        }
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
        {
            throw c.Mismatch($"starts, ends, axes and steps must have the same length, got {starts.Length}, {ends.Length}, {axes.Length}, {steps.Length}");
        }
        var result = x.Shape.ToArray();
        for (int i = 0; i < starts.Length; i++)
        {
            int axis = c.NormalizeAxis(axes[i], rank, "axes entry");
            if (steps[i] == 0) throw c.Mismatch("a slice step is 0");
            result[axis] = x.Shape[axis].Value is { } size ? Dim.Of(SliceLength(size, starts[i], ends[i], steps[i])) : Dim.Unknown;
        }
        return c.Single(x.Type, result);
    }

    /// <summary>ONNX Slice's element count along one axis (negative indices count from the end, then clamp).</summary>
    internal static long SliceLength(long size, long start, long end, long step)
    {
        if (start < 0) start += size;
        if (end < 0) end += size;
        if (step > 0)
        {
            start = Math.Clamp(start, 0, size);
            end = Math.Clamp(end, 0, size);
            return end > start ? (end - start + step - 1) / step : 0;
        }
        start = Math.Clamp(start, -1, size - 1);
        end = Math.Clamp(end, -1, size - 1);
        return start > end ? (start - end + (-step) - 1) / -step : 0;
    }

    /// <summary>Split: explicit sizes (attribute before opset 13, input after), else equal parts (ceil for num_outputs, opset 18).</summary>
    private static TensorInfo[] Split(NodeContext c)
    {
        var x = c.In(0);
        int outputs = c.Node.Outputs.Count;
        if (x.Shape is null) return c.Outputs(Enumerable.Repeat((x.Type, (Dim[]?)null), outputs).ToArray());
        int axis = c.NormalizeAxis(c.Node.GetInt("axis", 0), x.Shape.Length);
        var sizes = c.IntsAttrOrInput("split", 1, 13, out bool unknown);
        var dims = new Dim[outputs];
        if (unknown)
        {
            Array.Fill(dims, Dim.Unknown);
        }
        else if (sizes is { Length: > 0 })
        {
            if (sizes.Length != outputs) throw c.Mismatch($"split has {sizes.Length} sizes but the node has {outputs} outputs");
            if (x.Shape[axis].Value is { } total && sizes.Sum() != total)
            {
                throw c.Mismatch($"split sizes [{string.Join(",", sizes)}] add up to {sizes.Sum()}, but dimension {axis} of {Dims.Show(x.Shape)} is {total}");
            }
            for (int i = 0; i < outputs; i++) dims[i] = Dim.Of(sizes[i]);
        }
        else if (x.Shape[axis].Value is { } total)
        {
            long parts = c.Node.Attr("num_outputs") is { } n ? n.Int : outputs;
            if (parts != outputs) throw c.Mismatch($"num_outputs = {parts} but the node has {outputs} outputs");
            long chunk = (total + parts - 1) / parts;
            if (c.Node.Attr("num_outputs") is null && total % parts != 0)
            {
                throw c.Mismatch($"dimension {axis} of {Dims.Show(x.Shape)} ({total}) cannot be split into {parts} equal parts");
            }
            for (int i = 0; i < outputs; i++) dims[i] = Dim.Of(Math.Clamp(total - i * chunk, 0, chunk));
        }
        else
        {
            Array.Fill(dims, Dim.Unknown);
        }
        return c.Outputs(dims.Select(d =>
        {
            var s = x.Shape.ToArray();
            s[axis] = d;
            return (x.Type, (Dim[]?)s);
        }).ToArray());
    }

    /// <summary>Pad: pads attribute before opset 11, pads (and axes, opset 18) inputs after.</summary>
    private static TensorInfo[] Pad(NodeContext c)
    {
        var x = c.In(0);
        if (x.Shape is null) return c.Single(x.Type, null);
        int rank = x.Shape.Length;
        var pads = c.Opset < 11 ? c.Node.GetInts("pads") : c.ConstInts(1);
        long[]? axes = null;
        if (c.Opset >= 18 && c.Has(3))
        {
            axes = c.ConstInts(3);
            if (axes is null) pads = null;
        }
        if (pads is null) return c.Single(x.Type, Dims.Unknown(rank));
        axes ??= Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        if (pads.Length != 2 * axes.Length) throw c.Mismatch($"pads has {pads.Length} values but {axes.Length} axes need {2 * axes.Length}");
        var result = x.Shape.ToArray();
        for (int i = 0; i < axes.Length; i++)
        {
            int a = c.NormalizeAxis(axes[i], rank, "axes entry");
            result[a] = Dims.Map(x.Shape[a], v => v + pads[i] + pads[i + axes.Length]);
            if (result[a].Value < 0) throw c.Mismatch($"pads [{string.Join(",", pads)}] make dimension {a} of {Dims.Show(x.Shape)} negative");
        }
        return c.Single(x.Type, result);
    }

    /// <summary>
    /// Resize (opset 10+) and Upsample: sizes when given, else floor(dim × scale). With
    /// keep_aspect_ratio_policy not_larger/not_smaller one common scale is used (opset 18).
    /// </summary>
    private static TensorInfo[] Resize(NodeContext c)
    {
        var x = c.In(0);
        if (x.Shape is null) return c.Single(x.Type, null);
        int rank = x.Shape.Length;
        float[]? scales;
        long[]? sizes = null;
        if (c.Node.OpType == "Upsample" && c.Opset < 9) scales = c.Node.Attr("scales")?.Floats;
        else if (c.Node.OpType == "Upsample" || c.Opset < 11) scales = c.ConstFloats(1);
        else
        {
            scales = c.ConstFloats(2);
            sizes = c.ConstInts(3);
            if (scales is { Length: 0 }) scales = null;
        }
        if (scales is null && sizes is null) return c.Single(x.Type, Dims.Unknown(rank));
        var axes = (c.Node.GetInts("axes") ?? Enumerable.Range(0, rank).Select(i => (long)i).ToArray())
            .Select(a => c.NormalizeAxis(a, rank, "axes entry")).ToArray();
        int count = sizes?.Length ?? scales!.Length;
        if (count != axes.Length) throw c.Mismatch($"{(sizes is null ? "scales" : "sizes")} has {count} values for {axes.Length} axes");
        var result = x.Shape.ToArray();
        string policy = c.Node.GetString("keep_aspect_ratio_policy", "stretch");
        if (sizes is not null && policy != "stretch")
        {
            if (axes.Any(a => !x.Shape[a].IsKnown)) return c.Single(x.Type, x.Shape.Select((d, i) => axes.Contains(i) ? Dim.Unknown : d).ToArray());
            var ratios = axes.Select((a, i) => (double)sizes[i] / x.Shape[a].Value!.Value);
            double scale = policy == "not_larger" ? ratios.Min() : ratios.Max();
            foreach (int a in axes) result[a] = Dim.Of((long)Math.Round(scale * x.Shape[a].Value!.Value, MidpointRounding.ToEven));
            return c.Single(x.Type, result);
        }
        for (int i = 0; i < axes.Length; i++)
        {
            int a = axes[i];
            result[a] = sizes is not null ? Dim.Of(sizes[i]) : Dims.Map(x.Shape[a], v => (long)Math.Floor(v * (double)scales![i]));
        }
        return c.Single(x.Type, result);
    }
}
