using System.Collections.Immutable;
using System.Reflection;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.IL;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;

namespace ModelGen.Runtime.Devices;

/// <summary>
/// A launch on ILGPU's CPU accelerator that allocates nothing. ILGPU 1.5.3's generated CPU
/// launcher builds a new task object (the kernel's arguments as fields, about 112 bytes) on every
/// call and hands it to the internal <c>CPUAccelerator.Launch(CPUAcceleratorTask)</c>. Our
/// launches always pass the same arguments, so the task is built once here, the same way the
/// launcher builds it, and handed to that method directly.
/// <para>
/// Two tasks alternate: the accelerator's worker threads wait for a task that differs, by
/// reference, from the one they ran last, so the same object twice in a row would never start.
/// </para>
/// <para>
/// The members used are internal to ILGPU; they are looked up once, and if any is missing (another
/// ILGPU version) <see cref="TryCreate"/> returns null and the caller keeps ILGPU's own launcher,
/// correct but allocating (the allocation test then says so).
/// </para>
/// </summary>
internal sealed class CpuTaskLaunch : BoundLaunch
{
    private const BindingFlags Internal = BindingFlags.Instance | BindingFlags.NonPublic;
    private static readonly PropertyInfo? EntryPointProperty = typeof(CompiledKernel).GetProperty("EntryPoint", Internal);
    private static readonly PropertyInfo? TaskTypeProperty = typeof(ILCompiledKernel).GetProperty("TaskType", Internal);
    private static readonly PropertyInfo? TaskFieldsProperty = typeof(ILCompiledKernel).GetProperty("TaskArgumentMapping", Internal);
    private static readonly MethodInfo? LaunchMethod = typeof(CPUAccelerator).GetMethod("Launch", Internal, [typeof(CPUAcceleratorTask)]);

    private readonly Action<CPUAcceleratorTask> _launch;
    private readonly CPUAcceleratorTask _first, _second;
    private bool _useSecond;

    private CpuTaskLaunch(Action<CPUAcceleratorTask> launch, CPUAcceleratorTask first, CPUAcceleratorTask second)
    {
        _launch = launch;
        _first = first;
        _second = second;
    }

    /// <summary>Runs the kernel to completion (the CPU accelerator's launches are synchronous).</summary>
    public override void Launch()
    {
        var task = _useSecond ? _second : _first;
        _useSecond = !_useSecond;
        _launch(task);
    }

    /// <summary>
    /// The pre-built launch of <paramref name="kernel"/> (a launcher loaded on
    /// <paramref name="accelerator"/>) with these arguments, or null where it cannot be built;
    /// then ILGPU's launcher is used.
    /// </summary>
    public static CpuTaskLaunch? TryCreate<T>(
        CPUAccelerator accelerator, Delegate kernel, KernelConfig config, ArrayView<float> memory, T parameters)
        where T : unmanaged
    {
        if (EntryPointProperty is null || TaskTypeProperty is null || TaskFieldsProperty is null || LaunchMethod is null) return null;
        if (kernel.Target is not CPUKernel { CompiledKernel: ILCompiledKernel compiled }) return null;
        if (EntryPointProperty.GetValue(compiled) is not EntryPoint entry || entry.IsImplictlyGrouped) return null;
        if (TaskTypeProperty.GetValue(compiled) is not Type taskType) return null;
        if (TaskFieldsProperty.GetValue(compiled) is not ImmutableArray<FieldInfo> fields
            || fields.Length != 2 || fields[0].FieldType != typeof(ArrayView<float>) || fields[1].FieldType != typeof(T))
        {
            return null;
        }
        // The launcher verifies the bounds on every call; out-of-range configurations keep it, and its error.
        if (!config.IsValid || !Within(config.GridDim, accelerator.MaxGridSize) || !Within(config.GroupDim, accelerator.MaxGroupSize))
        {
            return null;
        }
        // As the launcher: the user's configuration plus the kernel's shared-memory needs.
        var shared = new SharedMemorySpecification(entry.SharedMemory.StaticSize, entry.SharedMemory.HasDynamicMemory);
        var runtime = new RuntimeKernelConfig(config, shared);
        var constructor = CPUAcceleratorTask.GetTaskConstructor(taskType);
        CPUAcceleratorTask Build()
        {
            var task = (CPUAcceleratorTask)constructor.Invoke([compiled.ExecutionHandler, config, runtime]);
            fields[0].SetValue(task, memory);
            fields[1].SetValue(task, parameters);
            return task;
        }
        var launch = LaunchMethod.CreateDelegate<Action<CPUAcceleratorTask>>(accelerator);
        return new CpuTaskLaunch(launch, Build(), Build());
    }

    private static bool Within(Index3D value, Index3D max) => value.X <= max.X && value.Y <= max.Y && value.Z <= max.Z;
}
