// The model spec: what the optimizer tells the source generator about a compiled model.
// It holds shapes, types, the execution plan and offsets, never weight values.
namespace ModelGen.Spec;

/// <summary>Where a tensor slot lives at run time.</summary>
internal enum SlotStorage
{
    /// <summary>In the per-predictor arena, at a byte offset chosen by the memory planner.</summary>
    Arena,

    /// <summary>In the read-only weights blob, at a byte offset.</summary>
    Weights,
}

/// <summary>The kind of a step attribute, mirroring ONNX's AttributeProto types we keep.</summary>
internal enum SpecAttributeKind
{
    Int,
    Float,
    String,
    Ints,
    Floats,
}

/// <summary>A whole compiled model: the contents of one <c>.mgspec</c> file.</summary>
/// <param name="Name">The model's name (the class name the optimizer was given).</param>
/// <param name="Source">The source model's file name.</param>
/// <param name="SourceSha256">SHA-256 of the source .onnx bytes, lower-case hex.</param>
/// <param name="WeightsSha256">SHA-256 of the weights blob, lower-case hex.</param>
/// <param name="WeightsBytes">Length of the weights blob.</param>
/// <param name="ArenaBytes">Bytes of scratch memory the plan needs (the planner's high-water mark).</param>
internal sealed record ModelSpec(
    string Name,
    string Source,
    string SourceSha256,
    string WeightsSha256,
    long WeightsBytes,
    long ArenaBytes,
    long IrVersion,
    long Opset,
    string Producer,
    string ProducerVersion,
    string Doc,
    EquatableArray<SlotSpec> Slots,
    EquatableArray<TensorRefSpec> Inputs,
    EquatableArray<TensorRefSpec> Outputs,
    EquatableArray<StepSpec> Steps)
{
    /// <summary>
    /// What runs the model: <see cref="ModelSpec.CompiledEngine"/> (the plan's steps on ModelGen's
    /// kernels) or <see cref="ModelSpec.OnnxRuntimeEngine"/> (the graph holds ops ModelGen does not
    /// compile, so the weights blob is the optimized .onnx file and ONNX Runtime runs it; the plan
    /// then has input and output slots only, and no steps).
    /// </summary>
    public string Engine { get; init; } = CompiledEngine;

    /// <summary>
    /// The largest batch the generated <c>Predict(int batchSize, ...)</c> accepts; 0 when the model
    /// has no symbolic batch dimension (and so no batched overload).
    /// </summary>
    public int MaxBatch { get; init; }

    /// <summary>The <see cref="Engine"/> of a plan that ModelGen's own kernels run.</summary>
    public const string CompiledEngine = "modelgen";

    /// <summary>The <see cref="Engine"/> of a model that ONNX Runtime runs (the fallback).</summary>
    public const string OnnxRuntimeEngine = "onnxruntime";
}

/// <summary>One tensor of the plan: its type, static shape and where its bytes live.</summary>
/// <param name="ElementType">ONNX element type name: float, float16, double, int8, uint8,
/// int16, uint16, int32, uint32, int64, uint64, bool.</param>
internal sealed record SlotSpec(
    int Id,
    string Name,
    string ElementType,
    EquatableArray<int> Shape,
    SlotStorage Storage,
    long Offset)
{
    /// <summary>
    /// The axis whose size is multiplied by the batch size (the shape holds one sample's size
    /// there), or -1 when the slot does not grow with the batch.
    /// </summary>
    public int BatchAxis { get; init; } = -1;
}

/// <summary>A graph input or output: the tensor's name in the model and its slot.</summary>
internal sealed record TensorRefSpec(string Name, int Slot, string Doc);

/// <summary>One step of the plan: an ONNX operator (possibly with fused epilogues) over slots.</summary>
/// <param name="Inputs">Slot ids; -1 marks an omitted optional input.</param>
internal sealed record StepSpec(
    string Op,
    string Name,
    EquatableArray<int> Inputs,
    EquatableArray<int> Outputs,
    EquatableArray<AttributeSpec> Attributes);

/// <summary>A step attribute. Only the field matching <see cref="Kind"/> is meaningful.</summary>
internal sealed record AttributeSpec(
    string Name,
    SpecAttributeKind Kind,
    long Int,
    float Float,
    string String,
    EquatableArray<long> Ints,
    EquatableArray<float> Floats)
{
    public static AttributeSpec OfInt(string name, long value) =>
        new(name, SpecAttributeKind.Int, value, 0, "", EquatableArray<long>.Empty, EquatableArray<float>.Empty);

    public static AttributeSpec OfFloat(string name, float value) =>
        new(name, SpecAttributeKind.Float, 0, value, "", EquatableArray<long>.Empty, EquatableArray<float>.Empty);

    public static AttributeSpec OfString(string name, string value) =>
        new(name, SpecAttributeKind.String, 0, 0, value, EquatableArray<long>.Empty, EquatableArray<float>.Empty);

    public static AttributeSpec OfInts(string name, IEnumerable<long> values) =>
        new(name, SpecAttributeKind.Ints, 0, 0, "", values.ToEquatableArray(), EquatableArray<float>.Empty);

    public static AttributeSpec OfFloats(string name, IEnumerable<float> values) =>
        new(name, SpecAttributeKind.Floats, 0, 0, "", EquatableArray<long>.Empty, values.ToEquatableArray());
}
