using Microsoft.ML.OnnxRuntime;

namespace ModelGen.Runtime.OnnxRuntime;

/// <summary>
/// An ONNX Runtime session over a model that ModelGen could not compile (the fallback engine).
/// One per model per process is enough: <c>InferenceSession</c> runs are thread-safe, and each
/// <see cref="OnnxRuntimeExecutor"/> brings its own buffers and binding.
/// </summary>
public sealed unsafe class OnnxRuntimeModel : IDisposable
{
    private readonly InferenceSession _session;

    /// <summary>Creates the session from the .onnx bytes that the optimizer put in the weights blob.</summary>
    /// <param name="onnx">The whole model file.</param>
    /// <param name="source">What the bytes are, for messages (the resource or file name).</param>
    /// <exception cref="ModelGenException">ONNX Runtime rejects the model or cannot be loaded.</exception>
    public OnnxRuntimeModel(ModelWeights onnx, string source)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        // InferenceSession wants a managed array; this copy happens once per process and model.
        byte[] bytes = new ReadOnlySpan<byte>(onnx.Pointer, checked((int)onnx.Length)).ToArray();
        try
        {
            using var options = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
            _session = new InferenceSession(bytes, options);
        }
        catch (Exception e) when (e is OnnxRuntimeException or DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            throw new ModelGenException(
                $"ONNX Runtime could not load {source}: {e.Message}. The model holds ops that ModelGen does not compile, so it needs " +
                "ONNX Runtime (Microsoft.ML.OnnxRuntime, a dependency of the ModelGen package) with its native library for this platform.", e);
        }
    }

    internal InferenceSession Session => _session;

    /// <summary>The device name a fallback predictor reports.</summary>
    public const string DeviceName = "ONNX Runtime (CPU)";

    /// <summary>
    /// The backend of a fallback predictor: ONNX Runtime runs on the CPU, so <see cref="Backend.Auto"/>
    /// and <see cref="Backend.Cpu"/> give <see cref="Backend.Cpu"/>, and a device backend is refused.
    /// </summary>
    /// <exception cref="ModelGenDeviceException">A device backend was asked for.</exception>
    public static Backend Resolve(Backend backend, out string deviceName)
    {
        if (backend is not (Backend.Auto or Backend.Cpu))
        {
            throw new ModelGenDeviceException(
                $"Backend.{backend} was requested, but this model holds ops ModelGen does not compile, so ONNX Runtime runs it, on the CPU only. " +
                "Use Backend.Auto or Backend.Cpu.");
        }
        deviceName = DeviceName;
        return Backend.Cpu;
    }

    /// <summary>Releases the session.</summary>
    public void Dispose() => _session.Dispose();
}
