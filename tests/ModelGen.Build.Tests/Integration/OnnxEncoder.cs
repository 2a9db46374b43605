using System.Buffers.Binary;
using System.Text;

namespace ModelGen.Build.Tests.Integration;

/// <summary>A node attribute: exactly one of the values is set.</summary>
internal sealed record OnnxAttr(string Name, long? Int = null, float? Float = null, long[]? Ints = null);

/// <summary>A node: op type, input and output value names, attributes.</summary>
internal sealed record OnnxNodeDef(string Op, string[] Inputs, string[] Outputs, params OnnxAttr[] Attributes);

/// <summary>
/// The smallest ONNX ModelProto writer these tests need (float tensors, opset 13), encoded by
/// hand from onnx.proto's field numbers. It keeps the build tests independent of the project's
/// own loader/writer, which are among the things under test; ONNX Runtime checks the result.
/// </summary>
internal sealed class OnnxModelDef
{
    public List<(string Name, int[] Dims)> Inputs { get; } = new();
    public List<(string Name, int[] Dims)> Outputs { get; } = new();
    public List<(string Name, int[] Dims, float[] Data)> Initializers { get; } = new();
    public List<OnnxNodeDef> Nodes { get; } = new();

    /// <summary>Element types (ONNX codes) of inputs and outputs that are not float (1): e.g. 7 for int64.</summary>
    public Dictionary<string, int> ValueTypes { get; } = new();

    public byte[] Encode(long opset = 13)
    {
        var model = new ProtoWriter();
        model.Int(1, 7); // ir_version 7 (ONNX 1.8), understood by every ORT since 1.6
        model.String(2, "ModelGen.Build.Tests");
        model.Message(7, graph =>
        {
            var n = 0;
            foreach (var node in Nodes)
            {
                graph.Message(1, w =>
                {
                    foreach (var i in node.Inputs) w.String(1, i);
                    foreach (var o in node.Outputs) w.String(2, o);
                    w.String(3, $"{node.Op}_{n++}");
                    w.String(4, node.Op);
                    foreach (var a in node.Attributes) w.Message(5, aw => WriteAttribute(aw, a));
                });
            }

            graph.String(2, "test-graph");
            foreach (var (name, dims, data) in Initializers)
            {
                graph.Message(5, t =>
                {
                    foreach (var d in dims) t.Int(1, d);
                    t.Int(2, 1); // FLOAT
                    t.String(8, name);
                    var raw = new byte[data.Length * 4];
                    for (var i = 0; i < data.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(i * 4), data[i]);
                    t.Bytes(9, raw);
                });
            }

            foreach (var (name, dims) in Inputs) graph.Message(11, v => WriteValueInfo(v, name, dims, ValueTypes.GetValueOrDefault(name, 1)));
            foreach (var (name, dims) in Outputs) graph.Message(12, v => WriteValueInfo(v, name, dims, ValueTypes.GetValueOrDefault(name, 1)));
        });
        model.Message(8, op => op.Int(2, opset));
        return model.ToArray();
    }

    /// <summary>A value_info; a negative dim is the symbolic batch dim_param "N".</summary>
    private static void WriteValueInfo(ProtoWriter v, string name, int[] dims, int elementType)
    {
        v.String(1, name);
        v.Message(2, type => type.Message(1, tensor =>
        {
            tensor.Int(1, elementType);
            tensor.Message(2, shape =>
            {
                foreach (var d in dims) shape.Message(1, dim => { if (d < 0) dim.String(2, "N"); else dim.Int(1, d); });
            });
        }));
    }

    private static void WriteAttribute(ProtoWriter w, OnnxAttr a)
    {
        w.String(1, a.Name);
        if (a.Float is { } f)
        {
            w.Float(2, f);
            w.Int(20, 1);
        }
        else if (a.Int is { } i)
        {
            w.Int(3, i);
            w.Int(20, 2);
        }
        else if (a.Ints is { } ints)
        {
            foreach (var x in ints) w.Int(8, x);
            w.Int(20, 7);
        }
        else
        {
            throw new ArgumentException($"attribute '{a.Name}' has no value");
        }
    }

    /// <summary>Protobuf wire format: varints, fixed32 floats and length-delimited fields.</summary>
    private sealed class ProtoWriter
    {
        private readonly MemoryStream _stream = new();

        public byte[] ToArray() => _stream.ToArray();

        public void Int(int field, long value)
        {
            Varint((ulong)(field << 3));
            Varint((ulong)value);
        }

        public void Float(int field, float value)
        {
            Varint((ulong)((field << 3) | 5));
            Span<byte> bytes = stackalloc byte[4];
            BinaryPrimitives.WriteSingleLittleEndian(bytes, value);
            _stream.Write(bytes);
        }

        public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public void Bytes(int field, byte[] value)
        {
            Varint((ulong)((field << 3) | 2));
            Varint((ulong)value.Length);
            _stream.Write(value);
        }

        public void Message(int field, Action<ProtoWriter> write)
        {
            var inner = new ProtoWriter();
            write(inner);
            Bytes(field, inner.ToArray());
        }

        private void Varint(ulong value)
        {
            while (value >= 0x80)
            {
                _stream.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }

            _stream.WriteByte((byte)value);
        }
    }
}
