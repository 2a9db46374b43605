using System.Globalization;

namespace ModelGen.Runtime.Devices;

/// <summary>A plan step that runs on the CPU kernel under a device backend, and why.</summary>
/// <param name="StepIndex">The step's index in <see cref="ExecutionPlan.Steps"/>.</param>
/// <param name="Op">Its ONNX op.</param>
/// <param name="Name">Its node name.</param>
/// <param name="Reason">Why it has no device kernel.</param>
public readonly record struct DeviceFallback(int StepIndex, string Op, string Name, string Reason);

/// <summary>
/// Creates the executor generated predictors run (docs/gpu.md): the CPU <see cref="PlanExecutor"/>
/// or a device executor on CUDA, OpenCL or ILGPU's CPU accelerator, and resolves
/// <see cref="Backend.Auto"/>.
/// </summary>
public static class ModelExecutors
{
    /// <summary>
    /// The default of <see cref="MinDeviceFlops"/>: 2 MFLOP per call. Measured with
    /// tests/ModelGen.Devices.Tests/AutoThresholdMeasurement.cs (docs/gpu.md): the CPU kernels run
    /// a 1 MFLOP MLP call in 30-45 µs and a 4 MFLOP one in 200-260 µs (2 cores, AVX2), while the
    /// fixed cost of a device call (input copy, launches, output copy, synchronize) is about
    /// 20-40 µs on a discrete CUDA GPU and 100 µs on PoCL. Below about 1 MFLOP the CPU wins
    /// outright; 2 MFLOP leaves margin for the device's own compute time.
    /// </summary>
    public const long DefaultMinDeviceFlops = 2_000_000;

    /// <summary>The environment variable that overrides <see cref="DefaultMinDeviceFlops"/> (a number of FLOP).</summary>
    public const string MinFlopsVariable = "MODELGEN_GPU_MIN_FLOPS";

    private static long _minDeviceFlops = ReadMinFlops();

    /// <summary>
    /// <see cref="Backend.Auto"/> stays on the CPU for a plan whose estimated work per call
    /// (<see cref="EstimateFlops"/>) is below this. Starts as <c>MODELGEN_GPU_MIN_FLOPS</c> when that
    /// is set to a non-negative integer, else <see cref="DefaultMinDeviceFlops"/>; 0 sends every
    /// model to a GPU when there is one.
    /// </summary>
    public static long MinDeviceFlops
    {
        get => Volatile.Read(ref _minDeviceFlops);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            Volatile.Write(ref _minDeviceFlops, value);
        }
    }

    /// <summary>Every op with a device kernel. Other ops run on their CPU kernel under a device backend.</summary>
    public static IReadOnlySet<string> DeviceSupportedOps => DeviceBinder.SupportedOps;

    /// <summary>The name <see cref="Create"/> reports for <see cref="Backend.Cpu"/>.</summary>
    public static string CpuDeviceName =>
        $"CPU ({Environment.ProcessorCount} threads, ModelGen SIMD kernels)";

    /// <summary>
    /// Creates the executor of <paramref name="plan"/> on <paramref name="backend"/>. For a batched
    /// predictor pass <c>plan.WithBatch(n)</c>. The device (context, accelerator, compiled kernels)
    /// is opened once per process and backend and shared; the executor owns only its buffers.
    /// </summary>
    /// <param name="plan">The plan.</param>
    /// <param name="weights">Its weights, shared by every executor of the model.</param>
    /// <param name="backend">Where to run: <see cref="Backend.Auto"/> resolves as documented on it.</param>
    /// <param name="active">Where it runs (never <see cref="Backend.Auto"/>): <c>X.ActiveBackend</c>.</param>
    /// <param name="deviceName">The device's name: <c>X.DeviceName</c>.</param>
    /// <exception cref="ModelGenDeviceException">An explicit device backend is not available; the message says what was looked for and found.</exception>
    /// <exception cref="ModelGenException">The plan cannot run (as for <see cref="PlanExecutor"/>).</exception>
    public static IModelExecutor Create(
        ExecutionPlan plan, ModelWeights weights, Backend backend, out Backend active, out string deviceName)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(weights);
        var device = Resolve(plan, backend, out active, out deviceName);
        if (device is null) return new PlanExecutor(plan, weights);
        return new DeviceExecutor(plan, weights, device);
    }

    /// <summary>
    /// What <see cref="Create"/> would choose for <paramref name="plan"/>, without creating an
    /// executor (opening the device when it is a device backend).
    /// </summary>
    /// <exception cref="ModelGenDeviceException">An explicit device backend is not available.</exception>
    public static Backend Resolve(ExecutionPlan plan, Backend backend, out string deviceName)
    {
        ArgumentNullException.ThrowIfNull(plan);
        Resolve(plan, backend, out var active, out deviceName);
        return active;
    }

    /// <summary>True when <paramref name="backend"/> can run here; <paramref name="found"/> names the device, or what was found instead.</summary>
    public static bool IsAvailable(Backend backend, out string found)
    {
        switch (backend)
        {
            case Backend.Cpu:
                found = CpuDeviceName;
                return true;
            case Backend.Auto:
                found = "Auto always resolves";
                return true;
            default:
                return DeviceRegistry.TryGet(backend, out found) is not null;
        }
    }

    /// <summary>
    /// The steps of <paramref name="plan"/> that a device backend runs on their CPU kernel (warning
    /// MG1xxx), with the reason; empty when the whole plan runs on the device. Needs no device.
    /// </summary>
    public static IReadOnlyList<DeviceFallback> DeviceFallbacks(ExecutionPlan plan, ModelWeights weights)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(weights);
        var binder = new DeviceBinder(plan, weights, device: null);
        var result = new List<DeviceFallback>();
        for (int i = 0; i < plan.Steps.Length; i++)
        {
            if (binder.Bind(i, out string reason) is null)
            {
                result.Add(new DeviceFallback(i, plan.Steps[i].Op, plan.Steps[i].Name, reason));
            }
        }
        return result;
    }

    /// <summary>
    /// The backends <paramref name="plan"/>'s ops support wholly on the device: every backend when
    /// <see cref="DeviceFallbacks"/> is empty, otherwise only <see cref="Backend.Cpu"/> (device
    /// backends still run it, with those steps on the CPU).
    /// </summary>
    public static IReadOnlyList<Backend> SupportedBackends(ExecutionPlan plan, ModelWeights weights) =>
        DeviceFallbacks(plan, weights).Count == 0
            ? [Backend.Cpu, Backend.Cuda, Backend.OpenCL, Backend.IlgpuCpu]
            : [Backend.Cpu];

    /// <summary>
    /// The work of one call of <paramref name="plan"/> in FLOP: 2·M·N·K for Gemm/MatMul, 2 per
    /// multiply-add of Conv/ConvTranspose, and one per output element of every other step.
    /// </summary>
    public static long EstimateFlops(ExecutionPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        long total = 0;
        foreach (var step in plan.Steps)
        {
            long outputs = 0;
            foreach (int id in step.Outputs)
            {
                if (id >= 0) outputs += plan.Slots[id].ElementCount;
            }
            long work = outputs;
            if (step.Inputs.Length >= 2 && step.Inputs[0] >= 0 && step.Inputs[1] >= 0)
            {
                var a = plan.Slots[step.Inputs[0]];
                var w = plan.Slots[step.Inputs[1]];
                switch (step.Op)
                {
                    case "Gemm" when a.Shape.Length == 2:
                        work = 2 * outputs * (step.GetInt("transA", 0) != 0 ? a.Shape[0] : a.Shape[1]);
                        break;
                    case "MatMul" or "MatMulInteger" or "QLinearMatMul" when a.Shape.Length >= 1:
                        work = 2 * outputs * a.Shape[^1];
                        break;
                    case "Conv" or "QLinearConv" when w.Shape.Length >= 2:
                        work = 2 * outputs * (w.ElementCount / Math.Max(w.Shape[0], 1));
                        break;
                    case "ConvTranspose" when w.Shape.Length >= 2:
                        work = 2 * a.ElementCount * (w.ElementCount / Math.Max(w.Shape[0], 1));
                        break;
                }
            }
            total += work;
        }
        return total;
    }

    private static DeviceContext? Resolve(ExecutionPlan plan, Backend backend, out Backend active, out string deviceName)
    {
        switch (backend)
        {
            case Backend.Cpu:
                active = Backend.Cpu;
                deviceName = CpuDeviceName;
                return null;
            case Backend.Cuda or Backend.OpenCL or Backend.IlgpuCpu:
            {
                var device = DeviceRegistry.TryGet(backend, out string found);
                if (device is null)
                {
                    throw new ModelGenDeviceException(
                        $"Backend.{backend} was requested, but it is not available: looked for {LookedFor(backend)}; found {found}. "
                        + "Use Backend.Auto (or Backend.Cpu) to run where no such device exists.");
                }
                active = backend;
                deviceName = device.Name;
                return device;
            }
            case Backend.Auto:
            {
                active = Backend.Cpu;
                deviceName = CpuDeviceName;
                if (EstimateFlops(plan) < MinDeviceFlops) return null;
                var cuda = DeviceRegistry.TryGet(Backend.Cuda, out _);
                if (cuda is not null)
                {
                    active = Backend.Cuda;
                    deviceName = cuda.Name;
                    return cuda;
                }
                // Only an OpenCL GPU: an OpenCL CPU device (PoCL) is slower than the CPU kernels.
                var opencl = DeviceRegistry.TryGet(Backend.OpenCL, out _);
                if (opencl is { IsGpu: true })
                {
                    active = Backend.OpenCL;
                    deviceName = opencl.Name;
                    return opencl;
                }
                return null;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(backend), backend, "not a Backend value");
        }
    }

    private static string LookedFor(Backend backend) => backend switch
    {
        Backend.Cuda => "an NVIDIA GPU through the CUDA driver (libcuda)",
        Backend.OpenCL => "an OpenCL 2.0+ device with generic address space support through libOpenCL.so",
        _ => "ILGPU's CPU accelerator",
    };

    private static long ReadMinFlops()
    {
        string? text = Environment.GetEnvironmentVariable(MinFlopsVariable);
        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value) && value >= 0
            ? value
            : DefaultMinDeviceFlops;
    }
}
