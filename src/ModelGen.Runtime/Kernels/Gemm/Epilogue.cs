using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ModelGen.Runtime.Kernels.Elementwise;

namespace ModelGen.Runtime.Kernels.Gemm;

/// <summary>The activations the optimizer may fuse into Conv / Gemm / MatMul (attribute <c>activation</c>).</summary>
internal enum ActivationKind
{
    None,
    Relu,
    LeakyRelu,
    Sigmoid,
    Clip,
    Tanh,
}

/// <summary>
/// What the SGEMM core does to each finished output tile while it is still in registers:
/// y = act(alpha * (A·B) + [old C] + columnBias[j] + rowBias[i] + [residual]).
/// </summary>
internal unsafe struct Epilogue
{
    public float Alpha;
    /// <summary>Add the value already in C (Gemm with a C that was pre-filled as beta * C).</summary>
    public bool Accumulate;
    /// <summary>Per-column bias (length N, already scaled), or null.</summary>
    public float* ColumnBias;
    /// <summary>Per-row bias (length M; Conv's per-output-channel bias), or null.</summary>
    public float* RowBias;
    /// <summary>
    /// Add a residual tensor laid out like C (a fused Conv → Add): element <c>c[i]</c> gets <c>c[i + ResidualOffset]</c>
    /// added before the activation. An offset rather than a pointer, so it stays right for every unit's C of a conv.
    /// </summary>
    public bool HasResidual;
    /// <summary>The residual's distance from C, in floats (see <see cref="HasResidual"/>).</summary>
    public long ResidualOffset;
    public ActivationKind Activation;
    public float ActivationAlpha;
    public float ActivationMin;
    public float ActivationMax;

    /// <summary>
    /// The residual is C itself: the memory planner gave the output the residual's bytes (its last reader is this step).
    /// Every element's residual is read just before that element is stored, so a whole-K product adds it like any other;
    /// a product split into K slices instead keeps it as the sum the first slice adds to (<see cref="Sgemm.SliceOf"/>).
    /// </summary>
    public readonly bool ResidualInPlace => HasResidual && ResidualOffset == 0;

    /// <summary>
    /// This epilogue for the slices of a K-split product: an in-place residual is already in C's partial sum, so the
    /// last slice must not add it again.
    /// </summary>
    public readonly Epilogue ForSlices()
    {
        var e = this;
        if (ResidualInPlace) e.HasResidual = false;
        return e;
    }

    /// <summary>
    /// True when finishing a tile needs at most a row bias, a residual and Relu: what a conv's tile does, which the AVX2
    /// SGEMM tile then finishes in its own registers (<c>Sgemm.PutInline</c>) without the general epilogue's branches and calls.
    /// </summary>
    public readonly bool FinishesInline =>
        Alpha == 1f && !Accumulate && ColumnBias == null && (Activation == ActivationKind.None || Activation == ActivationKind.Relu);

    public static Epilogue Plain => new() { Alpha = 1f };

    /// <summary>Reads the fused-activation attributes of a step; fails for anything unknown.</summary>
    public static Epilogue FromStep(BindContext context)
    {
        var e = Plain;
        string name = context.Step.GetString("activation", "");
        e.Activation = name switch
        {
            "" => ActivationKind.None,
            "Relu" => ActivationKind.Relu,
            "LeakyRelu" => ActivationKind.LeakyRelu,
            "Sigmoid" => ActivationKind.Sigmoid,
            "Clip" => ActivationKind.Clip,
            "Tanh" => ActivationKind.Tanh,
            _ => throw context.Fail($"fused activation '{name}' is not supported (supported: Relu, LeakyRelu, Sigmoid, Clip, Tanh)"),
        };
        e.ActivationAlpha = context.Step.GetFloat("activation_alpha", 0.01f);
        e.ActivationMin = context.Step.GetFloat("activation_min", float.NegativeInfinity);
        e.ActivationMax = context.Step.GetFloat("activation_max", float.PositiveInfinity);
        return e;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Vector256<float> Activate(Vector256<float> v) => Activation switch
    {
        ActivationKind.None => v,
        ActivationKind.Relu => new ReluOp().Invoke(v),
        ActivationKind.LeakyRelu => new LeakyReluOp(ActivationAlpha).Invoke(v),
        ActivationKind.Sigmoid => new SigmoidOp().Invoke(v),
        ActivationKind.Clip => new ClipOp(ActivationMin, ActivationMax).Invoke(v),
        _ => new TanhOp().Invoke(v),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly Vector512<float> Activate(Vector512<float> v) => Activation switch
    {
        ActivationKind.None => v,
        ActivationKind.Relu => new ReluOp().Invoke(v),
        ActivationKind.LeakyRelu => new LeakyReluOp(ActivationAlpha).Invoke(v),
        ActivationKind.Sigmoid => new SigmoidOp().Invoke(v),
        ActivationKind.Clip => new ClipOp(ActivationMin, ActivationMax).Invoke(v),
        _ => new TanhOp().Invoke(v),
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly float Activate(float v) => Activation switch
    {
        ActivationKind.None => v,
        ActivationKind.Relu => new ReluOp().Invoke(v),
        ActivationKind.LeakyRelu => new LeakyReluOp(ActivationAlpha).Invoke(v),
        ActivationKind.Sigmoid => new SigmoidOp().Invoke(v),
        ActivationKind.Clip => new ClipOp(ActivationMin, ActivationMax).Invoke(v),
        _ => new TanhOp().Invoke(v),
    };

    /// <summary>Applies the activation to a whole buffer (paths that cannot fuse it, e.g. when K is split).</summary>
    public readonly void ActivateInPlace(float* y, long n)
    {
        switch (Activation)
        {
            case ActivationKind.None: break;
            case ActivationKind.Relu: UnaryLoop.Run(new ReluOp(), y, y, n); break;
            case ActivationKind.LeakyRelu: UnaryLoop.Run(new LeakyReluOp(ActivationAlpha), y, y, n); break;
            case ActivationKind.Sigmoid: UnaryLoop.Run(new SigmoidOp(), y, y, n); break;
            case ActivationKind.Clip: UnaryLoop.Run(new ClipOp(ActivationMin, ActivationMax), y, y, n); break;
            default: UnaryLoop.Run(new TanhOp(), y, y, n); break;
        }
    }
}
