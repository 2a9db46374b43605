using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Memory;

/// <summary>
/// Scratch memory that all the steps of one executor share, for what a kernel writes and reads back within one run of
/// its step (Winograd's transformed input and products, say). Kernels reserve their size while binding; the executor
/// commits one buffer of the largest size after binding, and a kernel reads <see cref="Pointer"/> at the start of each
/// run. Its contents are undefined when a step starts: nothing may be kept there from one run to the next. One kernel
/// (or one of its helpers) per step uses it, from its start; steps run one at a time, so they never overlap.
/// </summary>
/// <remarks>
/// Why: a kernel's own scratch is written on every call but, in a network, touched by no other step, so it has left the
/// caches by the time its step comes again, and every line of it is fetched from memory before it is overwritten. One
/// buffer for all the steps stays warm. ResNet-50, Winograd convs (profile, two cores, two runs each way, alternating):
/// 3×3 256 on 14×14 5809 / 6185 → 5252 / 5250 µs, 128 on 28×28 4000 / 4146 → 3180 / 3225 µs, 64 on 56×56 2262 / 2435 →
/// 1971 / 2105 µs.
/// </remarks>
internal sealed unsafe class StepWorkspace : IDisposable
{
    /// <summary>Per-part slices are whole pages long.</summary>
    private const long PartAlignment = 4096;

    private NativeBuffer? _buffer;
    private byte* _pointer;
    private long _partBytes;
    private int _parts;

    /// <summary>Bytes the largest request needs (for the per-part slices, all of them).</summary>
    public long Bytes { get; private set; }

    /// <summary>Asks for <paramref name="bytes"/> bytes (64-byte aligned) for the current step, from <see cref="Pointer"/>; call while binding.</summary>
    public void Reserve(long bytes)
    {
        if (_buffer is not null) throw new InvalidOperationException("the workspace is committed; reserve while binding");
        Bytes = Math.Max(Bytes, bytes);
    }

    /// <summary>
    /// Asks for a slice of <paramref name="bytes"/> bytes for each of <paramref name="parts"/> parallel parts of the current
    /// step, at <see cref="Part"/>; call while binding.
    /// </summary>
    /// <remarks>
    /// Why: part p's slice starts at the same place in every step (the largest step's slice size apart), and the worker
    /// pool runs part p of every step on the same thread, so a core writes over lines that its own earlier steps wrote.
    /// Slices packed by each step's own size put part 0 of one step on lines that part 1 of another had written, and
    /// each such line moved from one core's cache to the other's before it could be written.
    /// </remarks>
    public void ReserveParts(int parts, long bytes)
    {
        if (_buffer is not null) throw new InvalidOperationException("the workspace is committed; reserve while binding");
        _parts = Math.Max(_parts, parts);
        _partBytes = Math.Max(_partBytes, (bytes + PartAlignment - 1) / PartAlignment * PartAlignment);
    }

    /// <summary>Allocates the buffer, once every kernel has reserved its share.</summary>
    public void Commit()
    {
        Bytes = Math.Max(Bytes, _parts * _partBytes);
        if (_buffer is not null || Bytes == 0) return;
        _buffer = new NativeBuffer(Bytes);
        _pointer = _buffer.Pointer;
    }

    /// <summary>Part <paramref name="part"/>'s slice (<see cref="ReserveParts"/>), for the step running now.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public byte* Part(int part) => Pointer + part * _partBytes;

    /// <summary>The buffer's start, for the step running now.</summary>
    public byte* Pointer
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => _pointer != null ? _pointer : throw new InvalidOperationException("the workspace was not committed");
    }

    public void Dispose()
    {
        _buffer?.Dispose();
        _buffer = null;
        _pointer = null;
    }
}
