using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Quantization;
using ModelGen.Spec;

namespace ModelGen.Optimizer.Output;

/// <summary>
/// Writes the outputs (<c>Name.mgspec</c>, <c>Name.weights</c>, <c>Name.onnx</c>, and after a lossy
/// optimization <c>Name.report.md</c> and <c>Name.report.json</c>). Each is
/// written to a temporary file and moved into place, so a failed or interrupted run never
/// leaves a half-written file that a later incremental build would take as up to date.
/// </summary>
internal static class OutputWriter
{
    /// <summary>The file name endings this writer produces; <see cref="DeleteStale"/> removes each.</summary>
    private static readonly string[] s_extensions = [".mgspec", ".weights", ".onnx", ".report.md", ".report.json"];

    /// <param name="report">What quantization did (null: no lossy optimization ran, so no report).</param>
    /// <param name="sourcePath">The source model, named in the JSON report.</param>
    /// <param name="reportPath">Where the Markdown report goes (null: <c>directory/name.report.md</c>); the JSON goes beside it.</param>
    public static IReadOnlyList<string> Write(string directory, string name, ModelSpec spec, byte[] weights, OnnxModel optimized,
        QuantizationReport? report = null, string? sourcePath = null, string? reportPath = null)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var list = new List<(string Path, byte[] Bytes)>
            {
                (Path.Combine(directory, name + ".weights"), weights),
                (Path.Combine(directory, name + ".onnx"), OnnxWriter.ToBytes(QdqExpander.Expand(FusionExpander.Expand(optimized)))),
            };
            if (report is not null) list.AddRange(ReportFiles(report, name, sourcePath, reportPath ?? Path.Combine(directory, name + ".report.md")));
            // The spec goes last: it is what the build and the generator key on.
            list.Add((Path.Combine(directory, name + ".mgspec"), s_utf8.GetBytes(SpecWriter.Write(spec))));
            return Commit(list);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OnnxException(ErrorCodes.OutputError, $"cannot write the outputs to '{directory}': {e.Message}", directory, e);
        }
    }

    /// <summary>Writes only the reports, Markdown at <paramref name="path"/> and JSON beside it (when no output directory was asked for).</summary>
    public static IReadOnlyList<string> WriteReport(string path, QuantizationReport report, string name, string? sourcePath)
    {
        try
        {
            string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is not null) Directory.CreateDirectory(dir);
            return Commit(ReportFiles(report, name, sourcePath, path));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OnnxException(ErrorCodes.OutputError, $"cannot write the report to '{path}': {e.Message}", path, e);
        }
    }

    /// <summary>
    /// Where the JSON report goes for a Markdown report at <paramref name="markdownPath"/>:
    /// <c>X.report.md</c> → <c>X.report.json</c>, any other <c>X.md</c> → <c>X.json</c>.
    /// </summary>
    public static string JsonReportPath(string markdownPath) => Path.ChangeExtension(markdownPath, ".json");

    /// <summary>Removes outputs of an earlier run (and temporaries of an interrupted one), so a failed run leaves nothing stale behind.</summary>
    public static void DeleteStale(string directory, string name)
    {
        foreach (var ext in s_extensions)
        {
            string path = Path.Combine(directory, name + ext);
            TryDelete(path);
            TryDelete(path + ".tmp");
        }
    }

    private static readonly System.Text.UTF8Encoding s_utf8 = new(false);

    private static List<(string Path, byte[] Bytes)> ReportFiles(QuantizationReport report, string name, string? sourcePath, string markdownPath) =>
    [
        (markdownPath, s_utf8.GetBytes(report.ToMarkdown(name))),
        (JsonReportPath(markdownPath), QuantizationReportJson.ToUtf8(report, name, sourcePath is null ? "" : Path.GetFileName(sourcePath))),
    ];

    // Every file goes to a temporary and is moved into place, so none is ever seen half-written.
    private static List<string> Commit(List<(string Path, byte[] Bytes)> files)
    {
        foreach (var (path, bytes) in files)
        {
            string temp = path + ".tmp";
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, path, overwrite: true);
        }
        return files.Select(f => f.Path).ToList();
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: the error that made us get here is the one to report.
        }
    }
}
