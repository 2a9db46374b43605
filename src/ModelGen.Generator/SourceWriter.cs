using System.Text;

namespace ModelGen.Generator;

/// <summary>A minimal indented text writer for emitted source ('\n' line ends, four-space indents).</summary>
internal sealed class SourceWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public SourceWriter Line(string text = "")
    {
        if (text.Length > 0) _sb.Append(' ', _indent * 4).Append(text);
        _sb.Append('\n');
        return this;
    }

    /// <summary>Writes <c>{</c> and indents.</summary>
    public SourceWriter Open(string brace = "{")
    {
        Line(brace);
        _indent++;
        return this;
    }

    /// <summary>Unindents and writes <c>}</c> (or <paramref name="brace"/>, e.g. "},").</summary>
    public SourceWriter Close(string brace = "}")
    {
        _indent--;
        return Line(brace);
    }

    /// <summary>Indents the following lines one more level.</summary>
    public SourceWriter Indent()
    {
        _indent++;
        return this;
    }

    /// <summary>Undoes <see cref="Indent"/>.</summary>
    public SourceWriter Unindent()
    {
        _indent--;
        return this;
    }

    /// <summary>Writes <paramref name="text"/> (one line, already XML-escaped) as a doc comment line.</summary>
    public SourceWriter Doc(string text) => Line(text.Length == 0 ? "///" : "/// " + text);

    public override string ToString() => _sb.ToString();
}
