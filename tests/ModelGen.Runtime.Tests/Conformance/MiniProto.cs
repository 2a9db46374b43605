using System.Text;

namespace ModelGen.Runtime.Tests.Conformance;

/// <summary>
/// Just enough protobuf decoding to read ONNX node-test cases (ModelProto, NodeProto, TensorProto)
/// independently of the product's own loader, so the runtime is checked against ONNX's expected
/// outputs without depending on code under development elsewhere.
/// </summary>
internal ref struct ProtoReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;
    private int _pos;

    public bool Next(out int field, out int wire)
    {
        if (_pos >= _data.Length)
        {
            field = wire = 0;
            return false;
        }
        ulong key = Varint();
        field = (int)(key >> 3);
        wire = (int)(key & 7);
        return true;
    }

    public ulong Varint()
    {
        ulong result = 0;
        for (int shift = 0; ; shift += 7)
        {
            byte b = _data[_pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return result;
        }
    }

    public ReadOnlySpan<byte> Bytes()
    {
        int n = (int)Varint();
        var s = _data.Slice(_pos, n);
        _pos += n;
        return s;
    }

    public string String() => Encoding.UTF8.GetString(Bytes());
    public float Fixed32() { float v = BitConverter.ToSingle(_data.Slice(_pos, 4)); _pos += 4; return v; }
    public double Fixed64() { double v = BitConverter.ToDouble(_data.Slice(_pos, 8)); _pos += 8; return v; }

    public void Skip(int wire)
    {
        switch (wire)
        {
            case 0: Varint(); break;
            case 1: _pos += 8; break;
            case 2: Bytes(); break;
            case 5: _pos += 4; break;
            default: throw new InvalidDataException($"wire type {wire}");
        }
    }

    /// <summary>A repeated varint field, packed or not.</summary>
    public void Varints(int wire, List<long> into)
    {
        if (wire == 0)
        {
            into.Add((long)Varint());
            return;
        }
        var inner = new ProtoReader(Bytes());
        while (inner._pos < inner._data.Length) into.Add((long)inner.Varint());
    }

    /// <summary>A repeated float field, packed or not.</summary>
    public void Floats(int wire, List<float> into)
    {
        if (wire == 5)
        {
            into.Add(Fixed32());
            return;
        }
        var bytes = Bytes();
        for (int i = 0; i + 4 <= bytes.Length; i += 4) into.Add(BitConverter.ToSingle(bytes.Slice(i, 4)));
    }

    public void Doubles(int wire, List<double> into)
    {
        if (wire == 1)
        {
            into.Add(Fixed64());
            return;
        }
        var bytes = Bytes();
        for (int i = 0; i + 8 <= bytes.Length; i += 8) into.Add(BitConverter.ToDouble(bytes.Slice(i, 8)));
    }
}

/// <summary>A decoded TensorProto: type code, dims and the little-endian element bytes.</summary>
internal sealed class ProtoTensor
{
    public string Name = "";
    public int DataType;
    public int[] Dims = [];
    public byte[] Raw = [];

    public static ProtoTensor Parse(ReadOnlySpan<byte> data)
    {
        var t = new ProtoTensor();
        var dims = new List<long>();
        var floats = new List<float>();
        var ints = new List<long>();
        var int32s = new List<long>();
        var doubles = new List<double>();
        var uint64s = new List<long>();
        byte[]? raw = null;
        var r = new ProtoReader(data);
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: r.Varints(wire, dims); break;
                case 2: t.DataType = (int)r.Varint(); break;
                case 4: r.Floats(wire, floats); break;
                case 5: r.Varints(wire, int32s); break;
                case 7: r.Varints(wire, ints); break;
                case 8: t.Name = r.String(); break;
                case 9: raw = r.Bytes().ToArray(); break;
                case 10: r.Doubles(wire, doubles); break;
                case 11: r.Varints(wire, uint64s); break;
                default: r.Skip(wire); break;
            }
        }
        t.Dims = dims.Select(d => (int)d).ToArray();
        if (raw is not null)
        {
            t.Raw = raw;
            return t;
        }
        var type = (ElementType)t.DataType;
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        switch (type)
        {
            case ElementType.Float: floats.ForEach(w.Write); break;
            case ElementType.Double: doubles.ForEach(w.Write); break;
            case ElementType.Int64: ints.ForEach(w.Write); break;
            case ElementType.UInt64 or ElementType.UInt32: uint64s.ForEach(v => { if (type == ElementType.UInt64) w.Write(v); else w.Write((uint)v); }); break;
            case ElementType.Int32: int32s.ForEach(v => w.Write((int)v)); break;
            case ElementType.Int16 or ElementType.UInt16 or ElementType.Float16: int32s.ForEach(v => w.Write((ushort)v)); break;
            case ElementType.Int8 or ElementType.UInt8 or ElementType.Bool: int32s.ForEach(v => w.Write((byte)v)); break;
            default: throw new NotSupportedException($"tensor data type {t.DataType}");
        }
        w.Flush();
        t.Raw = ms.ToArray();
        return t;
    }
}

/// <summary>A decoded single-operator ONNX model: its nodes, graph inputs/outputs, initializers and opset.</summary>
internal sealed class ProtoModel
{
    public sealed record Node(string Op, string Domain, List<string> Inputs, List<string> Outputs, List<PlanAttribute> Attributes);

    public List<Node> Nodes = new();
    public List<string> Inputs = new();
    public List<string> Outputs = new();
    public List<ProtoTensor> Initializers = new();
    public int Opset;

    public static ProtoModel Parse(ReadOnlySpan<byte> data)
    {
        var m = new ProtoModel();
        var r = new ProtoReader(data);
        while (r.Next(out int field, out int wire))
        {
            if (field == 7 && wire == 2) m.ParseGraph(r.Bytes());
            else if (field == 8 && wire == 2)
            {
                var o = new ProtoReader(r.Bytes());
                string domain = "";
                long version = 0;
                while (o.Next(out int f, out int w))
                {
                    if (f == 1) domain = o.String();
                    else if (f == 2) version = (long)o.Varint();
                    else o.Skip(w);
                }
                if (domain is "" or "ai.onnx") m.Opset = (int)version;
            }
            else r.Skip(wire);
        }
        return m;
    }

    private void ParseGraph(ReadOnlySpan<byte> data)
    {
        var r = new ProtoReader(data);
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: Nodes.Add(ParseNode(r.Bytes())); break;
                case 5: Initializers.Add(ProtoTensor.Parse(r.Bytes())); break;
                case 11: Inputs.Add(ValueName(r.Bytes())); break;
                case 12: Outputs.Add(ValueName(r.Bytes())); break;
                default: r.Skip(wire); break;
            }
        }
    }

    private static string ValueName(ReadOnlySpan<byte> data)
    {
        var r = new ProtoReader(data);
        while (r.Next(out int field, out int wire))
        {
            if (field == 1) return r.String();
            r.Skip(wire);
        }
        return "";
    }

    private static Node ParseNode(ReadOnlySpan<byte> data)
    {
        var node = new Node("", "", new(), new(), new());
        string op = "", domain = "";
        var r = new ProtoReader(data);
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: node.Inputs.Add(r.String()); break;
                case 2: node.Outputs.Add(r.String()); break;
                case 4: op = r.String(); break;
                case 5: node.Attributes.Add(ParseAttribute(r.Bytes())); break;
                case 7: domain = r.String(); break;
                default: r.Skip(wire); break;
            }
        }
        return node with { Op = op, Domain = domain };
    }

    private static PlanAttribute ParseAttribute(ReadOnlySpan<byte> data)
    {
        string name = "", s = "";
        float f = 0;
        long i = 0;
        int type = 0;
        ProtoTensor? tensor = null;
        var floats = new List<float>();
        var ints = new List<long>();
        var r = new ProtoReader(data);
        while (r.Next(out int field, out int wire))
        {
            switch (field)
            {
                case 1: name = r.String(); break;
                case 2: f = r.Fixed32(); break;
                case 3: i = (long)r.Varint(); break;
                case 4: s = r.String(); break;
                case 5: tensor = ProtoTensor.Parse(r.Bytes()); break;
                case 7: r.Floats(wire, floats); break;
                case 8: r.Varints(wire, ints); break;
                case 20: type = (int)r.Varint(); break;
                default: r.Skip(wire); break;
            }
        }
        return type switch
        {
            1 => PlanAttribute.Float(name, f),
            2 => PlanAttribute.Int(name, i),
            3 => PlanAttribute.String(name, s),
            4 when tensor is not null => TensorAttribute(name, tensor),
            6 => PlanAttribute.Floats(name, [.. floats]),
            7 => PlanAttribute.Ints(name, [.. ints]),
            _ => PlanAttribute.String(name + "?unsupported", ""),
        };
    }

    /// <summary>One-element tensor attributes (ConstantOfShape's value) become Floats/Ints, as the optimizer writes them.</summary>
    private static PlanAttribute TensorAttribute(string name, ProtoTensor t) => (ElementType)t.DataType switch
    {
        ElementType.Float => PlanAttribute.Floats(name, BitConverter.ToSingle(t.Raw)),
        ElementType.Double => PlanAttribute.Floats(name, (float)BitConverter.ToDouble(t.Raw)),
        ElementType.Int64 => PlanAttribute.Ints(name, BitConverter.ToInt64(t.Raw)),
        ElementType.Int32 => PlanAttribute.Ints(name, BitConverter.ToInt32(t.Raw)),
        ElementType.Bool or ElementType.UInt8 => PlanAttribute.Ints(name, t.Raw[0]),
        _ => PlanAttribute.String(name + "?unsupported", ""),
    };
}
