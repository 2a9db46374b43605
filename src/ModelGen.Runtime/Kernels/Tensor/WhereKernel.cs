using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Tensor;

/// <summary>
/// Where(condition, x, y) of any element type with three-way numpy broadcasting. Binding gives
/// each operand a stride per output dimension (0 where it broadcasts); running walks the output
/// rows and copies each element from x or y by the condition.
/// </summary>
internal sealed unsafe class WhereKernel : Kernel
{
    private readonly byte* _cond, _a, _b, _y;
    private readonly int _size;
    private readonly long[] _dims, _condStrides, _aStrides, _bStrides, _index;
    private readonly long _inner, _rows, _condInner, _aInner, _bInner;

    public WhereKernel(BindContext c)
    {
        c.RequireType(0, ElementType.Bool, input: true);
        var type = c.Input(1).Type;
        c.RequireType(2, type, input: true);
        c.RequireType(0, type, input: false);
        var y = c.Output(0);
        int rank = y.Shape.Length;
        _size = type.SizeOf();
        var condStrides = Strides(c, c.Input(0).Shape, y.Shape);
        var aStrides = Strides(c, c.Input(1).Shape, y.Shape);
        var bStrides = Strides(c, c.Input(2).Shape, y.Shape);
        if (rank == 0)
        {
            _inner = 1;
            _dims = _condStrides = _aStrides = _bStrides = [];
        }
        else
        {
            _inner = y.Shape[rank - 1];
            _condInner = condStrides[rank - 1];
            _aInner = aStrides[rank - 1];
            _bInner = bStrides[rank - 1];
            _dims = y.Shape.Take(rank - 1).Select(d => (long)d).ToArray();
            _condStrides = condStrides[..(rank - 1)];
            _aStrides = aStrides[..(rank - 1)];
            _bStrides = bStrides[..(rank - 1)];
        }
        _rows = y.ElementCount == 0 ? 0 : _dims.Aggregate(1L, (p, d) => p * d);
        _index = new long[_dims.Length];
        _cond = c.InputPtr(0);
        _a = c.InputPtr(1);
        _b = c.InputPtr(2);
        _y = c.OutputPtr(0);
    }

    private static long[] Strides(BindContext c, int[] shape, int[] output)
    {
        int rank = output.Length, shift = rank - shape.Length;
        if (shift < 0) throw c.Fail($"operand {BindContext.ShapeText(shape)} has more dimensions than the output {BindContext.ShapeText(output)}");
        var strides = new long[rank];
        long stride = 1;
        for (int d = rank - 1; d >= shift; d--)
        {
            int dim = shape[d - shift];
            if (dim != output[d] && dim != 1) throw c.Fail($"operand {BindContext.ShapeText(shape)} does not broadcast to {BindContext.ShapeText(output)}");
            strides[d] = dim == 1 ? 0 : stride;
            stride *= dim;
        }
        return strides;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        Array.Clear(_index);
        long oc = 0, oa = 0, ob = 0;
        byte* y = _y;
        for (long r = 0; r < _rows; r++)
        {
            for (long i = 0; i < _inner; i++)
            {
                byte* src = _cond[oc + i * _condInner] != 0 ? _a + (oa + i * _aInner) * _size : _b + (ob + i * _bInner) * _size;
                Buffer.MemoryCopy(src, y, _size, _size);
                y += _size;
            }
            for (int d = _index.Length - 1; d >= 0; d--)
            {
                oc += _condStrides[d];
                oa += _aStrides[d];
                ob += _bStrides[d];
                if (++_index[d] < _dims[d]) break;
                oc -= _condStrides[d] * _dims[d];
                oa -= _aStrides[d] * _dims[d];
                ob -= _bStrides[d] * _dims[d];
                _index[d] = 0;
            }
        }
    }
}
