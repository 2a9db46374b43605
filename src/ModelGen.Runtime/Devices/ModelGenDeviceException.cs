namespace ModelGen.Runtime;

/// <summary>
/// An explicitly requested <see cref="ModelGen.Backend"/> is not available on this machine. The
/// message names what was looked for and what was found.
/// </summary>
public sealed class ModelGenDeviceException : ModelGenException
{
    /// <summary>Creates the exception.</summary>
    public ModelGenDeviceException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public ModelGenDeviceException(string message, Exception inner) : base(message, inner) { }
}
