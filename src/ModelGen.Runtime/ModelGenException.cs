namespace ModelGen.Runtime;

/// <summary>A model or plan that the runtime cannot run, with a message that says what and why.</summary>
public class ModelGenException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelGenException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public ModelGenException(string message, Exception inner) : base(message, inner) { }
}
