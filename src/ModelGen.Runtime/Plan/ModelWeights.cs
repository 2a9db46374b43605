using System.Reflection;
using System.Security.Cryptography;
using ModelGen.Runtime.Memory;

namespace ModelGen.Runtime;

/// <summary>
/// The read-only weights blob of a model, in 64-byte-aligned native memory. Loaded once (from an
/// embedded resource in generated predictors) and shared by every executor of that model.
/// Dispose it only after every executor that uses it is disposed.
/// </summary>
public sealed unsafe class ModelWeights : IDisposable
{
    private readonly NativeBuffer _buffer;
    // Weights derived once from the blob (fp16 -> fp32, int8 -> dequantized fp32), keyed by what they
    // were derived from. Shared by every executor of the model, freed with it.
    private readonly Dictionary<string, NativeBuffer> _derived = new(StringComparer.Ordinal);
    private readonly Lock _derivedLock = new();
    private int _derivations;

    private ModelWeights(NativeBuffer buffer) => _buffer = buffer;

    /// <summary>An empty blob, for plans without weights.</summary>
    public static ModelWeights Empty() => new(new NativeBuffer(0));

    /// <summary>Copies weights from memory.</summary>
    public static ModelWeights FromBytes(ReadOnlySpan<byte> bytes)
    {
        var buffer = new NativeBuffer(bytes.Length);
        bytes.CopyTo(new Span<byte>(buffer.Pointer, bytes.Length));
        return new ModelWeights(buffer);
    }

    /// <summary>Reads a weights file (the <c>.weights</c> blob the optimizer writes).</summary>
    /// <exception cref="ModelGenException">The file does not exist or cannot be read.</exception>
    public static ModelWeights FromFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new ModelGenException($"Weights file '{path}' does not exist. Re-run the ModelGen optimizer (rebuild) to produce it.");
        }
        try
        {
            using var stream = File.OpenRead(path);
            return FromStream(stream, stream.Length, $"weights file '{path}'", hash: null);
        }
        catch (IOException e)
        {
            throw new ModelGenException($"Cannot read weights file '{path}': {e.Message}", e);
        }
    }

    /// <summary>
    /// Loads an embedded resource, checking its length and SHA-256 (lower-case hex, or empty to skip).
    /// </summary>
    /// <exception cref="ModelGenException">The resource is missing, or its length or hash differ.</exception>
    public static ModelWeights FromResource(Assembly assembly, string resourceName, long expectedLength, string expectedSha256)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        ArgumentNullException.ThrowIfNull(resourceName);
        const string Stale = "The build outputs are stale or incomplete: rebuild the project (dotnet build) so the generated predictor and its weights match.";
        using var stream = assembly.GetManifestResourceStream(resourceName) ?? throw new ModelGenException(
            $"Weights resource '{resourceName}' is missing from assembly '{assembly.GetName().Name}'. {Stale}");
        if (stream.Length != expectedLength)
        {
            throw new ModelGenException(
                $"Weights resource '{resourceName}' is {stream.Length} bytes, but the generated predictor expects {expectedLength}. {Stale}");
        }
        using var hash = string.IsNullOrEmpty(expectedSha256) ? null : IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var weights = FromStream(stream, expectedLength, $"weights resource '{resourceName}'", hash);
        if (hash is not null)
        {
            string actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (!string.Equals(actual, expectedSha256, StringComparison.OrdinalIgnoreCase))
            {
                weights.Dispose();
                throw new ModelGenException(
                    $"Weights resource '{resourceName}' has SHA-256 {actual}, but the generated predictor expects {expectedSha256}. {Stale}");
            }
        }
        return weights;
    }

    private static ModelWeights FromStream(Stream stream, long length, string what, IncrementalHash? hash)
    {
        var buffer = new NativeBuffer(length);
        try
        {
            long done = 0;
            while (done < length)
            {
                int chunk = (int)Math.Min(1 << 20, length - done);
                var span = new Span<byte>(buffer.Pointer + done, chunk);
                int read = stream.Read(span);
                if (read == 0) throw new ModelGenException($"The {what} ended after {done} of {length} bytes. Rebuild to regenerate it.");
                hash?.AppendData(span[..read]);
                done += read;
            }
            return new ModelWeights(buffer);
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
    }

    /// <summary>Length in bytes.</summary>
    public long Length => _buffer.Length;

    /// <summary>The blob's base address, for kernels (64-byte aligned).</summary>
    internal byte* Pointer => _buffer.Pointer;

    /// <summary>The bytes, read-only.</summary>
    public ReadOnlySpan<byte> Span => new(_buffer.Pointer, checked((int)_buffer.Length));

    /// <summary>Fills a freshly allocated derived buffer (at bind time, once per model and key).</summary>
    internal delegate void DeriveAction(byte* target);

    /// <summary>
    /// The buffer derived from the blob under <paramref name="key"/>, creating it with
    /// <paramref name="derive"/> on first request. Thread-safe: executors bound concurrently on
    /// different threads get the same buffer, derived once. Lives until this object is disposed.
    /// </summary>
    internal byte* Derived(string key, long bytes, DeriveAction derive)
    {
        lock (_derivedLock)
        {
            if (_buffer.IsDisposed) throw new ObjectDisposedException(nameof(ModelWeights));
            if (_derived.TryGetValue(key, out var existing)) return existing.Pointer;
            var buffer = new NativeBuffer(bytes);
            try
            {
                derive(buffer.Pointer);
            }
            catch
            {
                buffer.Dispose();
                throw;
            }
            _derived.Add(key, buffer);
            _derivations++;
            return buffer.Pointer;
        }
    }

    /// <summary>How many derived buffers were created (tests check that executors share them).</summary>
    internal int DerivedCount
    {
        get
        {
            lock (_derivedLock) return _derivations;
        }
    }

    /// <summary>Frees the native memory (and every derived buffer); idempotent.</summary>
    public void Dispose()
    {
        lock (_derivedLock)
        {
            foreach (var buffer in _derived.Values) buffer.Dispose();
            _derived.Clear();
            _buffer.Dispose();
        }
    }
}
