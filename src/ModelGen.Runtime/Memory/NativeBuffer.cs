using System.Runtime.InteropServices;

namespace ModelGen.Runtime.Memory;

/// <summary>
/// A block of 64-byte-aligned, zeroed native memory. Aligned to a cache line so that SIMD loads
/// of slot starts never split lines, and native so the GC never moves or scans it.
/// </summary>
/// <remarks>
/// One cache line of zeroed slack follows <see cref="Length"/> (<see cref="Slack"/>): a 512-bit load that
/// starts at a tensor's last element may run past the buffer's end, and a kernel whose unused lanes are
/// masked off at the store can then read a tensor in place instead of copying it somewhere padded.
/// </remarks>
internal sealed unsafe class NativeBuffer : IDisposable
{
    /// <summary>The alignment every buffer (and so every arena and weights base) has.</summary>
    public const int Alignment = 64;

    /// <summary>Readable zeroed bytes past <see cref="Length"/>: one full Vector512, so an over-read of up to 15 floats never faults.</summary>
    public const int Slack = 64;

    private byte* _pointer;

    /// <summary>Allocates <paramref name="length"/> zeroed bytes (at least one cache line).</summary>
    public NativeBuffer(long length)
    {
        if (length < 0) throw new ArgumentOutOfRangeException(nameof(length));
        // Never zero bytes: AlignedAlloc(0) may return null, and kernels like a valid base pointer.
        nuint size = (nuint)(Math.Max(length, Alignment) + Slack);
        _pointer = (byte*)NativeMemory.AlignedAlloc(size, Alignment);
        NativeMemory.Clear(_pointer, size);
        Length = length;
    }

    /// <summary>Usable length in bytes.</summary>
    public long Length { get; }

    /// <summary>The base address; throws once disposed.</summary>
    public byte* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(NativeBuffer));

    /// <summary>True once freed.</summary>
    public bool IsDisposed => _pointer == null;

    /// <summary>Frees the memory; idempotent.</summary>
    public void Dispose()
    {
        if (_pointer != null)
        {
            NativeMemory.AlignedFree(_pointer);
            _pointer = null;
        }
        GC.SuppressFinalize(this);
    }

    ~NativeBuffer()
    {
        if (_pointer != null) NativeMemory.AlignedFree(_pointer);
    }
}
