using System.Collections.Concurrent;
using System.Reflection;
using ILGPU;
using ILGPU.Backends.OpenCL;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace ModelGen.Runtime.Devices;

/// <summary>
/// One ILGPU context and accelerator for one backend, created once per process and shared by
/// every executor on that backend, with the kernels loaded on it (each once). Never disposed:
/// it lives as long as the process, like the CPU runtime's worker pool.
/// </summary>
internal sealed class DeviceContext
{
    private readonly ConcurrentDictionary<MethodInfo, Delegate> _kernels = new();
    private readonly Lock _loadLock = new();

    public DeviceContext(Backend backend, Context context, Accelerator accelerator, bool isGpu)
    {
        Backend = backend;
        Context = context;
        Accelerator = accelerator;
        IsGpu = isGpu;
        Name = accelerator.Name;
        GroupSize = Math.Min(256, accelerator.MaxNumThreadsPerGroup);
        int tile = GemmKernels.MaxTile;
        while (tile > 1 && tile * tile > accelerator.MaxNumThreadsPerGroup) tile /= 2;
        Tile = tile;
        // Enough groups to fill the device a few times over; grid-stride loops cover the rest.
        long threads = Math.Max((long)accelerator.MaxNumThreads, GroupSize);
        MaxGroups = (int)Math.Clamp(threads * 4 / GroupSize, 1, 65535);
    }

    public Backend Backend { get; }
    public Context Context { get; }
    public Accelerator Accelerator { get; }

    /// <summary>A GPU (CUDA, or an OpenCL device of type GPU); <see cref="Backend.Auto"/> takes only these.</summary>
    public bool IsGpu { get; }

    /// <summary>The device's name, as <c>X.DeviceName</c> reports it.</summary>
    public string Name { get; }

    /// <summary>Threads per group of the 1-D grid-stride kernels.</summary>
    public int GroupSize { get; }

    /// <summary>Side of the square tiles of the shared-memory GEMM and convolution (16 on GPUs).</summary>
    public int Tile { get; }

    /// <summary>Most groups a 1-D grid-stride launch uses.</summary>
    public int MaxGroups { get; }

    /// <summary>Launch configuration of a grid-stride kernel over <paramref name="count"/> items.</summary>
    public KernelConfig GridStride(long count)
    {
        long groups = Math.Clamp((count + GroupSize - 1) / GroupSize, 1, MaxGroups);
        return new KernelConfig((int)groups, GroupSize);
    }

    /// <summary>The kernel <paramref name="kernel"/>, compiled and loaded on this accelerator once.</summary>
    public Action<AcceleratorStream, KernelConfig, ArrayView<float>, T> Kernel<T>(Action<ArrayView<float>, T> kernel)
        where T : unmanaged
    {
        if (_kernels.TryGetValue(kernel.Method, out var loaded))
        {
            return (Action<AcceleratorStream, KernelConfig, ArrayView<float>, T>)loaded;
        }
        lock (_loadLock)
        {
            if (!_kernels.TryGetValue(kernel.Method, out loaded))
            {
                loaded = Accelerator.LoadKernel(kernel);
                _kernels[kernel.Method] = loaded;
            }
        }
        return (Action<AcceleratorStream, KernelConfig, ArrayView<float>, T>)loaded;
    }
}

/// <summary>
/// Finds and opens the device of each backend once per process (docs/gpu.md). A backend that is
/// not there is remembered with a message saying what was looked for and what was found.
/// </summary>
internal static class DeviceRegistry
{
    private static readonly ConcurrentDictionary<Backend, Lazy<(DeviceContext? Device, string Found)>> Devices = new();

    /// <summary>The shared device of <paramref name="backend"/>, or null with what was found instead.</summary>
    public static DeviceContext? TryGet(Backend backend, out string found)
    {
        var entry = Devices.GetOrAdd(backend, b => new Lazy<(DeviceContext?, string)>(() => Open(b)));
        var (device, text) = entry.Value;
        found = text;
        return device;
    }

    private static (DeviceContext?, string) Open(Backend backend)
    {
        try
        {
            return backend switch
            {
                Backend.Cuda => OpenCuda(),
                Backend.OpenCL => OpenOpenCL(),
                Backend.IlgpuCpu => OpenCpu(),
                _ => (null, $"{backend} is not a device backend"),
            };
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return (null, $"opening the {backend} device failed: {e.GetType().Name}: {e.Message}");
        }
    }

    private static Context.Builder Common(Context.Builder builder) =>
        builder.EnableAlgorithms().Optimize(OptimizationLevel.O1);

    private static (DeviceContext?, string) OpenCuda()
    {
        var context = Context.Create(b => Common(b.Cuda()));
        var devices = context.GetCudaDevices();
        if (devices.Count == 0)
        {
            context.Dispose();
            return (null, "no CUDA device (no NVIDIA driver, libcuda, or GPU was found)");
        }
        var accelerator = devices[0].CreateAccelerator(context);
        return (new DeviceContext(Backend.Cuda, context, accelerator, isGpu: true), accelerator.Name);
    }

    private static (DeviceContext?, string) OpenOpenCL()
    {
        // List every OpenCL device, then take the first ILGPU can use (OpenCL 2.0+ with the generic
        // address space; PoCL 3.1 of Debian 12, for one, lacks it), preferring GPUs.
        var context = Context.Create(b => Common(b.OpenCL(_ => true)));
        var all = new List<CLDevice>();
        foreach (var d in context.GetDevices<CLDevice>()) all.Add(d);
        var usable = all.Where(d => d.CLStdVersion >= CLCVersion.CL20 && d.Capabilities.GenericAddressSpace)
            .OrderBy(d => d.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU ? 0 : 1)
            .ToList();
        string listed = all.Count == 0
            ? "no OpenCL device (no ICD loader libOpenCL.so, or no platform installed)"
            : "OpenCL devices without OpenCL 2.0 generic address space, which ILGPU requires: "
              + string.Join("; ", all.Select(d => $"{d.Name} ({d.PlatformName}, OpenCL C {d.CLStdVersion})"));
        if (usable.Count == 0)
        {
            context.Dispose();
            return (null, listed);
        }
        var device = usable[0];
        var accelerator = device.CreateAccelerator(context);
        bool gpu = device.DeviceType == CLDeviceType.CL_DEVICE_TYPE_GPU;
        return (new DeviceContext(Backend.OpenCL, context, accelerator, gpu), $"{accelerator.Name} ({device.PlatformName})");
    }

    private static (DeviceContext?, string) OpenCpu()
    {
        var context = Context.Create(b => Common(b.CPU()));
        var accelerator = context.GetCPUDevice(0).CreateAccelerator(context);
        return (new DeviceContext(Backend.IlgpuCpu, context, accelerator, isGpu: false), accelerator.Name);
    }
}
