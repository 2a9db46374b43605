using System.Reflection;

namespace ModelGen.Runtime;

/// <summary>
/// The read-only weights blob of a model, in 64-byte-aligned native memory. Loaded once (from an
/// embedded resource in generated predictors) and shared by every executor of that model.
/// </summary>
public sealed class ModelWeights : IDisposable
{
    /// <summary>Copies weights from memory.</summary>
    public static ModelWeights FromBytes(ReadOnlySpan<byte> bytes) => throw new NotImplementedException();

    /// <summary>
    /// Loads an embedded resource, checking its length and SHA-256 (lower-case hex, or empty to skip).
    /// </summary>
    /// <exception cref="ModelGenException">The resource is missing, or its length or hash differ.</exception>
    public static ModelWeights FromResource(Assembly assembly, string resourceName, long expectedLength, string expectedSha256) =>
        throw new NotImplementedException();

    /// <summary>Length in bytes.</summary>
    public long Length => throw new NotImplementedException();

    /// <summary>Frees the native memory.</summary>
    public void Dispose() => throw new NotImplementedException();
}
