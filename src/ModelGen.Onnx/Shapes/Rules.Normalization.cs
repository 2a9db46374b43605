using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Onnx.Shapes;

internal static partial class Rules
{
    private static void AddNormalization(Dictionary<string, Func<NodeContext, TensorInfo[]>> t)
    {
        t["BatchNormalization"] = BatchNormalization;
        t["InstanceNormalization"] = c =>
        {
            CheckPerChannel(c, 1, 2);
            return SameAsInput(c);
        };
        t["LRN"] = SameAsInput;
        t["LayerNormalization"] = LayerNormalization;
    }

    /// <summary>Y has X's shape; scale, B, mean and var are [C]; the optional training outputs are [C].</summary>
    private static TensorInfo[] BatchNormalization(NodeContext c)
    {
        var x = c.In(0);
        CheckPerChannel(c, 1, 4);
        Dim channels = x.Shape is { Length: > 1 } s ? s[1] : Dim.Unknown;
        var perChannel = (x.Type, (Dim[]?)new[] { channels });
        return c.Outputs((x.Type, x.Shape), perChannel, perChannel, perChannel, perChannel);
    }

    /// <summary>Checks that inputs first..last are 1-D with X's channel count.</summary>
    private static void CheckPerChannel(NodeContext c, int first, int last)
    {
        var x = c.In(0);
        if (x.Shape is { Length: < 2 }) throw c.Mismatch($"input X {Dims.Show(x.Shape)} needs at least 2 dimensions (N, C, …)");
        Dim channels = x.Shape is { } s ? s[1] : Dim.Unknown;
        for (int i = first; i <= last; i++)
        {
            if (!c.Has(i) || c.Shape(i) is not { } p) continue;
            if (p.Length != 1 || Dims.Conflict(p[0], channels))
            {
                throw c.Mismatch($"input {i} ('{c.Node.Inputs[i]}') has shape {Dims.Show(p)}, but X {Dims.Show(x.Shape)} has {channels} channels");
            }
        }
    }

    /// <summary>Y has X's shape; Mean and InvStdDev keep the dims before axis and are 1 from axis on.</summary>
    private static TensorInfo[] LayerNormalization(NodeContext c)
    {
        var x = c.In(0);
        Dim[]? stats = null;
        if (x.Shape is { } s)
        {
            int axis = c.NormalizeAxis(c.Node.GetInt("axis", -1), s.Length);
            stats = s.Select((d, i) => i < axis ? d : Dim.Of(1)).ToArray();
        }
        var statType = Loading.OnnxTypes.TryMap((int)c.Node.GetInt("stash_type", 1)) ?? ElementType.Float;
        return c.Outputs((x.Type, x.Shape), (statType, stats), (statType, stats));
    }
}
