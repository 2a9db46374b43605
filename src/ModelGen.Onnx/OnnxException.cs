namespace ModelGen.Onnx;

/// <summary>
/// Bad input found while loading, checking or optimizing a model. Carries an MG1xxx code (see
/// <see cref="ErrorCodes"/>), the file it concerns, and a message that says what is wrong and,
/// where it can, what to do.
/// </summary>
public sealed class OnnxException : Exception
{
    public OnnxException(string code, string message, string? file = null, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
        File = file;
    }

    /// <summary>MG1xxx code.</summary>
    public string Code { get; }

    /// <summary>The file the problem is in, when known.</summary>
    public string? File { get; set; }
}
