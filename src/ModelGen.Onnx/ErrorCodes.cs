namespace ModelGen.Onnx;

/// <summary>
/// The MG1xxx codes of the optimizer and the build. Each kind of bad input has its own code, so
/// that a CI log (and a test) can tell them apart. The CLI prints them in MSBuild's canonical
/// error format, and the build task turns them into errors with file and line.
/// </summary>
public static class ErrorCodes
{
    /// <summary>The model file (or a file it refers to) does not exist.</summary>
    public const string FileNotFound = "MG1001";

    /// <summary>The bytes are not a valid ONNX ModelProto.</summary>
    public const string CorruptModel = "MG1002";

    /// <summary>The file ends in the middle of a protobuf message.</summary>
    public const string TruncatedModel = "MG1003";

    /// <summary>The graph uses an operator (or attribute value) that the runtime does not implement.</summary>
    public const string UnsupportedOp = "MG1004";

    /// <summary>Shapes or element types of connected values do not agree.</summary>
    public const string ShapeMismatch = "MG1005";

    /// <summary>The graph is structurally invalid: undefined values, cycles, missing graph, duplicate outputs.</summary>
    public const string InvalidGraph = "MG1006";

    /// <summary>An external-data path is absolute or escapes the model's folder, or the data is missing or short.</summary>
    public const string BadExternalData = "MG1007";

    /// <summary>A tensor uses an element type we cannot load (strings, complex, float8, …).</summary>
    public const string UnsupportedType = "MG1008";

    /// <summary>Bad command-line arguments or item metadata.</summary>
    public const string BadArguments = "MG1010";

    /// <summary>The outputs could not be written.</summary>
    public const string OutputError = "MG1011";

    /// <summary>A dimension could not be resolved to a static size.</summary>
    public const string DynamicShape = "MG1012";

    /// <summary>The model imports an opset of the default domain newer than ModelGen implements.</summary>
    public const string UnsupportedOpset = "MG1014";

    /// <summary>A node lacks an attribute its operator requires (Cast without 'to', Concat without 'axis', …).</summary>
    public const string MissingAttribute = "MG1015";

    /// <summary>A tensor's data holds more or fewer elements than its dims say.</summary>
    public const string TensorDataMismatch = "MG1016";

    /// <summary>
    /// Warning: the graph holds ops ModelGen does not compile, so the predictor runs the model
    /// through ONNX Runtime (the <c>Fallback="OnnxRuntime"</c> default); it names each op and node.
    /// </summary>
    public const string OnnxRuntimeFallback = "MG1017";

    /// <summary>Warning: a lossy option (Quantize, Prune, LowRank) was ignored because ONNX Runtime runs the model.</summary>
    public const string LossyIgnoredOnFallback = "MG1018";

    /// <summary>
    /// Warning: the batch dimension is symbolic, but the graph's computation depends on its value,
    /// so <c>Predict(batchSize, ...)</c> runs one sample at a time (or is not generated at all).
    /// </summary>
    public const string BatchNotPolymorphic = "MG1019";

    /// <summary>
    /// Warning: the item's Backend is a device (Cuda, OpenCL, IlgpuCpu), and some steps have no
    /// device kernel, so they run on the CPU with copies around them; it names each.
    /// </summary>
    public const string DeviceFallback = "MG1050";

    /// <summary>An unexpected failure inside ModelGen (a bug): the message says how to report it.</summary>
    public const string InternalError = "MG1099";
}
