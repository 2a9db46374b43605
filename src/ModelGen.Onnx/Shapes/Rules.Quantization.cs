using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Onnx.Shapes;

internal static partial class Rules
{
    private static void AddQuantization(Dictionary<string, Func<NodeContext, TensorInfo[]>> t)
    {
        t["QuantizeLinear"] = QuantizeLinear;
        t["DequantizeLinear"] = DequantizeLinear;
        t["DynamicQuantizeLinear"] = c => c.Outputs((ElementType.UInt8, c.Shape(0)), (ElementType.Float, []), (ElementType.UInt8, []));
        t["MatMulInteger"] = c => c.Single(ElementType.Int32, MatMulShape(c, c.Shape(0), c.Shape(1)));
        // QLinearMatMul: a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point.
        t["QLinearMatMul"] = c => c.Single(c.In(7).Type, MatMulShape(c, c.Shape(0), c.Shape(3)));
        // QLinearConv: x, x_scale, x_zero_point, w, w_scale, w_zero_point, y_scale, y_zero_point, B.
        t["QLinearConv"] = c => Conv(c, dataIndex: 0, weightIndex: 3, c.In(7).Type, biasIndex: 8);
    }

    /// <summary>y has x's shape; its type is y_zero_point's, else output_dtype (opset 21+), else uint8.</summary>
    private static TensorInfo[] QuantizeLinear(NodeContext c)
    {
        ElementType type = ElementType.UInt8;
        if (c.Has(2)) type = c.In(2).Type;
        else if (c.Node.GetInt("output_dtype", 0) is var dtype and not 0) type = MapType(c, dtype);
        return c.Single(type, c.Shape(0));
    }

    /// <summary>y has x's shape and x_scale's type (or output_dtype, opset 23+).</summary>
    private static TensorInfo[] DequantizeLinear(NodeContext c)
    {
        long dtype = c.Node.GetInt("output_dtype", 0);
        return c.Single(dtype != 0 ? MapType(c, dtype) : c.In(1).Type, c.Shape(0));
    }

    private static ElementType MapType(NodeContext c, long code) =>
        Loading.OnnxTypes.TryMap((int)code) ?? throw new OnnxException(ErrorCodes.UnsupportedType,
            $"node {c.Node} produces {Loading.OnnxTypes.Name((int)code)}, which ModelGen does not support");
}
