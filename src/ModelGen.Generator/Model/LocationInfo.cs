using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Text;

namespace ModelGen.Generator.Model;

/// <summary>
/// A position in an additional file, as plain values: pipeline models must not hold a
/// <see cref="Location"/> (it pins the old text and compares by reference, defeating caching).
/// </summary>
internal sealed record LocationInfo(string Path, int Start, int Length, int StartLine, int StartColumn, int EndLine, int EndColumn)
{
    /// <summary>The whole of line <paramref name="line"/> (1-based) from <paramref name="column"/> (1-based) to its end.</summary>
    public static LocationInfo AtLine(string path, SourceText? text, int line, int column)
    {
        if (text is null || text.Lines.Count == 0) return new LocationInfo(path, 0, 0, 0, 0, 0, 0);
        int lineIndex = Math.Max(0, Math.Min(line - 1, text.Lines.Count - 1));
        var textLine = text.Lines[lineIndex];
        int col = Math.Max(0, Math.Min(column - 1, textLine.Span.Length));
        int start = textLine.Start + col;
        return new LocationInfo(path, start, textLine.End - start, lineIndex, col, lineIndex, textLine.End - textLine.Start);
    }

    /// <summary>Turns the values back into a <see cref="Location"/> when the diagnostic is reported.</summary>
    public Location ToLocation() => Location.Create(
        Path,
        new TextSpan(Start, Length),
        new LinePositionSpan(new LinePosition(StartLine, StartColumn), new LinePosition(EndLine, EndColumn)));
}
