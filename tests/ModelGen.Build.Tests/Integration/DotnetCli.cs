using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace ModelGen.Build.Tests.Integration;

/// <summary>The exit code and the interleaved stdout/stderr of one dotnet command.</summary>
internal sealed record CliResult(string Command, int ExitCode, string Output)
{
    private static readonly Regex ErrorLine = new(@"error (?<code>MG\d{4})\s*:", RegexOptions.CultureInvariant);

    /// <summary>The MG codes of all "error MGxxxx:" lines, each once.</summary>
    public IReadOnlyList<string> ErrorCodes =>
        ErrorLine.Matches(Output).Select(m => m.Groups["code"].Value).Distinct().ToList();

    /// <summary>The lines that mention <paramref name="code"/> as an error.</summary>
    public IReadOnlyList<string> ErrorLines(string code) =>
        Output.Split('\n').Where(l => l.Contains($"error {code}", StringComparison.Ordinal)).ToList();

    /// <summary>True when the output contains a .NET stack trace or an unhandled-exception banner.</summary>
    public bool HasStackTrace =>
        Output.Contains("Unhandled exception", StringComparison.Ordinal)
        || Regex.IsMatch(Output, @"^\s+at [\w.`<>]+\(.*\)", RegexOptions.Multiline);

    /// <summary>The command, exit code and the output's tail (enough to see what failed).</summary>
    public override string ToString() =>
        $"$ {Command}\n(exit {ExitCode})\n{(Output.Length > 6000 ? "…" + Output[^6000..] : Output)}";
}

/// <summary>
/// Runs the dotnet CLI the way a developer would, isolated from the test host: no MSBuild node
/// reuse or build server (they would keep the task dll loaded), no telemetry, no MSBuild
/// variables inherited from the test runner, and an optional private NuGet package folder.
/// </summary>
internal static class DotnetCli
{
    public static CliResult Run(string workingDirectory, IReadOnlyDictionary<string, string>? environment,
        TimeSpan timeout, params string[] arguments)
    {
        var info = new ProcessStartInfo(DotnetPath())
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        foreach (var key in info.Environment.Keys.ToList())
        {
            if (key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || key == "DOTNET_HOST_PATH"
                || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase))
            {
                info.Environment.Remove(key);
            }
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        info.Environment["DOTNET_CLI_UI_LANGUAGE"] = "en";
        if (environment is not null)
        {
            foreach (var (key, value) in environment) info.Environment[key] = value;
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var command = "dotnet " + string.Join(" ", arguments);
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return new CliResult(command, -1, $"TIMED OUT after {timeout}\n{output}");
        }

        process.WaitForExit(); // flushes the asynchronous readers
        lock (output) return new CliResult(command, process.ExitCode, output.ToString());
    }

    /// <summary>The dotnet host running these tests, so the child uses the same SDK install.</summary>
    public static string DotnetPath()
    {
        var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk)) return fromSdk;
        var main = Environment.ProcessPath;
        if (main is not null && Path.GetFileNameWithoutExtension(main) == "dotnet") return main;
        return "dotnet";
    }
}
