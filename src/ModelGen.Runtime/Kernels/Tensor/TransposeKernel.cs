using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Tensor;

/// <summary>
/// Transpose of any element type: output dim i is input dim perm[i] (default: reversed). Walks the
/// output in order with an odometer over pre-computed input strides; the innermost output dim is
/// a strided gather loop specialized by element size.
/// </summary>
internal sealed unsafe class TransposeKernel : Kernel
{
    private readonly byte* _x, _y;
    private readonly int[] _outDims;
    private readonly long[] _inStrides; // input element stride for each output dim
    private readonly int[] _index;
    private readonly int _elementSize;
    private readonly long _count;

    public TransposeKernel(BindContext context)
    {
        var x = context.Input(0);
        var y = context.Output(0);
        int rank = x.Shape.Length;
        long[] perm = context.Step.GetInts("perm") ?? Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        if (perm.Length != rank || perm.Distinct().Count() != rank || perm.Any(p => p < 0 || p >= rank))
        {
            throw context.Fail($"perm [{string.Join(",", perm)}] is not a permutation of 0..{rank - 1}");
        }
        var stride = new long[rank];
        long s = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            stride[d] = s;
            s *= x.Shape[d];
        }
        _outDims = new int[Math.Max(rank, 1)];
        _inStrides = new long[Math.Max(rank, 1)];
        _outDims[0] = 1;
        for (int i = 0; i < rank; i++)
        {
            _outDims[i] = x.Shape[perm[i]];
            _inStrides[i] = stride[perm[i]];
            if (y.Shape.Length != rank || y.Shape[i] != _outDims[i])
            {
                throw context.Fail($"output {BindContext.ShapeText(y.Shape)} is not the input {BindContext.ShapeText(x.Shape)} permuted by [{string.Join(",", perm)}]");
            }
        }
        if (x.Type != y.Type) throw context.Fail("input and output types differ");
        _index = new int[_outDims.Length];
        _elementSize = x.Type.SizeOf();
        _count = x.ElementCount;
        _x = context.InputPtr(0);
        _y = context.OutputPtr(0);
        if (_x == _y && _count > 1) throw context.Fail("Transpose cannot run in place");
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        switch (_elementSize)
        {
            case 1: Run<byte>(); break;
            case 2: Run<short>(); break;
            case 4: Run<int>(); break;
            default: Run<long>(); break;
        }
    }

    private void Run<T>() where T : unmanaged
    {
        if (_count == 0) return;
        T* x = (T*)_x;
        T* y = (T*)_y;
        int last = _outDims.Length - 1;
        int inner = _outDims[last];
        long innerStride = _inStrides[last];
        Array.Clear(_index);
        long rows = _count / inner;
        for (long r = 0; r < rows; r++)
        {
            long offset = 0;
            for (int d = 0; d < last; d++) offset += _index[d] * _inStrides[d];
            T* src = x + offset;
            for (int i = 0; i < inner; i++) y[i] = src[i * innerStride];
            y += inner;
            for (int d = last - 1; d >= 0; d--)
            {
                if (++_index[d] < _outDims[d]) break;
                _index[d] = 0;
            }
        }
    }
}
