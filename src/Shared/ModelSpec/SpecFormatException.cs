namespace ModelGen.Spec;

/// <summary>A malformed <c>.mgspec</c>: the message says what is wrong, at which line and column.</summary>
internal sealed class SpecFormatException : Exception
{
    public SpecFormatException(int line, int column, string message)
        : base($"line {line}, column {column}: {message}")
    {
        Line = line;
        Column = column;
        Reason = message;
    }

    /// <summary>1-based line.</summary>
    public int Line { get; }

    /// <summary>1-based column.</summary>
    public int Column { get; }

    /// <summary>The message without the position.</summary>
    public string Reason { get; }
}
