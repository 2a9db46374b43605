namespace ModelGen;

/// <summary>
/// Where a generated predictor runs its plan (docs/gpu.md). Pass one to the predictor's
/// <c>new X(Backend)</c> constructor, or set the <c>Backend</c> metadata of the
/// <c>&lt;OptimizedModel&gt;</c> item for the parameterless one.
/// </summary>
public enum Backend
{
    /// <summary>
    /// CUDA, then an OpenCL GPU, then <see cref="Cpu"/>; stays on the CPU when the model's work per
    /// call is below <see cref="Runtime.Devices.ModelExecutors.MinDeviceFlops"/>.
    /// </summary>
    Auto,

    /// <summary>ModelGen's managed SIMD kernels (the fastest CPU path).</summary>
    Cpu,

    /// <summary>An NVIDIA GPU through ILGPU's CUDA accelerator.</summary>
    Cuda,

    /// <summary>An OpenCL 2.0+ device with generic address space (GPU, or PoCL on a CPU) through ILGPU.</summary>
    OpenCL,

    /// <summary>
    /// ILGPU's CPU accelerator: runs the device kernels on the CPU, for testing them without a GPU.
    /// Far slower than <see cref="Cpu"/>.
    /// </summary>
    IlgpuCpu,
}
