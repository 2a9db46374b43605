using ModelGen.Runtime.Kernels.Conv;
using ModelGen.Runtime.Kernels.Elementwise;
using ModelGen.Runtime.Kernels.Gemm;
using ModelGen.Runtime.Kernels.Normalization;
using ModelGen.Runtime.Kernels.Reduce;
using ModelGen.Runtime.Kernels.Resize;
using ModelGen.Runtime.Kernels.Tensor;

namespace ModelGen.Runtime.Kernels;

/// <summary>Binds the kernel for a plan step by its ONNX op type; anything unsupported fails naming the op and step.</summary>
internal static class KernelFactory
{
    /// <summary>Every op type <see cref="Create"/> accepts.</summary>
    public static readonly IReadOnlySet<string> SupportedOps = new HashSet<string>(StringComparer.Ordinal)
    {
        "Gemm", "MatMul", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
        "BatchNormalization", "LRN", "InstanceNormalization",
        "Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "Pow",
        "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Elu", "Selu", "Exp", "Log", "Sqrt", "Neg", "Abs",
        "Erf", "Softplus", "HardSigmoid", "HardSwish", "Softmax", "LogSoftmax",
        "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout",
        "Transpose", "Concat", "ConstantOfShape", "Shape", "Gather", "Cast",
        "CastLike", "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "Split", "Slice", "Pad", "Where",
        "Less", "LessOrEqual", "Greater", "GreaterOrEqual", "Equal", "LayerNormalization", "Reciprocal", "Gelu", "PRelu",
        "Resize", "ConvTranspose", "Round",
        "QuantizeLinear", "DequantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "QLinearMatMul", "QLinearConv",
    };

    public static Kernel Create(BindContext c)
    {
        var step = c.Step;
        if (step.Find("activation") is not null && step.Op is not ("Conv" or "Gemm" or "MatMul"))
        {
            throw c.Fail("a fused activation is only supported on Conv, Gemm and MatMul");
        }
        if (step.Op == "Conv" && ConvResidual.Present(c) && (step.Find(Sparse.SparseKernels.Attribute) is not null || step.Find("quant") is not null))
        {
            throw c.Fail("a fused residual input is only supported on a float Conv (not a sparse or int8 one)");
        }
        // A weight the optimizer compressed (pruning): CSR or N:M kernels.
        if (step.Find(Sparse.SparseKernels.Attribute) is not null) return Sparse.SparseKernels.Create(c);
        // int8 compute (docs/quantization.md); without `quant`, int8/fp16 weights are read as fp32 by the float kernels.
        if (step.Find("quant") is not null) return Quantized.QuantizedKernels.Create(c);
        switch (step.Op)
        {
            case "Gemm": return new GemmKernel(c);
            case "MatMul": return new MatMulKernel(c);
            // The depthwise kernel has no residual epilogue; the general kernel takes groups too.
            case "Conv" when DepthwiseConvKernel.Applies(c) && !ConvResidual.Present(c): return new DepthwiseConvKernel(c);
            case "Conv" when WinogradConvKernel.Applies(c): return new WinogradConvKernel(c);
            case "Conv" when ChannelTileConvKernel.Applies(c): return new ChannelTileConvKernel(c);
            case "Conv" when DirectConvKernel.Applies(c): return new DirectConvKernel(c);
            case "Conv": return new ConvKernel(c);
            case "MaxPool" when c.HasOutput(1) || c.Input(0).Type != ElementType.Float: return new GeneralMaxPoolKernel(c);
            case "MaxPool": return new PoolKernel(c, max: true);
            case "AveragePool": return new PoolKernel(c, max: false);
            case "GlobalAveragePool": return new GlobalPoolKernel(c, max: false);
            case "GlobalMaxPool": return new GlobalPoolKernel(c, max: true);
            case "BatchNormalization": return new BatchNormKernel(c);
            case "LRN": return new LrnKernel(c);
            case "InstanceNormalization": return new InstanceNormKernel(c);

            case "Add": return Binary(c, new AddOp());
            case "Sub": return Binary(c, new SubOp());
            case "Mul": return Binary(c, new MulOp());
            case "Div": return Binary(c, new DivOp());
            case "Max": return Binary(c, new MaxOp());
            case "Min": return Binary(c, new MinOp());
            case "Sum": return Binary(c, new AddOp());
            case "Mean": return new BinaryKernel<AddOp>(c, new AddOp(), 1f / c.InputCount);
            case "Pow" when c.Input(0).Type != ElementType.Float || c.Input(1).Type != ElementType.Float: return new MixedPowKernel(c);
            case "Pow": return new BinaryKernel<PowOp>(c, new PowOp());

            case "Relu": return new UnaryKernel<ReluOp>(c, new ReluOp());
            case "LeakyRelu": return new UnaryKernel<LeakyReluOp>(c, new LeakyReluOp(step.GetFloat("alpha", 0.01f)));
            case "Sigmoid": return new UnaryKernel<SigmoidOp>(c, new SigmoidOp());
            case "Tanh": return new UnaryKernel<TanhOp>(c, new TanhOp());
            case "Clip": return Clip(c);
            case "Elu": return new UnaryKernel<EluOp>(c, new EluOp(step.GetFloat("alpha", 1f)));
            case "Selu": return new UnaryKernel<SeluOp>(c, new SeluOp(step.GetFloat("alpha", 1.67326319217681884765625f), step.GetFloat("gamma", 1.05070102214813232421875f)));
            case "Exp": return new UnaryKernel<ExpOp>(c, new ExpOp());
            case "Log": return new UnaryKernel<LogOp>(c, new LogOp());
            case "Sqrt": return new UnaryKernel<SqrtOp>(c, new SqrtOp());
            case "Neg" or "Abs" when c.Input(0).Type != ElementType.Float: return SignedUnary(c);
            case "Neg": return new UnaryKernel<NegOp>(c, new NegOp());
            case "Abs": return new UnaryKernel<AbsOp>(c, new AbsOp());
            case "Erf": return new UnaryKernel<ErfOp>(c, new ErfOp());
            case "Softplus": return new UnaryKernel<SoftplusOp>(c, new SoftplusOp());
            case "HardSigmoid": return new UnaryKernel<HardSigmoidOp>(c, new HardSigmoidOp(step.GetFloat("alpha", 0.2f), step.GetFloat("beta", 0.5f)));
            case "HardSwish": return new UnaryKernel<HardSwishOp>(c, new HardSwishOp());
            case "Softmax": return new SoftmaxKernel(c, log: false);
            case "LogSoftmax": return new SoftmaxKernel(c, log: true);

            case "Reshape" or "Flatten" or "Squeeze" or "Unsqueeze" or "Identity" or "Dropout": return new CopyKernel(c);
            case "Transpose": return new TransposeKernel(c);
            case "Concat": return new ConcatKernel(c);
            case "ConstantOfShape": return new ConstantOfShapeKernel(c);
            case "Shape": return new ShapeKernel(c);
            case "Gather": return new GatherKernel(c);
            case "Cast" or "CastLike" when NarrowCastKernel.Applies(c.Input(0).Type, c.Output(0).Type): return new NarrowCastKernel(c);
            case "Cast": return new CastKernel(c);
            case "CastLike": return new CastKernel(c);
            case "QuantizeLinear": return new Quantized.QuantizeLinearKernel(c);
            case "DequantizeLinear": return new Quantized.DequantizeLinearKernel(c);
            case "DynamicQuantizeLinear": return new Quantized.DynamicQuantizeLinearKernel(c);
            case "MatMulInteger": return new Quantized.MatMulIntegerKernel(c);
            case "QLinearMatMul": return new Quantized.QLinearMatMulKernel(c);
            case "QLinearConv": return new Quantized.QLinearConvKernel(c);
            case "ReduceSum": return ReduceKernels.Create(c, ReduceOp.Sum);
            case "ReduceMean": return ReduceKernels.Create(c, ReduceOp.Mean);
            case "ReduceMax": return ReduceKernels.Create(c, ReduceOp.Max);
            case "ReduceMin": return ReduceKernels.Create(c, ReduceOp.Min);
            case "ReduceProd": return ReduceKernels.Create(c, ReduceOp.Prod);
            case "Split": return new SplitKernel(c);
            case "Slice": return new SliceKernel(c);
            case "Pad": return new PadKernel(c);
            case "Where": return new WhereKernel(c);
            case "Less": return CompareKernels.Create(c, CompareOp.Less);
            case "LessOrEqual": return CompareKernels.Create(c, CompareOp.LessOrEqual);
            case "Greater": return CompareKernels.Create(c, CompareOp.Greater);
            case "GreaterOrEqual": return CompareKernels.Create(c, CompareOp.GreaterOrEqual);
            case "Equal": return CompareKernels.Create(c, CompareOp.Equal);
            case "LayerNormalization": return new LayerNormKernel(c);
            case "Reciprocal": return new UnaryKernel<ReciprocalOp>(c, new ReciprocalOp());
            case "Gelu": return GeluKernel(c);
            case "PRelu": return new BinaryKernel<PReluOp>(c, new PReluOp());
            case "Resize": return new ResizeKernel(c);
            case "ConvTranspose": return new ConvTransposeKernel(c);
            case "Round": return new UnaryKernel<RoundOp>(c, new RoundOp());
            default:
                throw c.Fail($"operator '{step.Op}' is not supported by the ModelGen CPU runtime (supported: {string.Join(", ", SupportedOps.Order(StringComparer.Ordinal))})");
        }
    }

    private static Kernel Binary<TOp>(BindContext c, TOp op) where TOp : struct, IBinaryOp
    {
        var type = c.Input(0).Type;
        if (type == ElementType.Float) return new BinaryKernel<TOp>(c, op);
        if (c.Step.Op is "Sum") throw c.Fail($"Sum supports only float, not {type.ToOnnxName()}");
        return type switch
        {
            ElementType.Int64 => new IntegerBinaryKernel<long>(c),
            ElementType.Int32 => new IntegerBinaryKernel<int>(c),
            ElementType.Double => new IntegerBinaryKernel<double>(c),
            ElementType.Float16 => new IntegerBinaryKernel<Half>(c),
            ElementType.Int16 => new IntegerBinaryKernel<short>(c),
            ElementType.Int8 => new IntegerBinaryKernel<sbyte>(c),
            ElementType.UInt8 => new IntegerBinaryKernel<byte>(c),
            ElementType.UInt16 => new IntegerBinaryKernel<ushort>(c),
            ElementType.UInt32 => new IntegerBinaryKernel<uint>(c),
            ElementType.UInt64 => new IntegerBinaryKernel<ulong>(c),
            _ => throw c.Fail($"{c.Step.Op} does not support {type.ToOnnxName()}"),
        };
    }

    private static Kernel SignedUnary(BindContext c) => c.Input(0).Type switch
    {
        ElementType.Int64 => new IntegerUnaryKernel<long>(c),
        ElementType.Int32 => new IntegerUnaryKernel<int>(c),
        ElementType.Int16 => new IntegerUnaryKernel<short>(c),
        ElementType.Int8 => new IntegerUnaryKernel<sbyte>(c),
        ElementType.Double => new IntegerUnaryKernel<double>(c),
        ElementType.Float16 => new IntegerUnaryKernel<Half>(c),
        var t => throw c.Fail($"{c.Step.Op} does not support {t.ToOnnxName()}"),
    };

    private static Kernel GeluKernel(BindContext c) => c.Step.GetString("approximate", "none") switch
    {
        "none" => new UnaryKernel<GeluOp>(c, new GeluOp()),
        "tanh" => new UnaryKernel<GeluTanhOp>(c, new GeluTanhOp()),
        var a => throw c.Fail($"Gelu approximate='{a}' is not supported (none, tanh)"),
    };

    private static unsafe Kernel Clip(BindContext c)
    {
        if (c.Input(0).Type != ElementType.Float && c.Opset >= 12) return new IntegerClipKernel(c);
        float min = float.NegativeInfinity, max = float.PositiveInfinity;
        if (c.Opset < 11)
        {
            min = c.Step.GetFloat("min", min);
            max = c.Step.GetFloat("max", max);
            return new UnaryKernel<ClipOp>(c, new ClipOp(min, max));
        }
        bool dynamic = false;
        for (int i = 1; i <= 2; i++)
        {
            if (!c.HasInput(i)) continue;
            if (c.Input(i).ElementCount != 1) throw c.Fail($"Clip bound input {i} must be a scalar");
            if (c.Input(i).Storage == SlotStorage.Arena) dynamic = true;
        }
        if (dynamic) return new DynamicClipKernel(c);
        if (c.HasInput(1)) min = *c.FloatInput(1);
        if (c.HasInput(2)) max = *c.FloatInput(2);
        return new UnaryKernel<ClipOp>(c, new ClipOp(min, max));
    }
}
