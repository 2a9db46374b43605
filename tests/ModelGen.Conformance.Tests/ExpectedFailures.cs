namespace ModelGen.Conformance.Tests;

/// <summary>
/// The committed list of conformance cases ModelGen does not support yet
/// (<c>expected-failures.txt</c>: one <c>&lt;case&gt; &lt;reason&gt;</c> per line, <c>#</c> starts a comment).
/// </summary>
internal static class ExpectedFailures
{
    private static readonly Lazy<IReadOnlyDictionary<string, string>> Entries = new(Load);

    public static IReadOnlyDictionary<string, string> All => Entries.Value;

    private static IReadOnlyDictionary<string, string> Load()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "expected-failures.txt");
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        int lineNumber = 0;
        foreach (var raw in File.ReadLines(path))
        {
            lineNumber++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            int space = line.IndexOf(' ');
            if (space < 0) throw new InvalidOperationException($"{path}:{lineNumber}: '{line}' has no reason; write '<case> <reason>'");
            string name = line[..space];
            if (!entries.TryAdd(name, line[(space + 1)..].Trim()))
            {
                throw new InvalidOperationException($"{path}:{lineNumber}: case '{name}' is listed twice");
            }
        }
        return entries;
    }
}
