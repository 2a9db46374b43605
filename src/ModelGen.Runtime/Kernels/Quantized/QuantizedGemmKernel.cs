using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels.Gemm;

namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// int8-compute Gemm and MatMul (attribute <c>quant</c>; docs/quantization.md): the fp32 input A
/// is quantized to uint8 on every call, multiplied with the int8 weight B (packed once here) in
/// int32, and finished in fp32 with scale, bias and the fused activation. Gemm: transA and transB
/// both ways, alpha, and C as a scalar, [N] or [1,N] (times beta). MatMul: A of any rank (its
/// leading dims fold into M) times a 2-D B, with the optional fused bias [N].
/// </summary>
internal sealed unsafe class QuantizedGemmKernel : Kernel
{
    private readonly Int8GemmJob _job = new();
    private readonly ActivationQuantization _quantization;
    private readonly PackedInt8Weights _weights;
    private readonly float* _a;
    private readonly long _aRowStride, _aColStride, _aCount;
    private readonly int _m, _k;
    private readonly float _alpha = 1f;
    // Set while binding the bias; _c only when C lives in the arena (the bias is then refilled per call).
    private float* _c;
    private bool _scalarC;
    private float _beta = 1f;

    public QuantizedGemmKernel(BindContext context)
    {
        var aSlot = context.Input(0);
        var bSlot = context.Input(1);
        var ySlot = context.Output(0);
        var layout = Int8WeightLayout.Bind(context, 1);
        _quantization = ActivationQuantization.FromStep(context);
        int[] a = aSlot.Shape, b = bSlot.Shape;
        bool gemm = context.Step.Op == "Gemm";
        int n;
        bool transB = false;
        if (gemm)
        {
            if (a.Length != 2 || b.Length != 2) throw context.Fail($"A and B must be 2-D, but they are {BindContext.ShapeText(a)} and {BindContext.ShapeText(b)}");
            bool transA = context.Step.GetInt("transA", 0) != 0;
            transB = context.Step.GetInt("transB", 0) != 0;
            _m = transA ? a[1] : a[0];
            _k = transA ? a[0] : a[1];
            n = transB ? b[0] : b[1];
            if ((transB ? b[1] : b[0]) != _k) throw context.Fail($"inner dimensions differ: A{BindContext.ShapeText(a)} (transA={(transA ? 1 : 0)}) and B{BindContext.ShapeText(b)} (transB={(transB ? 1 : 0)})");
            _aRowStride = transA ? 1 : _k;
            _aColStride = transA ? _m : 1;
            _alpha = context.Step.GetFloat("alpha", 1f);
            _beta = context.Step.GetFloat("beta", 1f);
        }
        else
        {
            if (b.Length != 2) throw context.Fail($"int8 MatMul supports a 2-D weight B [K,N], not {BindContext.ShapeText(b)}; keep this MatMul in fp32");
            if (a.Length == 0) throw context.Fail("MatMul operands must have rank >= 1");
            _k = a[^1];
            _m = checked((int)(aSlot.ElementCount / Math.Max(_k, 1)));
            n = b[1];
            if (b[0] != _k) throw context.Fail($"inner dimensions differ: A{BindContext.ShapeText(a)} and B{BindContext.ShapeText(b)}");
            _aRowStride = _k;
            _aColStride = 1;
        }
        if (ySlot.ElementCount != (long)_m * n) throw context.Fail($"output {BindContext.ShapeText(ySlot.Shape)} does not hold {_m}x{n} results");
        _a = context.FloatInput(0);
        _aCount = aSlot.ElementCount;

        sbyte* weight = (sbyte*)context.Address(bSlot);
        _weights = transB
            ? new PackedInt8Weights(context, weight, 1, _k, _k, n, layout.Scales)
            : new PackedInt8Weights(context, weight, n, 1, _k, n, layout.Scales);
        _weights.SetActivationScale(_quantization.Scale, _alpha);

        int kp = Int8Packing.PaddedK(_k);
        _job.A = context.Scratch((long)_m * kp);
        _job.Lda = kp;
        _job.M = _m;
        _job.N = n;
        _job.Kp = kp;
        _job.PackedB = _weights.Packed;
        _job.Epilogue = new Int8Epilogue
        {
            ColumnSums = _weights.ColumnSums,
            ZeroPoint = _quantization.ZeroPoint,
            Multipliers = _weights.Multipliers,
            Activation = Epilogue.FromStep(context),
            Y = context.FloatOutput(0),
            RowStride = n,
            ColStride = 1,
        };
        if (context.HasInput(2) && _beta != 0f) BindBias(context, n, gemm);
    }

    private void BindBias(BindContext context, int n, bool gemm)
    {
        var slot = context.Input(2);
        int[] s = slot.Shape;
        bool scalar = gemm && slot.ElementCount == 1;
        bool row = (s.Length == 1 && s[0] == n) || (s.Length == 2 && s[0] == 1 && s[1] == n);
        if (!scalar && !row)
        {
            throw context.Fail(gemm
                ? $"int8 Gemm supports C as a scalar, [N] or [1,N] (N = {n}), not {BindContext.ShapeText(s)}"
                : $"fused bias '{slot.Name}' has shape {BindContext.ShapeText(s)}, expected [{n}]");
        }
        float* c = context.FloatInput(2);
        float* bias = (float*)context.Scratch(Int8Packing.PaddedN(n) * sizeof(float));
        _job.Epilogue.Bias = bias;
        float beta = gemm ? _beta : 1f;
        for (int j = 0; j < n; j++) bias[j] = beta * (scalar ? c[0] : c[j]);
        if (slot.Storage == SlotStorage.Arena)
        {
            // C is computed by an earlier step: refill the scaled bias on every call.
            _c = c;
            _scalarC = scalar;
            _beta = beta;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        var q = _quantization;
        if (q.IsDynamic)
        {
            q.Resolve(_a, _aCount);
            _weights.SetActivationScale(q.Scale, _alpha);
            _job.Epilogue.ZeroPoint = q.ZeroPoint;
        }
        if (_c != null)
        {
            float* bias = _job.Epilogue.Bias;
            for (int j = 0; j < _job.N; j++) bias[j] = _beta * (_scalarC ? _c[0] : _c[j]);
        }
        ActivationQuantizer.QuantizeRows(_a, _aRowStride, _aColStride, _m, _k, q.Scale, q.ZeroPoint, _job.A, _job.Lda);
        _job.Run();
    }
}
