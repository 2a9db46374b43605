using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace ModelGen.Runtime.Devices;

/// <summary>
/// Copies between host memory and an executor's device buffer, synchronously (the host memory
/// may be reused or read as soon as a call returns), without allocating managed memory.
/// ILGPU's <c>CopyFromCPU</c>/<c>CopyToCPU</c> span overloads wrap the host pointer in a new
/// <c>CPUMemoryBuffer</c> (80 bytes) per copy, and ILGPU's OpenCL view-to-view copy sizes the
/// transfer by the whole host buffer rather than the view (so a persistent host view only works
/// when its length equals every copy's). Each accelerator type therefore gets its own small path
/// straight to the driver call ILGPU itself would make.
/// </summary>
internal abstract class HostCopy
{
    /// <summary>Writes <paramref name="source"/> to the device buffer at <paramref name="offset"/> bytes.</summary>
    public abstract void Upload(long offset, ReadOnlySpan<byte> source);

    /// <summary>Reads the device buffer at <paramref name="offset"/> bytes into <paramref name="target"/>, after all queued work.</summary>
    public abstract void Download(long offset, Span<byte> target);

    /// <summary>
    /// The copier for <paramref name="memory"/>'s accelerator, on <paramref name="stream"/>;
    /// <paramref name="bytes"/> is the same buffer as a byte view, for ILGPU's generic copies.
    /// </summary>
    public static HostCopy Create(MemoryBuffer memory, ArrayView<byte> bytes, AcceleratorStream stream) => memory.AcceleratorType switch
    {
        AcceleratorType.OpenCL => new OpenCLHostCopy(memory, stream),
        AcceleratorType.Cuda => new CudaHostCopy(memory, stream),
        AcceleratorType.CPU => new CpuHostCopy(memory, stream),
        _ => new IlgpuHostCopy(bytes, stream),
    };
}

/// <summary>
/// OpenCL: a blocking <c>clEnqueueWriteBuffer</c>/<c>clEnqueueReadBuffer</c> on the executor's
/// in-order queue (through ILGPU's <see cref="CLAPI"/>, which first enqueues a barrier). Blocking
/// means the call returns when the host memory has been read or written, after every launch
/// queued before it: what ILGPU's copy followed by <c>Synchronize</c> did, without its wrapper.
/// </summary>
internal sealed unsafe class OpenCLHostCopy(MemoryBuffer memory, AcceleratorStream stream) : HostCopy
{
    public override void Upload(long offset, ReadOnlySpan<byte> source)
    {
        fixed (byte* host = source)
        {
            CLException.ThrowIfFailed(CLAPI.CurrentAPI.WriteBuffer(
                stream, memory.NativePtr, blockingWrite: true, (nint)offset, source.Length, (nint)host));
        }
    }

    public override void Download(long offset, Span<byte> target)
    {
        fixed (byte* host = target)
        {
            CLException.ThrowIfFailed(CLAPI.CurrentAPI.ReadBuffer(
                stream, memory.NativePtr, blockingRead: true, (nint)offset, target.Length, (nint)host));
        }
    }
}

/// <summary>
/// CUDA: <c>cuMemcpyAsync</c> on the executor's stream (unified addressing lets the driver tell
/// host from device pointers, as ILGPU's own copy relies on), then a stream synchronize so the
/// host memory is free to reuse. The accelerator is bound to the calling thread first, as ILGPU
/// does, because a CUDA context is per thread. Not run in CI (no CUDA device there).
/// </summary>
internal sealed unsafe class CudaHostCopy(MemoryBuffer memory, AcceleratorStream stream) : HostCopy
{
    public override void Upload(long offset, ReadOnlySpan<byte> source)
    {
        fixed (byte* host = source) Copy(memory.NativePtr + (nint)offset, (nint)host, source.Length);
    }

    public override void Download(long offset, Span<byte> target)
    {
        fixed (byte* host = target) Copy((nint)host, memory.NativePtr + (nint)offset, target.Length);
    }

    private void Copy(nint destination, nint source, int length)
    {
        using (stream.Accelerator.BindScoped())
        {
            CudaException.ThrowIfFailed(CudaAPI.CurrentAPI.MemcpyAsync(destination, source, length, stream));
            stream.Synchronize();
        }
    }
}

/// <summary>
/// ILGPU's CPU accelerator: the device buffer is host memory and its launches return only when
/// the kernel has finished, so a synchronize (for safety, a no-op today) and a plain memory copy
/// are the whole transfer.
/// </summary>
internal sealed unsafe class CpuHostCopy(MemoryBuffer memory, AcceleratorStream stream) : HostCopy
{
    public override void Upload(long offset, ReadOnlySpan<byte> source)
    {
        stream.Synchronize();
        source.CopyTo(new Span<byte>((byte*)memory.NativePtr + offset, source.Length));
    }

    public override void Download(long offset, Span<byte> target)
    {
        stream.Synchronize();
        new ReadOnlySpan<byte>((byte*)memory.NativePtr + offset, target.Length).CopyTo(target);
    }
}

/// <summary>Any other accelerator: ILGPU's span copies (correct, but 80 bytes per copy).</summary>
internal sealed class IlgpuHostCopy(ArrayView<byte> bytes, AcceleratorStream stream) : HostCopy
{
    public override void Upload(long offset, ReadOnlySpan<byte> source) =>
        bytes.SubView(offset, source.Length).CopyFromCPU(stream, source);

    public override void Download(long offset, Span<byte> target) =>
        bytes.SubView(offset, target.Length).CopyToCPU(stream, target);
}
