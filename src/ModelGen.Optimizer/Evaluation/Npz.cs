using System.IO.Compression;
using ModelGen.Onnx;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// Reads and writes NumPy <c>.npz</c> archives: a zip (stored or deflated entries) holding one
/// <c>name.npy</c> file per array, as written by <c>numpy.savez</c> / <c>numpy.savez_compressed</c>.
/// </summary>
public static class Npz
{
    /// <summary>
    /// Reads the arrays of <paramref name="path"/>, keyed by name (the entry name without ".npy"),
    /// in archive order. Entries that are not .npy files are skipped. <paramref name="include"/>,
    /// when given, picks the arrays to decode (the others are not even decompressed).
    /// </summary>
    /// <exception cref="OnnxException">MG1020 when the file is missing or unreadable; MG1021 when it is not a valid .npz.</exception>
    public static IReadOnlyDictionary<string, NpyArray> Read(string path, Func<string, bool>? include = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        FileStream file;
        try
        {
            file = File.OpenRead(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new OnnxException(EvaluationErrors.DataFileMissing,
                $"the data file '{path}' does not exist; check the path (relative paths are taken from the project folder)", path, e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new OnnxException(EvaluationErrors.DataFileMissing, $"the data file '{path}' cannot be read: {e.Message}", path, e);
        }

        using (file)
        {
            ZipArchive zip;
            try
            {
                zip = new ZipArchive(file, ZipArchiveMode.Read);
            }
            catch (InvalidDataException e)
            {
                throw new OnnxException(EvaluationErrors.DataFileMalformed,
                    $"'{path}' is not a valid .npz file (not a zip archive: {e.Message}); write it with numpy.savez or numpy.savez_compressed", path, e);
            }
            using (zip)
            {
                var arrays = new Dictionary<string, NpyArray>(StringComparer.Ordinal);
                foreach (var entry in zip.Entries)
                {
                    if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                    string name = entry.FullName[..^4];
                    if (include is not null && !include(name)) continue;
                    if (arrays.ContainsKey(name))
                    {
                        throw new OnnxException(EvaluationErrors.DataFileMalformed, $"'{path}' holds the array '{name}' twice; write the file again", path);
                    }
                    arrays[name] = ReadEntry(entry, path, name);
                }
                return arrays;
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="arrays"/> to <paramref name="path"/> as an .npz archive, one
    /// <c>name.npy</c> entry per array; <paramref name="compress"/> deflates the entries
    /// (like <c>numpy.savez_compressed</c>), otherwise they are stored (like <c>numpy.savez</c>).
    /// </summary>
    public static void Write(string path, IEnumerable<(string Name, NpyArray Array)> arrays, bool compress = false)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(arrays);
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, array) in arrays)
        {
            if (string.IsNullOrEmpty(name) || !seen.Add(name)) throw new ArgumentException($"array names must be unique and non-empty ('{name}')", nameof(arrays));
            var entry = zip.CreateEntry(name + ".npy", compress ? CompressionLevel.Optimal : CompressionLevel.NoCompression);
            using var stream = entry.Open();
            Npy.Write(stream, array);
        }
    }

    private static NpyArray ReadEntry(ZipArchiveEntry entry, string path, string name)
    {
        try
        {
            using var stream = entry.Open();
            return Npy.Read(stream, path, name);
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new OnnxException(EvaluationErrors.DataFileMalformed,
                $"array '{name}' in '{path}' cannot be decompressed ({e.Message}); the file is corrupt or truncated, write it again", path, e);
        }
    }
}
