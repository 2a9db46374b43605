namespace ModelGen.Build
{
    /// <summary>Whether a parsed tool output line is an error or a warning.</summary>
    public enum ToolDiagnosticKind
    {
        /// <summary>The line said <c>error</c>: the build fails.</summary>
        Error,

        /// <summary>The line said <c>warning</c>.</summary>
        Warning,
    }

    /// <summary>
    /// One diagnostic the optimizer printed in MSBuild's canonical format, split into the pieces
    /// that <c>TaskLoggingHelper.LogError</c> takes, so that IDEs and CI show a clickable error.
    /// </summary>
    public sealed class ToolDiagnostic
    {
        /// <summary>Creates a diagnostic; every text argument may be empty but not null.</summary>
        public ToolDiagnostic(
            ToolDiagnosticKind kind, string subcategory, string code, string file,
            int line, int column, int endLine, int endColumn, string message)
        {
            Kind = kind;
            Subcategory = subcategory;
            Code = code;
            File = file;
            Line = line;
            Column = column;
            EndLine = endLine;
            EndColumn = endColumn;
            Message = message;
        }

        /// <summary>Error or warning.</summary>
        public ToolDiagnosticKind Kind { get; }

        /// <summary>The optional word(s) before <c>error</c>/<c>warning</c>; usually empty.</summary>
        public string Subcategory { get; }

        /// <summary>The code, e.g. <c>MG1002</c>.</summary>
        public string Code { get; }

        /// <summary>The file the diagnostic is about (the origin); empty when the line had none.</summary>
        public string File { get; }

        /// <summary>1-based line, or 0 when the line had no location.</summary>
        public int Line { get; }

        /// <summary>1-based column, or 0.</summary>
        public int Column { get; }

        /// <summary>End line, or 0.</summary>
        public int EndLine { get; }

        /// <summary>End column, or 0.</summary>
        public int EndColumn { get; }

        /// <summary>The text after <c>CODE:</c>.</summary>
        public string Message { get; }
    }
}
