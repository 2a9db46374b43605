using System;
using System.Globalization;
using System.Text.RegularExpressions;

namespace ModelGen.Build
{
    /// <summary>
    /// Recognises MSBuild canonical diagnostics in the optimizer's output:
    /// <c>file(line,col): error MG1002: message</c>, <c>file: warning MG1012: message</c> or
    /// <c>error MG1010: message</c>. Windows (<c>C:\m.onnx</c>) and Unix paths both work.
    /// </summary>
    public static class ToolOutputParser
    {
        // The origin is lazy so that it stops at the first ": error"/": warning" it can; a
        // drive letter colon ("C:\") is skipped because "\x.onnx" is not followed by a keyword.
        // The location accepts (line), (line,col) and (line,col,endLine,endCol), as MSBuild does.
        private static readonly Regex Canonical = new Regex(
            @"^\s*(?:(?<origin>[^\s].*?)\s*(?:\((?<loc>\d+(?:\s*,\s*\d+){0,3})\))?\s*:\s*)?" +
            @"(?:(?<sub>[^:]*?)\s+)?(?<kind>error|warning)\s+(?<code>[A-Za-z]+[0-9]+)\s*:\s*" +
            @"(?<msg>.*?)\s*$",
            RegexOptions.IgnoreCase | RegexOptions.CultureInvariant,
            // A pathological line must never hang the build: after 1 s it is a plain message.
            TimeSpan.FromSeconds(1));

        /// <summary>
        /// Parses one output line. Returns <c>null</c> for a line that is not a diagnostic (it
        /// is then logged as a plain message), or when matching took longer than one second.
        /// </summary>
        public static ToolDiagnostic? Parse(string? line)
        {
            if (line is null || line.Length == 0)
            {
                return null;
            }

            Match match;
            try
            {
                match = Canonical.Match(line);
            }
            catch (RegexMatchTimeoutException)
            {
                return null;
            }

            if (!match.Success)
            {
                return null;
            }

            var kind = string.Equals(match.Groups["kind"].Value, "error", StringComparison.OrdinalIgnoreCase)
                ? ToolDiagnosticKind.Error
                : ToolDiagnosticKind.Warning;
            var location = new int[4];
            var loc = match.Groups["loc"];
            if (loc.Success)
            {
                var parts = loc.Value.Split(',');
                for (var i = 0; i < parts.Length; i++)
                {
                    // Digits only (the regex says so); an absurd number just becomes 0.
                    int.TryParse(parts[i].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out location[i]);
                }
            }

            return new ToolDiagnostic(
                kind,
                match.Groups["sub"].Value.Trim(),
                match.Groups["code"].Value,
                match.Groups["origin"].Value.Trim(),
                location[0],
                location[1],
                location[2],
                location[3],
                match.Groups["msg"].Value);
        }

        /// <summary>
        /// True for the lines of a .NET stack trace or an unhandled-exception banner. They are
        /// kept out of normal-verbosity build output: the user sees a clear MG1099 instead.
        /// </summary>
        public static bool IsCrashLine(string? line)
        {
            if (line is null)
            {
                return false;
            }

            var trimmed = line.TrimStart();
            return trimmed.StartsWith("at ", StringComparison.Ordinal) && line.Length > trimmed.Length
                || trimmed.StartsWith("Unhandled exception.", StringComparison.Ordinal)
                || trimmed.StartsWith("--- End of", StringComparison.Ordinal)
                || trimmed.StartsWith("---> ", StringComparison.Ordinal);
        }
    }
}
