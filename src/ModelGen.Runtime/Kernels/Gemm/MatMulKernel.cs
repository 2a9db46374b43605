using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Gemm;

/// <summary>
/// ONNX MatMul (numpy matmul): batched over broadcast leading dims, 1-D operands promoted and the
/// added dim removed; optionally a fused bias of length N (third input, from MatMul+Add) and a
/// fused activation. When B has no batch dims and A is contiguous, A's batch folds into M (one
/// big multiply); a weight B is packed once here.
/// </summary>
internal sealed unsafe class MatMulKernel : Kernel
{
    private readonly SgemmJob _job = new();
    private readonly SgemvJob? _gemv; // M = 1: the matrix-vector path, which reads A in place
    private readonly float* _a;
    private readonly float* _b;
    private readonly float* _y;
    private readonly int _m, _n, _k;
    private readonly long[] _aOffsets; // per output batch, element offset of its A matrix
    private readonly long[] _bOffsets; // per output batch, element offset of its B matrix (or packed B)
    private readonly bool _packBPerCall;
    private readonly float* _packedBAll; // weight B: every batch matrix packed at bind time

    public MatMulKernel(BindContext context)
    {
        var aSlot = context.Input(0);
        var bSlot = context.Input(1);
        var ySlot = context.Output(0);
        int[] a = aSlot.Shape, b = bSlot.Shape;
        if (a.Length == 0 || b.Length == 0) throw context.Fail("MatMul operands must have rank >= 1");
        int[] a2 = a.Length == 1 ? [1, a[0]] : a;
        int[] b2 = b.Length == 1 ? [b[0], 1] : b;
        _m = a2[^2];
        _k = a2[^1];
        _n = b2[^1];
        if (b2[^2] != _k)
        {
            throw context.Fail($"inner dimensions differ: A{BindContext.ShapeText(a)} and B{BindContext.ShapeText(b)}");
        }
        // Broadcast the batch dims.
        int batchRank = Math.Max(a2.Length, b2.Length) - 2;
        var batch = new int[batchRank];
        var aBatchStride = new long[batchRank];
        var bBatchStride = new long[batchRank];
        long sa = (long)_m * _k, sb = (long)_k * _n;
        for (int d = batchRank - 1; d >= 0; d--)
        {
            int ia = d - (batchRank - (a2.Length - 2)), ib = d - (batchRank - (b2.Length - 2));
            int da = ia >= 0 ? a2[ia] : 1, db = ib >= 0 ? b2[ib] : 1;
            if (da != db && da != 1 && db != 1)
            {
                throw context.Fail($"batch dimensions of A{BindContext.ShapeText(a)} and B{BindContext.ShapeText(b)} do not broadcast");
            }
            batch[d] = Math.Max(da, db);
            aBatchStride[d] = da == 1 ? 0 : sa;
            bBatchStride[d] = db == 1 ? 0 : sb;
            sa *= da;
            sb *= db;
        }
        long batches = 1;
        foreach (int d in batch) batches *= d;
        if (ySlot.ElementCount != batches * _m * _n)
        {
            throw context.Fail($"output shape {BindContext.ShapeText(ySlot.Shape)} does not hold {batches}x{_m}x{_n} results");
        }
        _a = context.FloatInput(0);
        _b = context.FloatInput(1);
        _y = context.FloatOutput(0);

        bool bHasBatch = bBatchStride.Any(s => s != 0);
        int m = _m;
        if (!bHasBatch)
        {
            // A's batches are consecutive [M,K] blocks, as are Y's [M,N] blocks: one multiply of (batches*M) rows.
            m = checked((int)(batches * _m));
            _aOffsets = [0];
            _bOffsets = [0];
        }
        else
        {
            _aOffsets = new long[batches];
            _bOffsets = new long[batches];
            var index = new int[batchRank];
            for (long t = 0; t < batches; t++)
            {
                for (int d = 0; d < batchRank; d++)
                {
                    _aOffsets[t] += index[d] * aBatchStride[d];
                    _bOffsets[t] += index[d] * bBatchStride[d];
                }
                for (int d = batchRank - 1; d >= 0; d--)
                {
                    if (++index[d] < batch[d]) break;
                    index[d] = 0;
                }
            }
        }
        _job.M = m;
        _job.N = _n;
        _job.K = _k;
        _job.Ldc = _n;
        _job.Epilogue = Epilogue.FromStep(context);
        if (context.HasInput(2))
        {
            var bias = context.Input(2);
            if (bias.ElementCount != _n) throw context.Fail($"fused bias '{bias.Name}' has {bias.ElementCount} elements, expected N = {_n}");
            _job.Epilogue.ColumnBias = context.FloatInput(2);
        }
        // A one-row A (per batch) needs no packing: the vector path reads it where it is.
        if (m == 1) _gemv = new SgemvJob(_job);
        else _job.AllocatePackedA(context, perCall: true);
        long packedB = Sgemm.PackedBSize(_k, _n);
        _packBPerCall = bSlot.Storage == SlotStorage.Arena;
        if (_packBPerCall)
        {
            _job.PackedB = (float*)context.Scratch(packedB * 4);
        }
        else
        {
            // Pack every distinct B matrix once; batch t then uses packed block (bOffset / (K*N)).
            long matrices = bSlot.ElementCount / Math.Max(1L * _k * _n, 1);
            _packedBAll = (float*)context.Scratch(Math.Max(matrices, 1) * packedB * 4);
            for (long i = 0; i < matrices; i++) Sgemm.PackB(_b + i * _k * _n, _n, 1, _k, _n, _packedBAll + i * packedB);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        long packedB = Sgemm.PackedBSize(_k, _n);
        long kn = (long)_k * _n;
        for (int t = 0; t < _aOffsets.Length; t++)
        {
            if (_packBPerCall) Sgemm.PackB(_b + _bOffsets[t], _n, 1, _k, _n, _job.PackedB);
            else _job.PackedB = _packedBAll + (kn == 0 ? 0 : _bOffsets[t] / kn) * packedB;
            _job.C = _y + (long)t * _job.M * _n;
            if (_gemv != null)
            {
                _gemv.X = _a + _aOffsets[t];
                _gemv.Run();
            }
            else
            {
                _job.PackAndRun(_a + _aOffsets[t], _k, 1);
            }
        }
    }
}
