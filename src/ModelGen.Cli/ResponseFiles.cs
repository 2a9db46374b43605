using ModelGen.Onnx;

namespace ModelGen.Cli;

/// <summary>Expands <c>@file</c> arguments: one argument per line, as the build task writes them.</summary>
public static class ResponseFiles
{
    public static List<string> Expand(IEnumerable<string> args)
    {
        var result = new List<string>();
        foreach (var arg in args)
        {
            if (!arg.StartsWith('@'))
            {
                result.Add(arg);
                continue;
            }
            string path = arg[1..];
            if (!File.Exists(path)) throw new OnnxException(ErrorCodes.BadArguments, $"response file '{path}' does not exist.", path);
            foreach (var line in File.ReadAllLines(path))
            {
                var trimmed = line.Trim();
                if (trimmed.Length > 0) result.Add(trimmed);
            }
        }
        return result;
    }
}
