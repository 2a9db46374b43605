using ModelGen.Onnx.Protos;

namespace ModelGen.Onnx.Loading;

/// <summary>
/// Reads a tensor's bytes from an external-data file. The file must lie inside the model's
/// folder (after resolving symbolic links), so a model cannot make the build read arbitrary files.
/// </summary>
internal static class ExternalData
{
    public static byte[] Read(TensorProto proto, string tensorName, long expectedBytes, string? baseDirectory, string? file)
    {
        string? location = null;
        long offset = 0;
        long? length = null;
        foreach (var entry in proto.ExternalData)
        {
            switch (entry.Key)
            {
                case "location": location = entry.Value; break;
                case "offset": offset = ParseNumber(entry, tensorName, file); break;
                case "length": length = ParseNumber(entry, tensorName, file); break;
            }
        }
        if (string.IsNullOrEmpty(location))
        {
            throw Bad($"tensor '{tensorName}' is stored externally but names no 'location'", file);
        }
        if (baseDirectory is null)
        {
            throw Bad($"tensor '{tensorName}' refers to external data '{location}', but the model was loaded from bytes without a folder; load it from its file instead", file);
        }
        string path = Resolve(location, tensorName, baseDirectory, file);
        if (length is { } declared && declared != expectedBytes)
        {
            throw Bad($"tensor '{tensorName}' needs {expectedBytes} bytes but its external data '{location}' declares length {declared}; re-export the model", file);
        }
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (offset < 0 || offset > stream.Length || stream.Length - offset < expectedBytes)
        {
            throw Bad($"external data file '{location}' of tensor '{tensorName}' is too short: it has {stream.Length} bytes, the tensor needs {expectedBytes} bytes at offset {offset}; copy the complete data file beside the model", file);
        }
        var data = new byte[expectedBytes];
        stream.Position = offset;
        stream.ReadExactly(data);
        return data;
    }

    /// <summary>The full path of <paramref name="location"/>, checked to stay inside <paramref name="baseDirectory"/>.</summary>
    private static string Resolve(string location, string tensorName, string baseDirectory, string? file)
    {
        if (Path.IsPathRooted(location) || location.Contains(':'))
        {
            throw Bad($"tensor '{tensorName}' refers to external data by the absolute path '{location}'; external data must be a relative path inside the model's folder", file);
        }
        string root = RealPath(Path.GetFullPath(baseDirectory));
        string candidate = Path.GetFullPath(Path.Combine(root, location));
        if (!IsInside(candidate, root))
        {
            throw Bad($"tensor '{tensorName}' refers to external data '{location}', which lies outside the model's folder '{root}'; move the data file next to the model", file);
        }
        if (!File.Exists(candidate))
        {
            throw Bad($"external data file '{location}' of tensor '{tensorName}' does not exist (looked for '{candidate}'); copy it beside the model", file);
        }
        string real = RealPath(candidate);
        if (!IsInside(real, root))
        {
            throw Bad($"external data '{location}' of tensor '{tensorName}' is a link to '{real}', outside the model's folder '{root}'; copy the data file into the folder instead", file);
        }
        return real;
    }

    private static bool IsInside(string path, string root)
    {
        string prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        return path.StartsWith(prefix, OperatingSystem.IsWindows() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);
    }

    /// <summary>Resolves symbolic links in every component of an absolute path (like realpath(3)).</summary>
    private static string RealPath(string fullPath)
    {
        string? root = Path.GetPathRoot(fullPath);
        if (string.IsNullOrEmpty(root)) return fullPath;
        string current = root;
        var parts = fullPath[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries);
        foreach (var part in parts)
        {
            string next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.Exists && info.LinkTarget is not null)
            {
                // ResolveLinkTarget(true) follows chains of links to the final target.
                next = info.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? next;
            }
            current = next;
        }
        return current;
    }

    private static long ParseNumber(StringStringEntryProto entry, string tensorName, string? file) =>
        long.TryParse(entry.Value, out long v) && v >= 0
            ? v
            : throw Bad($"tensor '{tensorName}' has external-data '{entry.Key}' = '{entry.Value}', which is not a non-negative number; re-export the model", file);

    private static OnnxException Bad(string message, string? file) => new(ErrorCodes.BadExternalData, message, file);
}
