using ModelGen.Onnx;
using ModelGen.Optimizer.Planning;
using ModelGen.Runtime;
using ModelGen.Runtime.Devices;
using ModelGen.Spec;

namespace ModelGen.Optimizer.Devices;

/// <summary>
/// Which backends a compiled model's ops run on: every step with an ILGPU kernel runs on a device;
/// any other runs on its CPU kernel, with copies to and from the host, when the predictor is on
/// Cuda, OpenCL or IlgpuCpu. The build prints it for every model, and warns when the item's
/// Backend is a device and some steps fall back.
/// </summary>
internal static class DeviceSupport
{
    /// <summary>The steps that device backends run on the CPU (empty for a model ONNX Runtime runs: it has no steps).</summary>
    public static IReadOnlyList<DeviceFallback> Fallbacks(CompiledModel compiled)
    {
        if (compiled.Spec.Engine == ModelSpec.OnnxRuntimeEngine) return Array.Empty<DeviceFallback>();
        var plan = SpecToPlan.Convert(compiled.Spec);
        using var weights = ModelWeights.FromBytes(compiled.Weights);
        return ModelExecutors.DeviceFallbacks(plan, weights);
    }

    /// <summary>One line for the build log: where the model's ops run.</summary>
    public static string Summary(string name, CompiledModel compiled, IReadOnlyList<DeviceFallback> fallbacks)
    {
        if (compiled.Spec.Engine == ModelSpec.OnnxRuntimeEngine) return $"ModelGen: {name} backends: Cpu (ONNX Runtime runs it)";
        if (fallbacks.Count == 0) return $"ModelGen: {name} backends: Cpu, Cuda, OpenCL, IlgpuCpu (every step has a device kernel)";
        return $"ModelGen: {name} backends: Cpu; on Cuda, OpenCL and IlgpuCpu {Describe(fallbacks)} run on the CPU";
    }

    /// <summary>Warning MG1050 when <paramref name="backend"/> is a device and some steps fall back to the CPU.</summary>
    public static Diagnostic? Warning(Backend backend, IReadOnlyList<DeviceFallback> fallbacks, string path)
    {
        if (backend is Backend.Auto or Backend.Cpu || fallbacks.Count == 0) return null;
        return new Diagnostic(ErrorCodes.DeviceFallback, path,
            $"Backend=\"{backend}\": {Describe(fallbacks)} {(fallbacks.Count == 1 ? "has" : "have")} no device kernel and will run on the CPU, " +
            "with copies to and from the device around them; the rest of the plan runs on the device.");
    }

    private static string Describe(IReadOnlyList<DeviceFallback> fallbacks)
    {
        var shown = fallbacks.Take(8).Select(f => $"{f.Op} (step '{f.Name}')");
        string text = string.Join(", ", shown);
        return fallbacks.Count > 8 ? $"{text} and {fallbacks.Count - 8} more steps" : text;
    }
}
