using System.Text;
using Microsoft.CodeAnalysis.CSharp;

namespace ModelGen.Generator;

/// <summary>
/// Turns ONNX tensor names (anything: "input.1", "gpu_0/data_0", "0") into C# identifiers, and
/// checks user-given class and namespace names.
/// </summary>
internal static class Identifiers
{
    /// <summary>True for a C# identifier that needs no '@' (not a reserved keyword).</summary>
    public static bool IsPlainIdentifier(string name) =>
        SyntaxFacts.IsValidIdentifier(name) && SyntaxFacts.GetKeywordKind(name) == SyntaxKind.None;

    /// <summary>camelCase: words split on anything not a letter or digit, e.g. <c>Plus214_Output_0</c> -> <c>plus214Output0</c>.</summary>
    public static string ToCamelCase(string name) => Join(name, pascal: false);

    /// <summary>PascalCase, as <see cref="ToCamelCase"/> but with the first letter upper-case.</summary>
    public static string ToPascalCase(string name) => Join(name, pascal: true);

    /// <summary>Prefixes '@' to a reserved keyword so that it can be a parameter name.</summary>
    public static string EscapeKeyword(string identifier) =>
        SyntaxFacts.GetKeywordKind(identifier) == SyntaxKind.None ? identifier : "@" + identifier;

    /// <summary>
    /// <paramref name="candidate"/>, or it with the first free suffix 2, 3, … so that it is not in
    /// <paramref name="taken"/> and <paramref name="isAllowed"/> accepts it; the result is added to <paramref name="taken"/>.
    /// </summary>
    public static string MakeUnique(string candidate, HashSet<string> taken, Func<string, bool>? isAllowed = null)
    {
        string name = candidate;
        for (int n = 2; taken.Contains(name) || (isAllowed is not null && !isAllowed(name)); n++)
        {
            name = candidate + n.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        taken.Add(name);
        return name;
    }

    private static string Join(string name, bool pascal)
    {
        var sb = new StringBuilder(name.Length + 1);
        int start = -1;
        for (int i = 0; i <= name.Length; i++)
        {
            bool wordChar = i < name.Length && char.IsLetterOrDigit(name[i]);
            if (wordChar && start < 0) start = i;
            if (!wordChar && start >= 0)
            {
                AppendWord(sb, name.Substring(start, i - start), upperFirst: pascal || sb.Length > 0);
                start = -1;
            }
        }
        if (sb.Length == 0) sb.Append(pascal ? "Tensor" : "tensor");
        // An identifier cannot start with a digit: "0" becomes "t0" (or "T0").
        if (char.IsDigit(sb[0])) sb.Insert(0, pascal ? 'T' : 't');
        return sb.ToString();
    }

    private static void AppendWord(StringBuilder sb, string word, bool upperFirst)
    {
        sb.Append(upperFirst ? char.ToUpperInvariant(word[0]) : char.ToLowerInvariant(word[0]));
        sb.Append(word, 1, word.Length - 1);
    }
}
