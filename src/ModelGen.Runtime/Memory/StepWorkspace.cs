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
    private NativeBuffer? _buffer;
    private byte* _pointer;

    /// <summary>Bytes the largest request needs.</summary>
    public long Bytes { get; private set; }

    /// <summary>Asks for <paramref name="bytes"/> bytes (64-byte aligned) for the current step; call while binding.</summary>
    public void Reserve(long bytes)
    {
        if (_buffer is not null) throw new InvalidOperationException("the workspace is committed; reserve while binding");
        Bytes = Math.Max(Bytes, bytes);
    }

    /// <summary>Allocates the buffer, once every kernel has reserved its share.</summary>
    public void Commit()
    {
        if (_buffer is not null || Bytes == 0) return;
        _buffer = new NativeBuffer(Bytes);
        _pointer = _buffer.Pointer;
    }

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
