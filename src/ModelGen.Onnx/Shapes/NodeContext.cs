using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Onnx.Shapes;

/// <summary>
/// What one inference rule sees: the node, the opset, and lookups for the types and constant
/// values of its inputs; plus helpers that build outputs and errors naming the node.
/// </summary>
internal sealed class NodeContext
{
    private readonly Func<string, TensorInfo?> _info;
    private readonly Func<string, OnnxTensor?> _constant;

    public NodeContext(OnnxNode node, long opset, Func<string, TensorInfo?> info, Func<string, OnnxTensor?> constant)
    {
        Node = node;
        Opset = opset;
        _info = info;
        _constant = constant;
    }

    public OnnxNode Node { get; }

    public long Opset { get; }

    /// <summary>True when input <paramref name="index"/> is present (not omitted with "").</summary>
    public bool Has(int index) => Node.InputOrEmpty(index).Length > 0;

    /// <summary>The type and shape of a required input.</summary>
    public TensorInfo In(int index)
    {
        string name = Node.InputOrEmpty(index);
        if (name.Length == 0)
        {
            throw new OnnxException(ErrorCodes.InvalidGraph, $"node {Node} needs input {index}, but it has {Node.Inputs.Count(i => i.Length > 0)} inputs; re-export the model");
        }
        return _info(name) ?? throw new OnnxException(ErrorCodes.InvalidGraph,
            $"node {Node} reads value '{name}', whose type is unknown (it is not an input, initializer or earlier node output)");
    }

    /// <summary>The shape of a required input (null when its rank is unknown).</summary>
    public Dim[]? Shape(int index) => In(index).Shape;

    /// <summary>The constant value of input <paramref name="index"/>, if it is present and constant.</summary>
    public OnnxTensor? Const(int index) => Has(index) ? _constant(Node.Inputs[index]) : null;

    /// <summary>A constant integer input (shape, axes, pads…) as longs; null when absent or not constant.</summary>
    public long[]? ConstInts(int index)
    {
        var t = Const(index);
        if (t is null) return null;
        if (t.Type is not (ElementType.Int64 or ElementType.Int32))
        {
            throw Mismatch($"input {index} ('{Node.Inputs[index]}') must be int64, not {t.Type.ToOnnxName()}");
        }
        return t.ToInt64Array();
    }

    /// <summary>A constant float input (scales…); null when absent or not constant.</summary>
    public float[]? ConstFloats(int index)
    {
        var t = Const(index);
        if (t is null) return null;
        if (t.Type is not (ElementType.Float or ElementType.Double or ElementType.Float16))
        {
            throw Mismatch($"input {index} ('{Node.Inputs[index]}') must be a float tensor, not {t.Type.ToOnnxName()}");
        }
        return t.ToFloatArray();
    }

    /// <summary>Integer-list parameter that moved from an attribute to input <paramref name="index"/> in opset <paramref name="sinceOpset"/>.</summary>
    public long[]? IntsAttrOrInput(string attribute, int index, long sinceOpset, out bool unknown)
    {
        unknown = false;
        if (Opset < sinceOpset || Node.Attr(attribute) is not null) return Node.GetInts(attribute);
        if (!Has(index)) return null;
        var v = ConstInts(index);
        unknown = v is null;
        return v;
    }

    public int NormalizeAxis(long axis, int rank, string what = "axis")
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank)
        {
            throw Mismatch($"{what} {axis} is out of range for rank {rank}");
        }
        return (int)a;
    }

    public OnnxException Mismatch(string message) =>
        new(ErrorCodes.ShapeMismatch, $"node {Node}: {message}; fix the model (or re-export it)");

    /// <summary>One output per node output: the first from <paramref name="type"/>/<paramref name="shape"/>.</summary>
    public TensorInfo[] Single(ElementType type, Dim[]? shape) => Outputs((type, shape));

    /// <summary>Outputs in order; node outputs beyond the given ones must be omitted ("").</summary>
    public TensorInfo[] Outputs(params (ElementType Type, Dim[]? Shape)[] values)
    {
        var result = new TensorInfo[Node.Outputs.Count];
        for (int i = 0; i < result.Length; i++)
        {
            string name = Node.Outputs[i];
            if (i < values.Length)
            {
                result[i] = new TensorInfo(name, values[i].Type, values[i].Shape?.ToArray());
            }
            else if (name.Length == 0)
            {
                result[i] = new TensorInfo(name, values.Length > 0 ? values[0].Type : ElementType.Float, null);
            }
            else
            {
                throw Mismatch($"has {Node.Outputs.Count} outputs, but {Node.OpType} produces at most {values.Length}");
            }
        }
        return result;
    }
}
