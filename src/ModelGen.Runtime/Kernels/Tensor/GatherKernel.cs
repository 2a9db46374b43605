using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Tensor;

/// <summary>
/// Gather of any element type along <c>axis</c> with int64 or int32 indices (negative = from the
/// end): y[outer, j, inner] = x[outer, idx[j], inner]. Indices are checked every run.
/// </summary>
internal sealed unsafe class GatherKernel : Kernel
{
    private readonly byte* _x, _y, _indices;
    private readonly bool _int64;
    private readonly long _indexCount, _outer, _blockBytes;
    private readonly int _axisDim;
    private readonly BindContext _context;

    public GatherKernel(BindContext context)
    {
        _context = context;
        var x = context.Input(0);
        var idx = context.Input(1);
        var y = context.Output(0);
        int rank = x.Shape.Length;
        if (rank == 0) throw context.Fail("cannot gather from a scalar");
        int axis = context.Axis(context.Step.GetInt("axis", 0), rank);
        if (idx.Type is not (ElementType.Int64 or ElementType.Int32)) throw context.Fail($"indices must be int64 or int32, not {idx.Type.ToOnnxName()}");
        if (x.Type != y.Type) throw context.Fail("data and output types differ");
        _int64 = idx.Type == ElementType.Int64;
        _indexCount = idx.ElementCount;
        _axisDim = x.Shape[axis];
        _outer = 1;
        for (int d = 0; d < axis; d++) _outer *= x.Shape[d];
        long inner = 1;
        for (int d = axis + 1; d < rank; d++) inner *= x.Shape[d];
        _blockBytes = inner * x.Type.SizeOf();
        if (y.ElementCount != _outer * _indexCount * inner)
        {
            throw context.Fail($"output {BindContext.ShapeText(y.Shape)} does not match data {BindContext.ShapeText(x.Shape)} gathered with indices {BindContext.ShapeText(idx.Shape)} on axis {axis}");
        }
        _x = context.InputPtr(0);
        _indices = context.InputPtr(1);
        _y = context.OutputPtr(0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        byte* y = _y;
        long bytes = _blockBytes;
        for (long o = 0; o < _outer; o++)
        {
            byte* x = _x + o * _axisDim * bytes;
            for (long j = 0; j < _indexCount; j++)
            {
                long i = _int64 ? ((long*)_indices)[j] : ((int*)_indices)[j];
                if (i < 0) i += _axisDim;
                if ((ulong)i >= (ulong)_axisDim) ThrowIndex(j);
                Buffer.MemoryCopy(x + i * bytes, y, bytes, bytes);
                y += bytes;
            }
        }
    }

    private void ThrowIndex(long j)
    {
        long raw = _int64 ? ((long*)_indices)[j] : ((int*)_indices)[j];
        throw _context.Fail($"index {raw} (at position {j}) is out of range for an axis of size {_axisDim}");
    }
}
