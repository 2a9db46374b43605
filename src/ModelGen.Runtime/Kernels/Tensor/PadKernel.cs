using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Tensor;

/// <summary>
/// Pad of any element type in the modes constant, reflect, edge and wrap, with pads (and, from
/// opset 18, axes) from constant inputs or, before opset 11, attributes; negative pads crop.
/// Binding turns each dimension into a table "output index → input index, or −1 for the
/// constant"; running walks the output rows, looking up the source of each element.
/// </summary>
internal sealed unsafe class PadKernel : Kernel
{
    private readonly byte* _x, _y;
    private readonly int _size, _rank;
    private readonly int[][] _maps;
    private readonly long[] _inStrides, _outDims, _index;
    private readonly long _rows;
    private readonly byte[] _constant;

    public PadKernel(BindContext c)
    {
        var x = c.Input(0);
        var y = c.Output(0);
        if (x.Type != y.Type) throw c.Fail("input and output types differ");
        _rank = x.Shape.Length;
        _size = x.Type.SizeOf();
        string mode = c.Step.GetString("mode", "constant");
        if (mode is not ("constant" or "reflect" or "edge" or "wrap")) throw c.Fail($"mode '{mode}' is not supported (constant, reflect, edge, wrap)");

        long[]? pads;
        _constant = new byte[_size];
        if (c.Opset < 11)
        {
            pads = c.Step.GetInts("pads") ?? c.Step.GetInts("paddings");
            WriteConstant(x.Type, c.Step.GetFloat("value", 0f));
        }
        else
        {
            pads = ConstantInputs.Int64s(c, 1, "pads");
            if (c.HasInput(2))
            {
                var v = c.Input(2);
                if (v.Storage != SlotStorage.Weights || v.Type != x.Type || v.ElementCount != 1) throw c.Fail("constant_value must be a constant scalar of the data's type");
                new ReadOnlySpan<byte>(c.InputPtr(2), _size).CopyTo(_constant);
            }
        }
        if (pads is null) throw c.Fail("pads are required");
        long[] axes = ConstantInputs.Int64s(c, 3, "axes") ?? Enumerable.Range(0, _rank).Select(i => (long)i).ToArray();
        if (pads.Length != 2 * axes.Length) throw c.Fail($"pads has {pads.Length} values, expected {2 * axes.Length}");
        var begin = new long[_rank];
        var end = new long[_rank];
        for (int k = 0; k < axes.Length; k++)
        {
            int d = c.Axis(axes[k], _rank, "axes");
            begin[d] = pads[k];
            end[d] = pads[k + axes.Length];
        }
        _maps = new int[_rank][];
        for (int d = 0; d < _rank; d++)
        {
            long dim = x.Shape[d], outDim = dim + begin[d] + end[d];
            if (outDim != y.Shape[d]) throw c.Fail($"output shape {BindContext.ShapeText(y.Shape)} does not match the padded input {BindContext.ShapeText(x.Shape)}");
            if (mode != "constant" && dim == 0 && outDim > 0) throw c.Fail($"mode '{mode}' cannot pad an empty dimension");
            if (mode == "reflect" && dim == 1 && outDim > 1) throw c.Fail("mode 'reflect' needs at least 2 elements on each padded dimension");
            _maps[d] = new int[outDim];
            for (long p = 0; p < outDim; p++) _maps[d][p] = (int)Source(p - begin[d], dim, mode);
        }
        _inStrides = new long[_rank];
        long stride = 1;
        for (int d = _rank - 1; d >= 0; d--)
        {
            _inStrides[d] = stride;
            stride *= x.Shape[d];
        }
        _outDims = y.Shape.Take(Math.Max(_rank - 1, 0)).Select(v => (long)v).ToArray();
        _rows = y.ElementCount == 0 ? 0 : _outDims.Aggregate(1L, (a, b) => a * b);
        _index = new long[_outDims.Length];
        _x = c.InputPtr(0);
        _y = c.OutputPtr(0);
    }

    private static long Source(long i, long dim, string mode)
    {
        if (i >= 0 && i < dim) return i;
        switch (mode)
        {
            case "edge": return Math.Clamp(i, 0, dim - 1);
            case "wrap": return ((i % dim) + dim) % dim;
            case "reflect":
                long period = 2 * (dim - 1);
                long m = ((i % period) + period) % period;
                return m < dim ? m : period - m;
            default: return -1;
        }
    }

    private void WriteConstant(ElementType type, float value)
    {
        fixed (byte* p = _constant)
        {
            switch (type)
            {
                case ElementType.Float: *(float*)p = value; break;
                case ElementType.Double: *(double*)p = value; break;
                case ElementType.Float16: *(Half*)p = (Half)value; break;
                case ElementType.Int64: *(long*)p = (long)value; break;
                case ElementType.Int32: *(int*)p = (int)value; break;
                case ElementType.Int16: *(short*)p = (short)value; break;
                case ElementType.UInt16: *(ushort*)p = (ushort)value; break;
                case ElementType.UInt32: *(uint*)p = (uint)value; break;
                case ElementType.UInt64: *(ulong*)p = (ulong)value; break;
                case ElementType.Int8: *(sbyte*)p = (sbyte)value; break;
                default: *p = (byte)value; break;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        if (_rank == 0)
        {
            Buffer.MemoryCopy(_x, _y, _size, _size);
            return;
        }
        Array.Clear(_index);
        int[] inner = _maps[_rank - 1];
        byte* y = _y;
        fixed (byte* constant = _constant)
        {
            for (long r = 0; r < _rows; r++)
            {
                long offset = 0;
                bool outside = false;
                for (int d = 0; d < _index.Length; d++)
                {
                    int s = _maps[d][_index[d]];
                    if (s < 0) outside = true;
                    offset += s * _inStrides[d];
                }
                for (int i = 0; i < inner.Length; i++)
                {
                    byte* src = outside || inner[i] < 0 ? constant : _x + (offset + inner[i]) * _size;
                    Buffer.MemoryCopy(src, y, _size, _size);
                    y += _size;
                }
                for (int d = _index.Length - 1; d >= 0; d--)
                {
                    if (++_index[d] < _outDims[d]) break;
                    _index[d] = 0;
                }
            }
        }
    }
}
