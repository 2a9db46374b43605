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
    public static IReadOnlyList<string> Write(string directory, string name, ModelSpec spec, byte[] weights, OnnxModel optimized)
    {
        try
        {
            Directory.CreateDirectory(directory);
            var files = new (string Path, byte[] Bytes)[]
            {
                (Path.Combine(directory, name + ".weights"), weights),
                (Path.Combine(directory, name + ".onnx"), OnnxWriter.ToBytes(FusionExpander.Expand(optimized))),
                // The spec goes last: it is what the build and the generator key on.
                (Path.Combine(directory, name + ".mgspec"), new System.Text.UTF8Encoding(false).GetBytes(SpecWriter.Write(spec))),
            };
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

    /// <summary>Removes outputs of an earlier run, so a failed run leaves nothing stale behind.</summary>
    public static void DeleteStale(string directory, string name)
    {
        foreach (var ext in new[] { ".mgspec", ".weights", ".onnx" })
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
