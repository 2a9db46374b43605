using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Onnx.Shapes;

internal static partial class Rules
{
    private static void AddConvPool(Dictionary<string, Func<NodeContext, TensorInfo[]>> t)
    {
        t["Conv"] = c => Conv(c, dataIndex: 0, weightIndex: 1, c.In(0).Type);
        t["ConvTranspose"] = ConvTranspose;
        t["MaxPool"] = c => Pool(c, withIndices: true);
        t["AveragePool"] = c => Pool(c, withIndices: false);
        t["LpPool"] = c => Pool(c, withIndices: false);
        t["GlobalAveragePool"] = GlobalPool;
        t["GlobalMaxPool"] = GlobalPool;
        t["GlobalLpPool"] = GlobalPool;
    }

    /// <summary>
    /// Conv (and QLinearConv): X [N, C, D1…], W [M, C/group, k1…] → [N, M, O1…]. Checks channels
    /// against group, the kernel_shape attribute against W, and the optional bias [M].
    /// </summary>
    internal static TensorInfo[] Conv(NodeContext c, int dataIndex, int weightIndex, ElementType type, int biasIndex = 2)
    {
        var x = c.Shape(dataIndex);
        var w = c.Shape(weightIndex);
        if (x is null && w is null) return c.Single(type, null);
        int rank = x?.Length ?? w!.Length;
        if (rank < 3) throw c.Mismatch($"input X {Dims.Show(x)} needs at least 3 dimensions (N, C, spatial…)");
        if (x is not null && w is not null && w.Length != x.Length)
        {
            throw c.Mismatch($"weight W {Dims.Show(w)} has rank {w.Length} but X {Dims.Show(x)} has rank {x.Length}");
        }
        long group = c.Node.GetInt("group", 1);
        if (group < 1) throw c.Mismatch($"group = {group} must be at least 1");
        Dim inChannels = x?[1] ?? Dim.Unknown, outChannels = w?[0] ?? Dim.Unknown;
        if (w is not null && w[1].Value is { } perGroup && inChannels.Value is { } cIn && perGroup * group != cIn)
        {
            throw c.Mismatch($"weight W {Dims.Show(w)} expects {perGroup}×{group} (group) = {perGroup * group} input channels, but X {Dims.Show(x)} has {cIn}");
        }
        if (outChannels.Value is { } m && m % group != 0)
        {
            throw c.Mismatch($"{m} output channels (W {Dims.Show(w)}) are not divisible by group = {group}");
        }
        if (c.Has(biasIndex) && c.Shape(biasIndex) is { } bias && (bias.Length != 1 || Dims.Conflict(bias[0], outChannels)))
        {
            throw c.Mismatch($"bias B {Dims.Show(bias)} must be [{outChannels}], one value per output channel");
        }
        int spatial = rank - 2;
        var kernel = c.Node.GetInts("kernel_shape") ?? (w is null ? null : w[2..].Select(d => d.Value ?? -1).ToArray());
        if (kernel is not null && w is not null)
        {
            for (int i = 0; i < spatial && i < kernel.Length; i++)
            {
                if (w[2 + i].Value is { } k && k != kernel[i])
                {
                    throw c.Mismatch($"kernel_shape [{string.Join(",", kernel)}] does not match weight W {Dims.Show(w)}");
                }
            }
        }
        var result = new Dim[rank];
        result[0] = x?[0] ?? Dim.Unknown;
        result[1] = outChannels;
        var outSpatial = SpatialOutput(c, x?[2..] ?? Dims.Unknown(spatial), kernel, ceilMode: false);
        outSpatial.CopyTo(result, 2);
        return c.Single(type, result);
    }

    /// <summary>MaxPool/AveragePool/LpPool: [N, C, O1…]; MaxPool's optional Indices output is int64 of the same shape.</summary>
    private static TensorInfo[] Pool(NodeContext c, bool withIndices)
    {
        var xi = c.In(0);
        var x = xi.Shape;
        var kernel = c.Node.GetInts("kernel_shape") ?? throw c.Mismatch($"{c.Node.OpType} needs the kernel_shape attribute");
        if (x is null) return withIndices ? c.Outputs((xi.Type, null), (ElementType.Int64, null)) : c.Single(xi.Type, null);
        if (x.Length != kernel.Length + 2)
        {
            throw c.Mismatch($"kernel_shape has {kernel.Length} dimensions but X {Dims.Show(x)} has {x.Length - 2} spatial dimensions");
        }
        bool ceil = c.Node.GetInt("ceil_mode", 0) != 0;
        var result = new Dim[x.Length];
        result[0] = x[0];
        result[1] = x[1];
        SpatialOutput(c, x[2..], kernel, ceil).CopyTo(result, 2);
        return withIndices ? c.Outputs((xi.Type, result), (ElementType.Int64, result)) : c.Single(xi.Type, result);
    }

    private static TensorInfo[] GlobalPool(NodeContext c)
    {
        var x = c.In(0);
        if (x.Shape is null) return c.Single(x.Type, null);
        if (x.Shape.Length < 3) throw c.Mismatch($"input X {Dims.Show(x.Shape)} needs at least 3 dimensions (N, C, spatial…)");
        return c.Single(x.Type, x.Shape.Select((d, i) => i < 2 ? d : Dim.Of(1)).ToArray());
    }

    /// <summary>
    /// Output spatial sizes of a sliding window: auto_pad NOTSET uses pads, VALID none, SAME_*
    /// gives ceil(in / stride). With ceil_mode the last window must start inside the input or
    /// its begin padding (ONNX drops it otherwise).
    /// </summary>
    private static Dim[] SpatialOutput(NodeContext c, Dim[] input, long[]? kernel, bool ceilMode)
    {
        int n = input.Length;
        var strides = Param(c, "strides", n, 1);
        var dilations = Param(c, "dilations", n, 1);
        var pads = c.Node.GetInts("pads") ?? new long[2 * n];
        if (pads.Length != 2 * n) throw c.Mismatch($"pads has {pads.Length} values; it needs 2 × {n} (begin and end per spatial dimension)");
        string autoPad = c.Node.GetString("auto_pad", "NOTSET");
        var result = new Dim[n];
        for (int i = 0; i < n; i++)
        {
            if (strides[i] < 1 || dilations[i] < 1) throw c.Mismatch($"strides and dilations must be at least 1, got strides [{string.Join(",", strides)}], dilations [{string.Join(",", dilations)}]");
            if (input[i].Value is not { } size || kernel is null || kernel[i] < 0)
            {
                result[i] = Dim.Unknown;
                continue;
            }
            long effective = (kernel[i] - 1) * dilations[i] + 1;
            long s = strides[i];
            long outSize;
            switch (autoPad)
            {
                case "SAME_UPPER" or "SAME_LOWER":
                    outSize = (size + s - 1) / s;
                    break;
                case "VALID":
                    outSize = size < effective ? 0 : (size - effective) / s + 1;
                    if (size < effective) throw c.Mismatch($"kernel extent {effective} is larger than input size {size} in spatial dimension {i} with auto_pad VALID");
                    break;
                case "NOTSET" or "":
                    long padded = size + pads[i] + pads[i + n];
                    if (padded < effective)
                    {
                        throw c.Mismatch($"kernel extent {effective} is larger than the padded input size {padded} in spatial dimension {i}");
                    }
                    outSize = ceilMode ? CeilDiv(padded - effective, s) + 1 : (padded - effective) / s + 1;
                    if (ceilMode && (outSize - 1) * s >= size + pads[i]) outSize--;
                    break;
                default:
                    throw c.Mismatch($"auto_pad '{autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
            }
            result[i] = Dim.Of(outSize);
        }
        return result;
    }

    private static long CeilDiv(long a, long b) => (a + b - 1) / b;

    private static long[] Param(NodeContext c, string name, int n, long fallback)
    {
        var v = c.Node.GetInts(name);
        if (v is null || v.Length == 0) return Enumerable.Repeat(fallback, n).ToArray();
        if (v.Length != n) throw c.Mismatch($"{name} has {v.Length} values but the input has {n} spatial dimensions");
        return v;
    }

    /// <summary>
    /// ConvTranspose: X [N, C, D…], W [C, M/group, k…] → [N, M, O…] with
    /// O = stride·(D−1) + output_padding + (k−1)·dilation + 1 − pads, or output_shape when given.
    /// </summary>
    private static TensorInfo[] ConvTranspose(NodeContext c)
    {
        var xi = c.In(0);
        var x = xi.Shape;
        var w = c.Shape(1);
        if (x is null || w is null) return c.Single(xi.Type, x is null ? null : Dims.Unknown(x.Length));
        if (w.Length != x.Length) throw c.Mismatch($"weight W {Dims.Show(w)} has rank {w.Length} but X {Dims.Show(x)} has rank {x.Length}");
        if (Dims.Conflict(w[0], x[1])) throw c.Mismatch($"weight W {Dims.Show(w)} expects {w[0]} input channels, but X {Dims.Show(x)} has {x[1]}");
        long group = c.Node.GetInt("group", 1);
        int n = x.Length - 2;
        var kernel = c.Node.GetInts("kernel_shape") ?? w[2..].Select(d => d.Value ?? -1).ToArray();
        var strides = Param(c, "strides", n, 1);
        var dilations = Param(c, "dilations", n, 1);
        var outputPadding = Param(c, "output_padding", n, 0);
        var outputShape = c.Node.GetInts("output_shape");
        var pads = c.Node.GetInts("pads") ?? new long[2 * n];
        string autoPad = c.Node.GetString("auto_pad", "NOTSET");
        var result = new Dim[x.Length];
        result[0] = x[0];
        result[1] = Dims.Map(w[1], v => v * group);
        for (int i = 0; i < n; i++)
        {
            if (outputShape is { Length: > 0 })
            {
                result[2 + i] = Dim.Of(outputShape[outputShape.Length - n + i]);
            }
            else if (x[2 + i].Value is not { } size || kernel[i] < 0)
            {
                result[2 + i] = Dim.Unknown;
            }
            else if (autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                result[2 + i] = Dim.Of(size * strides[i]);
            }
            else
            {
                long total = strides[i] * (size - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1;
                if (autoPad != "VALID") total -= pads[i] + pads[i + n];
                result[2 + i] = Dim.Of(total);
            }
        }
        return c.Single(xi.Type, result);
    }
}
