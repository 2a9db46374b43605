using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Spec;

namespace ModelGen.Optimizer.Output;

/// <summary>
/// Writes the three outputs (<c>Name.mgspec</c>, <c>Name.weights</c>, <c>Name.onnx</c>). Each is
/// written to a temporary file and moved into place, so a failed or interrupted run never
/// leaves a half-written file that a later incremental build would take as up to date.
/// </summary>
internal static class OutputWriter
{
    /// <param name="report">The quantization report's Markdown (null: no report).</param>
    /// <param name="reportPath">Where the report goes (null: <c>directory/name.report.md</c>).</param>
    public static IReadOnlyList<string> Write(string directory, string name, ModelSpec spec, byte[] weights, OnnxModel optimized,
        string? report = null, string? reportPath = null)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var utf8 = new System.Text.UTF8Encoding(false);
            var list = new List<(string Path, byte[] Bytes)>
            {
                (Path.Combine(directory, name + ".weights"), weights),
                (Path.Combine(directory, name + ".onnx"), OnnxWriter.ToBytes(QdqExpander.Expand(FusionExpander.Expand(optimized)))),
            };
            if (report is not null) list.Add((reportPath ?? Path.Combine(directory, name + ".report.md"), utf8.GetBytes(report)));
            // The spec goes last: it is what the build and the generator key on.
            list.Add((Path.Combine(directory, name + ".mgspec"), utf8.GetBytes(SpecWriter.Write(spec))));
            var files = list.ToArray();
            foreach (var (path, bytes) in files)
            {
                string temp = path + ".tmp";
                File.WriteAllBytes(temp, bytes);
                File.Move(temp, path, overwrite: true);
            }
            return files.Select(f => f.Path).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OnnxException(ErrorCodes.OutputError, $"cannot write the outputs to '{directory}': {e.Message}", directory, e);
        }
    }

    /// <summary>Writes only the report (when no output directory was asked for).</summary>
    public static IReadOnlyList<string> WriteReport(string path, string report)
    {
        try
        {
            string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is not null) Directory.CreateDirectory(dir);
            File.WriteAllText(path, report, new System.Text.UTF8Encoding(false));
            return new[] { path };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new OnnxException(ErrorCodes.OutputError, $"cannot write the report to '{path}': {e.Message}", path, e);
        }
    }

    /// <summary>Removes outputs of an earlier run, so a failed run leaves nothing stale behind.</summary>
    public static void DeleteStale(string directory, string name)
    {
        foreach (var ext in new[] { ".mgspec", ".weights", ".onnx", ".report.md" })
        {
            try
            {
                File.Delete(Path.Combine(directory, name + ext));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Best effort: the error that made us get here is the one to report.
            }
        }
    }
}
