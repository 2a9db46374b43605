using System.Globalization;
using System.Text;

namespace ModelGen.Generator;

/// <summary>
/// C# literals and XML doc text for emitted code. Everything is invariant-culture and
/// deterministic, and no input (quotes, newlines, "*/", '&lt;', non-ASCII) can break out of a
/// literal or a <c>///</c> comment.
/// </summary>
internal static class Literals
{
    /// <summary>
    /// A regular string literal. The spec's quoting is exactly C#'s: every character outside
    /// printable ASCII becomes a \u escape, which also keeps U+2028/U+2029/U+0085 (line ends in
    /// C#) and lone surrogates (invalid in a UTF-8 source file) out of the generated code.
    /// </summary>
    public static string String(string value) => ModelGen.Spec.SpecWriter.Quote(value);

    /// <summary>A float literal that round-trips, with the non-finite values spelled out.</summary>
    public static string Float(float value)
    {
        if (float.IsPositiveInfinity(value)) return "float.PositiveInfinity";
        if (float.IsNegativeInfinity(value)) return "float.NegativeInfinity";
        if (float.IsNaN(value)) return "float.NaN";
        return value.ToString("R", CultureInfo.InvariantCulture) + "f";
    }

    /// <summary>A long literal with the L suffix.</summary>
    public static string Long(long value) => value.ToString(CultureInfo.InvariantCulture) + "L";

    /// <summary>An int literal.</summary>
    public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary><c>new int[] { … }</c>, or an empty array that costs nothing.</summary>
    public static string IntArray(IEnumerable<int> values)
    {
        var items = values.Select(Int).ToList();
        return items.Count == 0 ? "global::System.Array.Empty<int>()" : "new int[] { " + string.Join(", ", items) + " }";
    }

    /// <summary>A shape for docs and messages: <c>[1, 3, 224, 224]</c>.</summary>
    public static string Shape(IEnumerable<int> dims) => "[" + string.Join(", ", dims.Select(Int)) + "]";

    /// <summary>
    /// Text for an XML doc comment, one entry per line: <c>&amp; &lt; &gt;</c> escaped, and split
    /// on every character C# treats as a line end, so that no line can leave the <c>///</c> comment.
    /// Other control characters (invalid in XML) become spaces.
    /// </summary>
    public static IReadOnlyList<string> DocLines(string text)
    {
        var lines = new List<string>();
        var sb = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            char c = text[i];
            switch (c)
            {
                case '\r':
                    if (i + 1 < text.Length && text[i + 1] == '\n') i++;
                    goto case '\n';
                case '\n':
                case '\u0085':
                case '\u2028':
                case '\u2029':
                    lines.Add(sb.ToString().TrimEnd());
                    sb.Clear();
                    break;
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                default:
                    sb.Append(c < 0x20 || c == 0x7f || char.IsSurrogate(c) && !IsPairedSurrogate(text, i) ? ' ' : c);
                    break;
            }
        }
        lines.Add(sb.ToString().TrimEnd());
        return lines;
    }

    /// <summary>Doc text that must stay on one line (names, inside a sentence).</summary>
    public static string DocInline(string text) => string.Join(" ", DocLines(text).Where(l => l.Length > 0));

    private static bool IsPairedSurrogate(string s, int i) =>
        char.IsHighSurrogate(s[i]) ? i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])
                                   : i > 0 && char.IsHighSurrogate(s[i - 1]);
}
