using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Onnx.Shapes;

internal static partial class Rules
{
    // A method, not a static field: static field initializers of partial classes run in an
    // unspecified order across files, and the rule table is built from one of them.
    private static string[] SameShapeOps() =>
    [
        "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Abs", "Neg", "Exp", "Log", "Sqrt", "Reciprocal", "Erf",
        "Elu", "Selu", "Celu", "HardSigmoid", "HardSwish", "Softplus", "Softsign", "Gelu", "Mish",
        "ThresholdedRelu", "Identity", "Floor", "Ceil", "Round", "Sign", "Sin", "Cos", "Tan", "Asin",
        "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Softmax", "LogSoftmax", "Hardmax",
        "Clip", "Shrink", "BitwiseNot",
    ];

    private static void AddElementwise(Dictionary<string, Func<NodeContext, TensorInfo[]>> t)
    {
        foreach (var op in SameShapeOps()) t[op] = SameAsInput;
        foreach (var op in new[] { "Add", "Sub", "Mul", "Div", "Pow", "Mod", "BitShift", "BitwiseAnd", "BitwiseOr", "BitwiseXor" })
        {
            t[op] = c => c.Single(c.In(0).Type, Dims.Broadcast(c, c.Shape(0), c.Shape(1)));
        }
        foreach (var op in new[] { "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor" })
        {
            t[op] = c => c.Single(ElementType.Bool, Dims.Broadcast(c, c.Shape(0), c.Shape(1)));
        }
        t["Not"] = c => c.Single(ElementType.Bool, c.Shape(0));
        t["IsNaN"] = c => c.Single(ElementType.Bool, c.Shape(0));
        t["IsInf"] = c => c.Single(ElementType.Bool, c.Shape(0));
        foreach (var op in new[] { "Max", "Min", "Sum", "Mean" }) t[op] = Variadic;
        t["Where"] = c => c.Single(c.In(1).Type, Dims.Broadcast(c, c.Shape(0), c.Shape(1), c.Shape(2)));
        t["PRelu"] = PRelu;
        t["Dropout"] = Dropout;
        t["Cast"] = Cast;
        t["CastLike"] = c => c.Single(c.In(1).Type, c.Shape(0));
        t["Expand"] = Expand;
    }

    private static TensorInfo[] SameAsInput(NodeContext c)
    {
        var x = c.In(0);
        return c.Single(x.Type, x.Shape);
    }

    private static TensorInfo[] Variadic(NodeContext c)
    {
        var present = Enumerable.Range(0, c.Node.Inputs.Count).Where(c.Has).ToArray();
        if (present.Length == 0) throw c.Mismatch($"{c.Node.OpType} needs at least one input");
        return c.Single(c.In(present[0]).Type, Dims.Broadcast(c, present.Select(c.Shape).ToArray()));
    }

    /// <summary>PRelu broadcasts the slope to X (unidirectionally): the result has X's shape.</summary>
    private static TensorInfo[] PRelu(NodeContext c)
    {
        var x = c.In(0);
        var b = Dims.Broadcast(c, x.Shape, c.Shape(1));
        if (x.Shape is not null && b is not null && b.Length != x.Shape.Length)
        {
            throw c.Mismatch($"slope shape {Dims.Show(c.Shape(1))} has a higher rank than X {Dims.Show(x.Shape)}");
        }
        return c.Single(x.Type, x.Shape is null ? b : x.Shape.Select((d, i) => Dims.Better(d, b![i])).ToArray());
    }

    /// <summary>Dropout: output has X's shape; the optional mask is bool from opset 10 (before, X's type).</summary>
    private static TensorInfo[] Dropout(NodeContext c)
    {
        var x = c.In(0);
        return c.Outputs((x.Type, x.Shape), (c.Opset >= 10 ? ElementType.Bool : x.Type, x.Shape));
    }

    private static TensorInfo[] Cast(NodeContext c)
    {
        long to = c.Node.GetInt("to", 0);
        var type = Loading.OnnxTypes.TryMap((int)to) ?? throw new OnnxException(ErrorCodes.UnsupportedType,
            $"node {c.Node} casts to {Loading.OnnxTypes.Name((int)to)}, which ModelGen does not support; use a plain numeric type");
        return c.Single(type, c.Shape(0));
    }

    private static TensorInfo[] Expand(NodeContext c)
    {
        var x = c.In(0);
        var shape = c.ConstInts(1);
        if (shape is null)
        {
            var s = c.Shape(1);
            return c.Single(x.Type, s is { Length: 1 } && s[0].Value is { } n && x.Shape is not null ? Dims.Unknown((int)Math.Max(n, x.Shape.Length)) : null);
        }
        return c.Single(x.Type, Dims.Broadcast(c, x.Shape, Dims.Of(shape)));
    }
}
