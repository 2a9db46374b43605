using System.Runtime.CompilerServices;
using System.Text;

namespace ModelGen.Tests;

/// <summary>
/// Snapshot testing with Verify's file conventions (Verify itself cannot be restored here).
/// The expected text lives in <c>&lt;test dir&gt;/Snapshots/&lt;TestFile&gt;.&lt;Method&gt;[_suffix].verified.&lt;ext&gt;</c>,
/// where TestFile is the calling source file's name (one test class per file, named like it).
/// On a mismatch or a missing snapshot it writes <c>….received.&lt;ext&gt;</c> beside it and fails
/// with the first difference. With <c>MODELGEN_ACCEPT_SNAPSHOTS=1</c> (never under <c>CI=true</c>)
/// it writes the verified file instead, for developers accepting an intended change.
/// Line endings are normalized to '\n' on both sides.
/// </summary>
public static class Snapshot
{
    /// <summary>Compares <paramref name="actual"/> with its verified snapshot.</summary>
    /// <param name="actual">The text under test.</param>
    /// <param name="extension">File extension of the snapshot, without the dot.</param>
    /// <param name="suffix">Distinguishes several snapshots of one test (e.g. theory cases); empty for none.</param>
    public static void Verify(
        string actual,
        string extension = "cs",
        string suffix = "",
        [CallerFilePath] string file = "",
        [CallerMemberName] string member = "")
    {
        string dir = Path.Combine(Path.GetDirectoryName(file) ?? ".", "Snapshots");
        string name = Path.GetFileNameWithoutExtension(file) + "." + member + (suffix.Length > 0 ? "_" + Sanitize(suffix) : "");
        string verifiedPath = Path.Combine(dir, $"{name}.verified.{extension}");
        string receivedPath = Path.Combine(dir, $"{name}.received.{extension}");
        string normalized = Normalize(actual);

        string? expected = File.Exists(verifiedPath) ? Normalize(File.ReadAllText(verifiedPath)) : null;
        if (expected == normalized)
        {
            if (File.Exists(receivedPath)) File.Delete(receivedPath);
            return;
        }

        Directory.CreateDirectory(dir);
        bool ci = string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);
        bool accept = Environment.GetEnvironmentVariable("MODELGEN_ACCEPT_SNAPSHOTS") == "1";
        if (accept && !ci)
        {
            File.WriteAllText(verifiedPath, normalized, new UTF8Encoding(false));
            if (File.Exists(receivedPath)) File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, normalized, new UTF8Encoding(false));
        string how = $"Compare {receivedPath} with {verifiedPath}; if the change is intended, rename the received file " +
                     "or run the tests with MODELGEN_ACCEPT_SNAPSHOTS=1 (not under CI).";
        if (expected is null)
        {
            Assert.Fail($"Snapshot {name} has no verified file yet. {how}");
        }
        Assert.Fail($"Snapshot {name} differs: {Describe(expected!, normalized)}. {how}");
    }

    /// <summary>A one-paragraph summary of where two texts first differ.</summary>
    internal static string Describe(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        int n = Math.Min(e.Length, a.Length);
        for (int i = 0; i < n; i++)
        {
            if (e[i] != a[i])
            {
                return $"first difference at line {i + 1}: expected \"{Clip(e[i])}\" but got \"{Clip(a[i])}\" " +
                       $"({e.Length} lines expected, {a.Length} received)";
            }
        }
        return $"the texts agree for {n} lines, but {e.Length} lines were expected and {a.Length} received";
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n").Replace('\r', '\n');

    private static string Clip(string line) => line.Length <= 200 ? line : line.Substring(0, 200) + "…";

    private static string Sanitize(string suffix)
    {
        var sb = new StringBuilder(suffix.Length);
        foreach (char c in suffix) sb.Append(char.IsLetterOrDigit(c) || c == '-' || c == '_' ? c : '_');
        return sb.ToString();
    }
}
