namespace ModelGen.Cli;

/// <summary>Entry point logic of the `modelgen` command (TODO: implement).</summary>
public static class CliApp
{
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr) => throw new NotImplementedException();
}
