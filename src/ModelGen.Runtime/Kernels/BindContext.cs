using ModelGen.Runtime.Memory;

namespace ModelGen.Runtime.Kernels;

/// <summary>
/// What a kernel sees while binding: its step, the slots it reads and writes, their addresses,
/// scratch memory (owned by the executor, freed with it) and a way to fail with a message that
/// names the step.
/// </summary>
internal sealed unsafe class BindContext
{
    private readonly byte* _arena;
    private readonly byte* _weights;
    private readonly List<NativeBuffer> _scratch;
    private readonly StepWorkspace? _workspace;

    public BindContext(ExecutionPlan plan, int stepIndex, byte* arena, ModelWeights weights, List<NativeBuffer> scratch, StepWorkspace? workspace = null)
    {
        _workspace = workspace;
        Plan = plan;
        StepIndex = stepIndex;
        Step = plan.Steps[stepIndex];
        _arena = arena;
        Weights = weights;
        _weights = weights.Pointer;
        _scratch = scratch;
    }

    /// <summary>The model's weights (for buffers derived from them once and shared by every executor).</summary>
    public ModelWeights Weights { get; }

    public ExecutionPlan Plan { get; }
    public PlanStep Step { get; }
    public int StepIndex { get; }

    /// <summary>The ONNX opset the step was written for (attribute <c>opset</c>, default 13).</summary>
    public int Opset => (int)Step.GetInt("opset", 13);

    public int InputCount => Step.Inputs.Length;
    public int OutputCount => Step.Outputs.Length;

    /// <summary>True when input <paramref name="i"/> is given (present and not -1).</summary>
    public bool HasInput(int i) => i < Step.Inputs.Length && Step.Inputs[i] >= 0;

    /// <summary>True when output <paramref name="i"/> is wanted.</summary>
    public bool HasOutput(int i) => i < Step.Outputs.Length && Step.Outputs[i] >= 0;

    public TensorSlot Input(int i) => HasInput(i) ? Plan.Slots[Step.Inputs[i]] : throw Fail($"input {i} is required but missing");

    public TensorSlot Output(int i) => HasOutput(i) ? Plan.Slots[Step.Outputs[i]] : throw Fail($"output {i} is required but missing");

    /// <summary>The address of a slot's first byte.</summary>
    public byte* Address(TensorSlot slot) => (slot.Storage == SlotStorage.Weights ? _weights : _arena) + slot.Offset;

    public byte* InputPtr(int i) => Address(Input(i));
    public byte* OutputPtr(int i)
    {
        var slot = Output(i);
        if (slot.Storage == SlotStorage.Weights) throw Fail($"output '{slot.Name}' is in the read-only weights");
        return Address(slot);
    }

    /// <summary>
    /// A float input, checked for type. A float16 weight, or an int8 weight-only Conv/Gemm/MatMul
    /// weight with its scales, reads as its fp32 conversion (made once per <see cref="ModelWeights"/>).
    /// </summary>
    public float* FloatInput(int i)
    {
        var slot = Input(i);
        if (slot.Storage == SlotStorage.Weights && slot.Type is ElementType.Float16 or ElementType.Int8)
        {
            return Quantized.FloatWeights.Get(this, i);
        }
        return (float*)InputPtr(RequireType(i, ElementType.Float, input: true));
    }
    public float* FloatOutput(int i) => (float*)OutputPtr(RequireType(i, ElementType.Float, input: false));

    public int RequireType(int i, ElementType type, bool input)
    {
        var slot = input ? Input(i) : Output(i);
        if (slot.Type != type)
        {
            throw Fail($"{(input ? "input" : "output")} {i} ('{slot.Name}') is {slot.Type.ToOnnxName()}, but this kernel supports only {type.ToOnnxName()}");
        }
        return i;
    }

    /// <summary>Zeroed, 64-byte-aligned scratch memory that lives as long as the executor.</summary>
    public byte* Scratch(long bytes)
    {
        var buffer = new NativeBuffer(bytes);
        _scratch.Add(buffer);
        return buffer.Pointer;
    }

    /// <summary>
    /// The executor's <see cref="StepWorkspace"/>, shared by every step: reserve while binding, read its pointer per run.
    /// Contexts made only to ask a kernel whether it applies have none.
    /// </summary>
    public StepWorkspace Workspace => _workspace ?? throw new InvalidOperationException("this bind context has no workspace");

    /// <summary>An exception that names the step and says what is wrong.</summary>
    public ModelGenException Fail(string what) =>
        new($"Step {StepIndex} ({Step.Op} '{Step.Name}'): {what}.");

    /// <summary>Normalizes a possibly negative axis against <paramref name="rank"/>, failing when out of range.</summary>
    public int Axis(long axis, int rank, string attribute = "axis")
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw Fail($"attribute {attribute}={axis} is out of range for rank {rank}");
        return (int)a;
    }

    public static string ShapeText(int[] shape) => "[" + string.Join(",", shape) + "]";
}
