using System.Text;

namespace ModelGen.Cli;

/// <summary>Class names derived from file names, as the MSBuild item's ClassName default does.</summary>
public static class ClassNames
{
    /// <summary><c>digits.onnx</c> -> <c>Digits</c>, <c>my-model.v2.onnx</c> -> <c>MyModelV2</c>.</summary>
    public static string FromFileName(string path)
    {
        var sb = new StringBuilder();
        bool upper = true;
        foreach (char c in Path.GetFileNameWithoutExtension(path))
        {
            if (!char.IsLetterOrDigit(c) || c > 0x7f)
            {
                upper = true;
                continue;
            }
            sb.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        if (sb.Length == 0 || char.IsDigit(sb[0])) sb.Insert(0, "Model");
        return sb.ToString();
    }

    public static bool IsValidIdentifier(string name) =>
        name.Length > 0 && (char.IsLetter(name[0]) || name[0] == '_') && name.All(c => char.IsLetterOrDigit(c) || c == '_');
}
