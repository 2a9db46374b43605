using ModelGen.Onnx;

namespace ModelGen.Cli;

/// <summary>Parsed `modelgen` arguments.</summary>
public sealed class CommandLine
{
    public string? ModelPath { get; private set; }
    public string? OutputDirectory { get; private set; }
    public string? Name { get; private set; }
    public bool Verbose { get; private set; }
    public bool Help { get; private set; }
    public bool Version { get; private set; }

    /// <exception cref="OnnxException">BadArguments, saying which argument is wrong.</exception>
    public static CommandLine Parse(IReadOnlyList<string> args)
    {
        var c = new CommandLine();
        if (args.Count == 0 || args[0] is "-h" or "--help" or "help")
        {
            c.Help = true;
            return c;
        }
        if (args[0] == "--version")
        {
            c.Version = true;
            return c;
        }
        if (args[0] != "optimize") throw Bad($"unknown command '{args[0]}'; the command is 'optimize'.");
        for (int i = 1; i < args.Count; i++)
        {
            string a = args[i];
            switch (a)
            {
                case "--out": c.OutputDirectory = Value(args, ref i, a); break;
                case "--name": c.Name = Value(args, ref i, a); break;
                case "--verbose": c.Verbose = true; break;
                case "-h" or "--help": c.Help = true; break;
                default:
                    if (a.StartsWith("--", StringComparison.Ordinal)) throw Bad($"unknown option '{a}'.");
                    if (c.ModelPath is not null) throw Bad($"more than one model given ('{c.ModelPath}' and '{a}').");
                    c.ModelPath = a;
                    break;
            }
        }
        if (c.Help) return c;
        if (c.ModelPath is null) throw Bad("no model given: modelgen optimize <model.onnx> --out <dir>.");
        if (c.OutputDirectory is null) throw Bad("no output directory given: add --out <dir>.");
        c.Name ??= ClassNames.FromFileName(c.ModelPath);
        if (!ClassNames.IsValidIdentifier(c.Name))
        {
            throw Bad($"'{c.Name}' is not a valid C# class name; pass --name (ClassName metadata) with a letter or '_' followed by letters, digits or '_'.");
        }
        return c;
    }

    private static string Value(IReadOnlyList<string> args, ref int i, string option)
    {
        if (i + 1 >= args.Count) throw Bad($"'{option}' needs a value.");
        return args[++i];
    }

    private static OnnxException Bad(string message) => new(ErrorCodes.BadArguments, message);
}
