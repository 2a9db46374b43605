using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace ModelGen.Runtime.Devices;

/// <summary>
/// One kernel launch with its configuration and parameters, decided by <see cref="DeviceBinder"/>
/// before the executor's device buffer exists; <see cref="Bind"/> then fixes the stream and buffer.
/// </summary>
internal abstract class DeviceLaunch
{
    /// <summary>This launch on <paramref name="stream"/> over <paramref name="memory"/>, ready to run with no arguments.</summary>
    public abstract BoundLaunch Bind(AcceleratorStream stream, ArrayView<float> memory);
}

internal sealed class DeviceLaunch<T>(
    Action<AcceleratorStream, KernelConfig, ArrayView<float>, T> kernel, KernelConfig config, T parameters)
    : DeviceLaunch where T : unmanaged
{
    public override BoundLaunch Bind(AcceleratorStream stream, ArrayView<float> memory) =>
        // ILGPU's CPU accelerator allocates a task object per launch through its launcher;
        // a pre-built task avoids that (CpuTaskLaunch). Elsewhere the launcher allocates nothing.
        (stream.Accelerator is CPUAccelerator cpu ? (BoundLaunch?)CpuTaskLaunch.TryCreate(cpu, kernel, config, memory, parameters) : null)
        ?? new StreamLaunch<T>(kernel, config, stream, memory, parameters);
}

/// <summary>A launch bound to one executor's stream and device buffer.</summary>
internal abstract class BoundLaunch
{
    /// <summary>Queues the kernel (CUDA, OpenCL) or runs it to completion (ILGPU's CPU accelerator).</summary>
    public abstract void Launch();
}

/// <summary>A launch through ILGPU's launcher delegate, as loaded by <see cref="DeviceContext.Kernel{T}"/>.</summary>
internal sealed class StreamLaunch<T>(
    Action<AcceleratorStream, KernelConfig, ArrayView<float>, T> kernel, KernelConfig config,
    AcceleratorStream stream, ArrayView<float> memory, T parameters) : BoundLaunch where T : unmanaged
{
    public override void Launch() => kernel(stream, config, memory, parameters);
}
