using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Gemm;

/// <summary>
/// ONNX Gemm: Y = alpha·A'·B' + beta·C (A' = transA ? Aᵀ : A, likewise B'), with C broadcast from a
/// scalar, [N], [1,N], [M,1] or [M,N], and an optional fused activation. Weight operands are
/// packed once here; the rest are packed per call into scratch memory allocated here.
/// </summary>
internal sealed unsafe class GemmKernel : Kernel
{
    private enum BiasKind { None, Column, Row, Full }

    private readonly SgemmJob _job = new();
    private readonly SgemvJob? _gemv; // M = 1: the matrix-vector path, which reads A in place
    private readonly float* _a;
    private readonly float* _b;
    private readonly long _aRowStride, _aColStride, _bRowStride, _bColStride;
    private readonly bool _packAPerCall, _packBPerCall;
    private readonly BiasKind _biasKind;
    private readonly float* _c;          // the C input
    private readonly float* _biasBuffer; // scaled bias filled per call (C in the arena, beta != 1)
    private readonly long _biasLength;
    private readonly bool _scalarC;
    private readonly float _beta;

    public GemmKernel(BindContext context)
    {
        var aSlot = context.Input(0);
        var bSlot = context.Input(1);
        var ySlot = context.Output(0);
        if (aSlot.Shape.Length != 2 || bSlot.Shape.Length != 2)
        {
            throw context.Fail($"A and B must be 2-D, but they are {BindContext.ShapeText(aSlot.Shape)} and {BindContext.ShapeText(bSlot.Shape)}");
        }
        bool transA = context.Step.GetInt("transA", 0) != 0;
        bool transB = context.Step.GetInt("transB", 0) != 0;
        int m = transA ? aSlot.Shape[1] : aSlot.Shape[0];
        int k = transA ? aSlot.Shape[0] : aSlot.Shape[1];
        int kb = transB ? bSlot.Shape[1] : bSlot.Shape[0];
        int n = transB ? bSlot.Shape[0] : bSlot.Shape[1];
        if (k != kb)
        {
            throw context.Fail($"inner dimensions differ: A{BindContext.ShapeText(aSlot.Shape)} (transA={(transA ? 1 : 0)}) and B{BindContext.ShapeText(bSlot.Shape)} (transB={(transB ? 1 : 0)})");
        }
        if (ySlot.ElementCount != (long)m * n || ySlot.Shape.Length != 2)
        {
            throw context.Fail($"output shape {BindContext.ShapeText(ySlot.Shape)} is not [{m},{n}]");
        }
        _a = context.FloatInput(0);
        _b = context.FloatInput(1);
        _aRowStride = transA ? 1 : k;
        _aColStride = transA ? m : 1;
        _bRowStride = transB ? 1 : n;
        _bColStride = transB ? k : 1;

        _job.M = m;
        _job.N = n;
        _job.K = k;
        _job.C = context.FloatOutput(0);
        _job.Ldc = n;
        _job.Epilogue = Epilogue.FromStep(context);
        _job.Epilogue.Alpha = context.Step.GetFloat("alpha", 1f);
        _beta = context.Step.GetFloat("beta", 1f);

        if (m == 1)
        {
            // One row of A is contiguous whatever transA says (element p is at a[p]), so it needs no packing.
            _gemv = new SgemvJob(_job) { X = _a };
        }
        else
        {
            _packAPerCall = aSlot.Storage == SlotStorage.Arena;
            _job.AllocatePackedA(context, _packAPerCall);
            if (!_packAPerCall) Sgemm.PackA(_a, _aRowStride, _aColStride, m, k, _job.PackedA);
        }
        _packBPerCall = bSlot.Storage == SlotStorage.Arena;
        if (_packBPerCall)
        {
            _job.PackedB = (float*)context.Scratch(Sgemm.PackedBSize(k, n) * 4);
        }
        else
        {
            // Packed weights depend only on the weights, so every executor of the model shares one
            // copy: predictor instances, and the batch sizes of a batched predictor.
            float* b = _b;
            long bRow = _bRowStride, bCol = _bColStride;
            _job.PackedB = (float*)context.Weights.Derived(
                $"gemm-packed-b@{bSlot.Offset}:{bSlot.Type}:{k}x{n}:{(transB ? 1 : 0)}", Sgemm.PackedBSize(k, n) * 4,
                target => Sgemm.PackB(b, bRow, bCol, k, n, (float*)target));
        }

        if (!context.HasInput(2) || _beta == 0f) return;
        var cSlot = context.Input(2);
        _c = context.FloatInput(2);
        int[] cs = cSlot.Shape;
        if (cSlot.ElementCount == 1)
        {
            _scalarC = true;
            _biasKind = BiasKind.Column;
            _biasLength = n;
        }
        else if ((cs.Length == 1 && cs[0] == n) || (cs.Length == 2 && cs[0] == 1 && cs[1] == n))
        {
            _biasKind = BiasKind.Column;
            _biasLength = n;
        }
        else if (cs.Length == 2 && cs[0] == m && cs[1] == 1)
        {
            _biasKind = BiasKind.Row;
            _biasLength = m;
        }
        else if (cs.Length == 2 && cs[0] == m && cs[1] == n)
        {
            _biasKind = BiasKind.Full;
        }
        else
        {
            throw context.Fail($"C{BindContext.ShapeText(cs)} does not broadcast to [{m},{n}]");
        }
        if (_biasKind is BiasKind.Column or BiasKind.Row)
        {
            float* bias;
            if (_beta == 1f && !_scalarC)
            {
                bias = _c; // use C in place, wherever it lives
            }
            else
            {
                _biasBuffer = (float*)context.Scratch(_biasLength * 4);
                bias = _biasBuffer;
                if (cSlot.Storage == SlotStorage.Weights) FillBias();
                if (cSlot.Storage == SlotStorage.Weights) _biasBuffer = null; // filled once; nothing per call
            }
            if (_biasKind == BiasKind.Column) _job.Epilogue.ColumnBias = bias;
            else _job.Epilogue.RowBias = bias;
        }
        else
        {
            _job.Epilogue.Accumulate = true;
        }
    }

    private void FillBias()
    {
        float* target = _biasKind == BiasKind.Column ? _job.Epilogue.ColumnBias : _job.Epilogue.RowBias;
        target = target != null ? target : _biasBuffer;
        for (long i = 0; i < _biasLength; i++) target[i] = _beta * (_scalarC ? _c[0] : _c[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        int m = _job.M, n = _job.N, k = _job.K;
        if (_packBPerCall) Sgemm.PackB(_b, _bRowStride, _bColStride, k, n, _job.PackedB);
        if (_biasBuffer != null) FillBias();
        if (_biasKind == BiasKind.Full)
        {
            float* y = _job.C;
            long count = (long)m * n;
            for (long i = 0; i < count; i++) y[i] = _beta * _c[i];
        }
        if (_gemv != null) _gemv.Run();
        else if (_packAPerCall) _job.PackAndRun(_a, _aRowStride, _aColStride);
        else _job.Run();
    }
}
