using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Tensor;

/// <summary>
/// Slice of any element type: starts/ends/axes/steps from constant inputs (opset 10+) or
/// attributes (opset 1–9), clamped as ONNX specifies (negative steps included). Binding reduces
/// the slice to a start offset and a stride per dimension; running walks the output, copying
/// the innermost dimension as one block when its step is 1.
/// </summary>
internal sealed unsafe class SliceKernel : Kernel
{
    private readonly byte* _x, _y;
    private readonly int _size;
    private readonly long _base, _innerCount, _innerStride, _outerCount;
    private readonly long[] _outDims, _strides, _index;

    public SliceKernel(BindContext c)
    {
        var x = c.Input(0);
        var y = c.Output(0);
        if (x.Type != y.Type) throw c.Fail("input and output types differ");
        int rank = x.Shape.Length;
        long[]? starts, ends, axes, steps;
        if (c.Opset < 10)
        {
            starts = c.Step.GetInts("starts");
            ends = c.Step.GetInts("ends");
            axes = c.Step.GetInts("axes");
            steps = null;
        }
        else
        {
            starts = ConstantInputs.Int64s(c, 1, "starts");
            ends = ConstantInputs.Int64s(c, 2, "ends");
            axes = ConstantInputs.Int64s(c, 3, "axes");
            steps = ConstantInputs.Int64s(c, 4, "steps");
        }
        if (starts is null || ends is null || starts.Length != ends.Length) throw c.Fail("starts and ends must be given with the same length");
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (axes.Length != starts.Length || steps.Length != starts.Length) throw c.Fail("starts, ends, axes and steps must have the same length");

        var first = new long[rank];
        var step = new long[rank];
        var count = new long[rank];
        for (int d = 0; d < rank; d++)
        {
            step[d] = 1;
            count[d] = x.Shape[d];
        }
        var seen = new bool[rank];
        for (int k = 0; k < axes.Length; k++)
        {
            int d = c.Axis(axes[k], rank, "axes");
            if (seen[d]) throw c.Fail($"axis {axes[k]} is sliced twice");
            seen[d] = true;
            long dim = x.Shape[d], s = steps[k];
            if (s == 0) throw c.Fail("a step of 0 is invalid");
            long start = starts[k] < 0 ? starts[k] + dim : starts[k];
            long end = ends[k] < 0 ? ends[k] + dim : ends[k];
            if (s > 0)
            {
                start = Math.Clamp(start, 0, dim);
                end = Math.Clamp(end, 0, dim);
                count[d] = end > start ? (end - start + s - 1) / s : 0;
            }
            else
            {
                start = Math.Clamp(start, -1, dim - 1);
                end = Math.Clamp(end, -1, dim - 1);
                count[d] = start > end ? (start - end + (-s) - 1) / (-s) : 0;
            }
            first[d] = start;
            step[d] = s;
        }
        if (!count.Select(v => (int)v).SequenceEqual(y.Shape))
        {
            throw c.Fail($"output shape {BindContext.ShapeText(y.Shape)} does not match the slice's {BindContext.ShapeText(count.Select(v => (int)v).ToArray())}");
        }
        var inStride = new long[rank];
        long stride = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            inStride[d] = stride;
            stride *= x.Shape[d];
        }
        _base = 0;
        for (int d = 0; d < rank; d++) _base += first[d] * inStride[d];
        if (rank == 0)
        {
            _innerCount = 1;
            _innerStride = 1;
            _outDims = [];
            _strides = [];
        }
        else
        {
            _innerCount = count[rank - 1];
            _innerStride = step[rank - 1];
            _outDims = count.Take(rank - 1).ToArray();
            _strides = Enumerable.Range(0, rank - 1).Select(d => step[d] * inStride[d]).ToArray();
        }
        _outerCount = y.ElementCount == 0 ? 0 : _outDims.Aggregate(1L, (a, b) => a * b);
        _index = new long[_outDims.Length];
        _size = x.Type.SizeOf();
        _x = c.InputPtr(0);
        _y = c.OutputPtr(0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        Array.Clear(_index);
        byte* y = _y;
        long offset = _base;
        long runBytes = _innerCount * _size;
        for (long o = 0; o < _outerCount; o++)
        {
            byte* src = _x + offset * _size;
            if (_innerStride == 1)
            {
                Buffer.MemoryCopy(src, y, runBytes, runBytes);
            }
            else
            {
                long jump = _innerStride * _size;
                for (long i = 0; i < _innerCount; i++) Buffer.MemoryCopy(src + i * jump, y + i * _size, _size, _size);
            }
            y += runBytes;
            for (int d = _index.Length - 1; d >= 0; d--)
            {
                offset += _strides[d];
                if (++_index[d] < _outDims[d]) break;
                offset -= _strides[d] * _outDims[d];
                _index[d] = 0;
            }
        }
    }
}
