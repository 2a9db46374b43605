using System.Globalization;
using System.Text;

namespace ModelGen.Spec;

/// <summary>
/// Parses <c>.mgspec</c> text (see <see cref="SpecWriter"/> for the format) and checks that it
/// is consistent: every slot referenced exists, types are known, offsets and dims are sane.
/// Any problem throws <see cref="SpecFormatException"/> with the line and column.
/// </summary>
internal static class SpecReader
{
    /// <summary>Element type names the spec may use (ONNX names).</summary>
    public static readonly string[] ElementTypes =
    {
        "float", "float16", "double", "int8", "uint8", "int16", "uint16",
        "int32", "uint32", "int64", "uint64", "bool",
    };

    public static ModelSpec Read(string text)
    {
        var lines = text.Replace("\r\n", "\n").Split('\n');
        if (lines.Length == 0 || lines[0].Trim() != SpecWriter.Header)
        {
            throw new SpecFormatException(1, 1, $"expected the header '{SpecWriter.Header}'");
        }

        Dictionary<string, Token>? model = null;
        string doc = "";
        var slots = new List<SlotSpec>();
        var inputs = new List<TensorRefSpec>();
        var outputs = new List<TensorRefSpec>();
        var steps = new List<StepSpec>();

        for (int i = 1; i < lines.Length; i++)
        {
            int lineNo = i + 1;
            string line = lines[i];
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith("#", StringComparison.Ordinal)) continue;
            var cursor = new Cursor(line, lineNo);
            string keyword = cursor.ReadWord();
            switch (keyword)
            {
                case "model":
                    if (model is not null) throw cursor.Error("a second 'model' line");
                    model = cursor.ReadPairs();
                    break;
                case "doc":
                    doc = cursor.ReadString();
                    cursor.ExpectEnd();
                    break;
                case "slot":
                    slots.Add(ReadSlot(cursor, slots.Count));
                    break;
                case "input":
                case "output":
                    var pairs = cursor.ReadPairs();
                    var r = new TensorRefSpec(
                        Str(pairs, "name", cursor), (int)Int(pairs, "slot", cursor), Str(pairs, "doc", cursor, ""));
                    (keyword == "input" ? inputs : outputs).Add(r);
                    break;
                case "step":
                    steps.Add(ReadStep(cursor));
                    break;
                default:
                    throw new SpecFormatException(lineNo, 1, $"unknown line kind '{keyword}'");
            }
        }

        if (model is null) throw new SpecFormatException(lines.Length, 1, "the 'model' line is missing");
        var m = new Cursor("", 0);
        var spec = new ModelSpec(
            Str(model, "name", m),
            Str(model, "source", m, ""),
            Str(model, "source-sha256", m, ""),
            Str(model, "weights-sha256", m, ""),
            Int(model, "weights-bytes", m),
            Int(model, "arena-bytes", m),
            Int(model, "ir-version", m, 0),
            Int(model, "opset", m, 0),
            Str(model, "producer", m, ""),
            Str(model, "producer-version", m, ""),
            doc,
            slots.ToEquatableArray(),
            inputs.ToEquatableArray(),
            outputs.ToEquatableArray(),
            steps.ToEquatableArray())
        {
            Engine = Str(model, "engine", m, ModelSpec.CompiledEngine),
            MaxBatch = (int)Int(model, "max-batch", m, 0),
        };
        Validate(spec, lines);
        return spec;
    }

    private static SlotSpec ReadSlot(Cursor cursor, int expectedId)
    {
        var pairs = cursor.ReadPairs();
        int id = (int)Int(pairs, "id", cursor);
        if (id != expectedId) throw cursor.Error($"slot ids must count up from 0: expected {expectedId}, got {id}");
        string type = Str(pairs, "type", cursor);
        if (Array.IndexOf(ElementTypes, type) < 0) throw cursor.Error($"unknown element type '{type}'");
        var shape = IntList(pairs, "shape", cursor);
        foreach (var d in shape)
        {
            if (d <= 0 || d > int.MaxValue) throw cursor.Error($"slot {id}: dimension {d} must be a positive int");
        }
        bool arena = pairs.ContainsKey("arena");
        bool weights = pairs.ContainsKey("weights");
        if (arena == weights) throw cursor.Error($"slot {id}: give exactly one of 'arena=' or 'weights='");
        long offset = Int(pairs, arena ? "arena" : "weights", cursor);
        if (offset < 0) throw cursor.Error($"slot {id}: negative offset {offset}");
        long batchAxis = Int(pairs, "batch-axis", cursor, -1);
        if (batchAxis < -1 || batchAxis >= shape.Length) throw cursor.Error($"slot {id}: batch axis {batchAxis} is not an axis of its rank-{shape.Length} shape");
        if (batchAxis >= 0 && !arena) throw cursor.Error($"slot {id}: a weights slot cannot have a batch axis");
        return new SlotSpec(
            id, Str(pairs, "name", cursor, ""), type, shape.Select(d => (int)d).ToEquatableArray(),
            arena ? SlotStorage.Arena : SlotStorage.Weights, offset)
        { BatchAxis = (int)batchAxis };
    }

    private static StepSpec ReadStep(Cursor cursor)
    {
        var pairs = cursor.ReadPairs();
        var attrs = new List<AttributeSpec>();
        foreach (var kv in pairs.Where(p => p.Key.StartsWith("@", StringComparison.Ordinal)).OrderBy(p => p.Value.Column))
        {
            attrs.Add(ParseAttribute(kv.Key.Substring(1), kv.Value, cursor));
        }
        return new StepSpec(
            Str(pairs, "op", cursor),
            Str(pairs, "name", cursor, ""),
            IntList(pairs, "in", cursor).Select(i => (int)i).ToEquatableArray(),
            IntList(pairs, "out", cursor).Select(i => (int)i).ToEquatableArray(),
            attrs.ToEquatableArray());
    }

    private static AttributeSpec ParseAttribute(string name, Token token, Cursor cursor)
    {
        string v = token.Text;
        int colon = v.IndexOf(':');
        if (colon < 0) throw cursor.ErrorAt(token, $"attribute '{name}' needs a kind prefix (int:, float:, string:, ints:, floats:)");
        string kind = v.Substring(0, colon);
        string body = v.Substring(colon + 1);
        try
        {
            switch (kind)
            {
                case "int": return AttributeSpec.OfInt(name, ParseLong(body));
                case "float": return AttributeSpec.OfFloat(name, ParseFloat(body));
                case "string":
                    var c = new Cursor(body, cursor.LineNumber);
                    return AttributeSpec.OfString(name, c.ReadString());
                case "ints": return AttributeSpec.OfInts(name, SplitList(body).Select(ParseLong));
                case "floats": return AttributeSpec.OfFloats(name, SplitList(body).Select(ParseFloat));
                default: throw cursor.ErrorAt(token, $"attribute '{name}' has unknown kind '{kind}'");
            }
        }
        catch (FormatException e)
        {
            throw cursor.ErrorAt(token, $"attribute '{name}': {e.Message}");
        }
        catch (OverflowException e)
        {
            throw cursor.ErrorAt(token, $"attribute '{name}': {e.Message}");
        }
    }

    private static void Validate(ModelSpec spec, string[] lines)
    {
        int Line(string keyword, int nth)
        {
            int seen = 0;
            for (int i = 0; i < lines.Length; i++)
            {
                if (lines[i].StartsWith(keyword + " ", StringComparison.Ordinal) && seen++ == nth) return i + 1;
            }
            return 1;
        }

        void CheckSlot(int id, string where, int line)
        {
            if (id < 0 || id >= spec.Slots.Count)
            {
                throw new SpecFormatException(line, 1, $"{where} refers to slot {id}, but there are {spec.Slots.Count} slots");
            }
        }

        if (spec.Name.Length == 0) throw new SpecFormatException(Line("model", 0), 1, "the model name is empty");
        if (spec.Outputs.Count == 0) throw new SpecFormatException(lines.Length, 1, "the spec has no 'output' line");
        if (spec.Engine is not (ModelSpec.CompiledEngine or ModelSpec.OnnxRuntimeEngine))
        {
            throw new SpecFormatException(Line("model", 0), 1, $"unknown engine '{spec.Engine}' (expected {ModelSpec.CompiledEngine} or {ModelSpec.OnnxRuntimeEngine})");
        }
        if (spec.MaxBatch < 0) throw new SpecFormatException(Line("model", 0), 1, $"max-batch {spec.MaxBatch} is negative");
        if (spec.Engine == ModelSpec.OnnxRuntimeEngine && spec.Steps.Count > 0)
        {
            throw new SpecFormatException(Line("step", 0), 1, "a model run by ONNX Runtime has no plan steps");
        }
        for (int i = 0; i < spec.Inputs.Count; i++)
        {
            CheckSlot(spec.Inputs[i].Slot, $"input '{spec.Inputs[i].Name}'", Line("input", i));
            if (spec.Slots[spec.Inputs[i].Slot].Storage != SlotStorage.Arena)
                throw new SpecFormatException(Line("input", i), 1, $"input '{spec.Inputs[i].Name}' must live in the arena");
        }
        for (int i = 0; i < spec.Outputs.Count; i++)
        {
            CheckSlot(spec.Outputs[i].Slot, $"output '{spec.Outputs[i].Name}'", Line("output", i));
        }
        for (int i = 0; i < spec.Slots.Count; i++)
        {
            var s = spec.Slots[i];
            long end = s.Offset + ByteLength(s);
            long limit = s.Storage == SlotStorage.Arena ? spec.ArenaBytes : spec.WeightsBytes;
            if (end > limit)
            {
                throw new SpecFormatException(Line("slot", i), 1,
                    $"slot {i} ends at byte {end}, past the {(s.Storage == SlotStorage.Arena ? "arena" : "weights")} size {limit}");
            }
        }
        for (int i = 0; i < spec.Steps.Count; i++)
        {
            foreach (var id in spec.Steps[i].Inputs)
            {
                if (id != -1) CheckSlot(id, $"step '{spec.Steps[i].Op}' input", Line("step", i));
            }
            foreach (var id in spec.Steps[i].Outputs)
            {
                CheckSlot(id, $"step '{spec.Steps[i].Op}' output", Line("step", i));
            }
        }
    }

    /// <summary>Size in bytes of one element of a spec element type.</summary>
    public static int ElementSize(string type) => type switch
    {
        "double" or "int64" or "uint64" => 8,
        "float" or "int32" or "uint32" => 4,
        "float16" or "int16" or "uint16" => 2,
        _ => 1,
    };

    public static long ElementCount(SlotSpec slot)
    {
        long n = 1;
        foreach (var d in slot.Shape) n *= d;
        return n;
    }

    public static long ByteLength(SlotSpec slot) => ElementCount(slot) * ElementSize(slot.ElementType);

    private static string Str(Dictionary<string, Token> pairs, string key, Cursor cursor, string? fallback = null)
    {
        if (pairs.TryGetValue(key, out var t))
        {
            if (!t.Quoted && t.Text.Length > 0 && t.Text[0] == '"') throw cursor.ErrorAt(t, $"bad string for '{key}'");
            return t.Text;
        }
        return fallback ?? throw cursor.Error($"missing '{key}='");
    }

    private static long Int(Dictionary<string, Token> pairs, string key, Cursor cursor, long? fallback = null)
    {
        if (pairs.TryGetValue(key, out var t))
        {
            try { return ParseLong(t.Text); }
            catch (Exception e) when (e is FormatException or OverflowException)
            {
                throw cursor.ErrorAt(t, $"'{key}' must be an integer, not '{t.Text}'");
            }
        }
        return fallback ?? throw cursor.Error($"missing '{key}='");
    }

    private static long[] IntList(Dictionary<string, Token> pairs, string key, Cursor cursor)
    {
        if (!pairs.TryGetValue(key, out var t)) throw cursor.Error($"missing '{key}='");
        try { return SplitList(t.Text).Select(ParseLong).ToArray(); }
        catch (Exception e) when (e is FormatException or OverflowException)
        {
            throw cursor.ErrorAt(t, $"'{key}' must be a list of integers like [1,2], not '{t.Text}'");
        }
    }

    private static IEnumerable<string> SplitList(string text)
    {
        if (text.Length < 2 || text[0] != '[' || text[text.Length - 1] != ']')
        {
            throw new FormatException($"expected a bracketed list, got '{text}'");
        }
        string inner = text.Substring(1, text.Length - 2);
        return inner.Length == 0 ? Array.Empty<string>() : inner.Split(',');
    }

    private static long ParseLong(string s) => long.Parse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);

    private static float ParseFloat(string s) => s switch
    {
        "inf" => float.PositiveInfinity,
        "-inf" => float.NegativeInfinity,
        "nan" => float.NaN,
        _ => float.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private readonly struct Token
    {
        public Token(string text, int column, bool quoted)
        {
            Text = text;
            Column = column;
            Quoted = quoted;
        }

        public string Text { get; }
        public int Column { get; }
        public bool Quoted { get; }
    }

    /// <summary>Reads words, key=value pairs and quoted strings off one line.</summary>
    private sealed class Cursor
    {
        private readonly string _line;
        private int _pos;

        public Cursor(string line, int lineNumber)
        {
            _line = line;
            LineNumber = lineNumber;
        }

        public int LineNumber { get; }

        public SpecFormatException Error(string message) => new(LineNumber, _pos + 1, message);

        public SpecFormatException ErrorAt(Token token, string message) => new(LineNumber, token.Column, message);

        private void SkipSpaces()
        {
            while (_pos < _line.Length && (_line[_pos] == ' ' || _line[_pos] == '\t')) _pos++;
        }

        public string ReadWord()
        {
            SkipSpaces();
            int start = _pos;
            while (_pos < _line.Length && _line[_pos] != ' ' && _line[_pos] != '\t' && _line[_pos] != '=') _pos++;
            if (_pos == start) throw Error("expected a word");
            return _line.Substring(start, _pos - start);
        }

        public void ExpectEnd()
        {
            SkipSpaces();
            if (_pos < _line.Length) throw Error($"unexpected text '{_line.Substring(_pos)}'");
        }

        public Dictionary<string, Token> ReadPairs()
        {
            var pairs = new Dictionary<string, Token>(StringComparer.Ordinal);
            while (true)
            {
                SkipSpaces();
                if (_pos >= _line.Length) return pairs;
                int keyColumn = _pos + 1;
                string key = ReadWord();
                if (_pos >= _line.Length || _line[_pos] != '=') throw Error($"expected '=' after '{key}'");
                _pos++;
                int column = _pos + 1;
                Token value;
                if (_pos < _line.Length && _line[_pos] == '"')
                {
                    value = new Token(ReadString(), column, true);
                }
                else
                {
                    int start = _pos;
                    // A value runs to the next space, except inside a quoted string (string:"a b").
                    bool inQuotes = false;
                    while (_pos < _line.Length && (inQuotes || (_line[_pos] != ' ' && _line[_pos] != '\t')))
                    {
                        if (_line[_pos] == '\\' && inQuotes) _pos++;
                        else if (_line[_pos] == '"') inQuotes = !inQuotes;
                        _pos++;
                    }
                    if (inQuotes) throw new SpecFormatException(LineNumber, column, "unterminated string");
                    value = new Token(_line.Substring(start, Math.Min(_pos, _line.Length) - start), column, false);
                }
                if (pairs.ContainsKey(key)) throw new SpecFormatException(LineNumber, keyColumn, $"'{key}' is given twice");
                pairs.Add(key, value);
            }
        }

        public string ReadString()
        {
            SkipSpaces();
            if (_pos >= _line.Length || _line[_pos] != '"') throw Error("expected a quoted string");
            _pos++;
            var sb = new StringBuilder();
            while (true)
            {
                if (_pos >= _line.Length) throw Error("unterminated string");
                char c = _line[_pos++];
                if (c == '"') return sb.ToString();
                if (c != '\\')
                {
                    sb.Append(c);
                    continue;
                }
                if (_pos >= _line.Length) throw Error("unterminated escape");
                char e = _line[_pos++];
                switch (e)
                {
                    case '"': sb.Append('"'); break;
                    case '\\': sb.Append('\\'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (_pos + 4 > _line.Length ||
                            !int.TryParse(_line.Substring(_pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out int code))
                        {
                            throw Error("bad \\u escape");
                        }
                        sb.Append((char)code);
                        _pos += 4;
                        break;
                    default: throw Error($"unknown escape '\\{e}'");
                }
            }
        }
    }
}
