using System.Globalization;
using System.Text;

namespace ModelGen.Spec;

/// <summary>
/// Writes a <see cref="ModelSpec"/> as <c>.mgspec</c> text. The format is line based so that the
/// generator can read it with a small parser and diffs stay readable:
/// <code>
/// modelgen-spec 1
/// model name="Net" source="x.onnx" source-sha256="…" weights-sha256="…" weights-bytes=N arena-bytes=N ir-version=N opset=N producer="…" producer-version="…" [engine=onnxruntime] [max-batch=N]
/// doc "…"
/// slot id=0 name="x" type=float shape=[1,3] arena=0 batch-axis=0
/// input name="x" slot=0 doc=""
/// output name="y" slot=2 doc=""
/// step op=Gemm name="fc" in=[0,1,-1] out=[2] @transB=int:1 @alpha=float:1
/// </code>
/// Output is byte-for-byte deterministic: invariant culture, round-trip floats, '\n' line ends.
/// </summary>
internal static class SpecWriter
{
    public const string Header = "modelgen-spec 1";

    public static string Write(ModelSpec spec)
    {
        var sb = new StringBuilder();
        sb.Append(Header).Append('\n');
        sb.Append("model")
            .Append(" name=").Append(Quote(spec.Name))
            .Append(" source=").Append(Quote(spec.Source))
            .Append(" source-sha256=").Append(Quote(spec.SourceSha256))
            .Append(" weights-sha256=").Append(Quote(spec.WeightsSha256))
            .Append(" weights-bytes=").Append(Int(spec.WeightsBytes))
            .Append(" arena-bytes=").Append(Int(spec.ArenaBytes))
            .Append(" ir-version=").Append(Int(spec.IrVersion))
            .Append(" opset=").Append(Int(spec.Opset))
            .Append(" producer=").Append(Quote(spec.Producer))
            .Append(" producer-version=").Append(Quote(spec.ProducerVersion));
        // Optional fields are written only when set, so specs without them stay as they were.
        if (spec.Engine != ModelSpec.CompiledEngine) sb.Append(" engine=").Append(spec.Engine);
        if (spec.MaxBatch > 0) sb.Append(" max-batch=").Append(Int(spec.MaxBatch));
        sb.Append('\n');
        sb.Append("doc ").Append(Quote(spec.Doc)).Append('\n');
        foreach (var slot in spec.Slots)
        {
            sb.Append("slot id=").Append(slot.Id)
                .Append(" name=").Append(Quote(slot.Name))
                .Append(" type=").Append(slot.ElementType)
                .Append(" shape=").Append(List(slot.Shape.Select(d => (long)d)))
                .Append(slot.Storage == SlotStorage.Arena ? " arena=" : " weights=")
                .Append(Int(slot.Offset));
            if (slot.BatchAxis >= 0) sb.Append(" batch-axis=").Append(Int(slot.BatchAxis));
            sb.Append('\n');
        }
        foreach (var input in spec.Inputs) WriteRef(sb, "input", input);
        foreach (var output in spec.Outputs) WriteRef(sb, "output", output);
        foreach (var step in spec.Steps)
        {
            sb.Append("step op=").Append(step.Op)
                .Append(" name=").Append(Quote(step.Name))
                .Append(" in=").Append(List(step.Inputs.Select(i => (long)i)))
                .Append(" out=").Append(List(step.Outputs.Select(i => (long)i)));
            foreach (var attr in step.Attributes)
            {
                sb.Append(" @").Append(attr.Name).Append('=');
                switch (attr.Kind)
                {
                    case SpecAttributeKind.Int: sb.Append("int:").Append(Int(attr.Int)); break;
                    case SpecAttributeKind.Float: sb.Append("float:").Append(Float(attr.Float)); break;
                    case SpecAttributeKind.String: sb.Append("string:").Append(Quote(attr.String)); break;
                    case SpecAttributeKind.Ints: sb.Append("ints:").Append(List(attr.Ints)); break;
                    case SpecAttributeKind.Floats:
                        sb.Append("floats:[").Append(string.Join(",", attr.Floats.Select(Float))).Append(']');
                        break;
                }
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    private static void WriteRef(StringBuilder sb, string keyword, TensorRefSpec r) =>
        sb.Append(keyword)
            .Append(" name=").Append(Quote(r.Name))
            .Append(" slot=").Append(r.Slot)
            .Append(" doc=").Append(Quote(r.Doc))
            .Append('\n');

    private static string Int(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Round-trip float text; non-finite values get fixed spellings the reader knows.</summary>
    public static string Float(float value)
    {
        if (float.IsPositiveInfinity(value)) return "inf";
        if (float.IsNegativeInfinity(value)) return "-inf";
        if (float.IsNaN(value)) return "nan";
        return value.ToString("R", CultureInfo.InvariantCulture);
    }

    private static string List(IEnumerable<long> values) =>
        "[" + string.Join(",", values.Select(Int)) + "]";

    /// <summary>A double-quoted string with C-style escapes; every control character is escaped.</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('"');
        foreach (char c in value)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20 || c == 0x7f || char.IsSurrogate(c) || c > 0x7e)
                    {
                        sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
