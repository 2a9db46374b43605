using System.Numerics;
using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Reduce;

/// <summary>Which reduction a <see cref="ReduceKernel{T}"/> computes.</summary>
internal enum ReduceOp
{
    Sum,
    Mean,
    Max,
    Min,
    Prod,
}

/// <summary>
/// ReduceSum / ReduceMean / ReduceMax / ReduceMin / ReduceProd over any set of axes, for any
/// numeric element type (bool reduces as bytes: Max = any, Min = all). At bind time adjacent
/// dimensions that are both reduced or both kept are merged, so the work is a walk over "outer"
/// positions, each doing one contiguous run: a SIMD reduction of the run into one output (the
/// innermost dimension is reduced) or a SIMD combine of the run into a run of outputs (it is kept).
/// </summary>
internal sealed unsafe class ReduceKernel<T> : Kernel where T : unmanaged, INumber<T>
{
    private readonly T* _x, _y;
    private readonly ReduceOp _op;
    private readonly long _outputCount, _run, _outerCount, _reducedCount;
    private readonly bool _innerReduced;
    private readonly long[] _sizes, _outStrides, _index;
    private readonly T _identity;

    public ReduceKernel(BindContext c, ReduceOp op)
    {
        _op = op;
        var x = c.Input(0);
        var y = c.Output(0);
        if (x.Type != y.Type) throw c.Fail($"input is {x.Type.ToOnnxName()} but output is {y.Type.ToOnnxName()}");
        int rank = x.Shape.Length;
        bool[] reduced = ReduceAxes.Resolve(c, rank);
        bool keepDims = c.Step.GetInt("keepdims", 1) != 0;
        var expected = new List<int>();
        _reducedCount = 1;
        for (int d = 0; d < rank; d++)
        {
            if (reduced[d]) _reducedCount *= x.Shape[d];
            if (!reduced[d]) expected.Add(x.Shape[d]);
            else if (keepDims) expected.Add(1);
        }
        if (!expected.SequenceEqual(y.Shape))
        {
            throw c.Fail($"output shape {BindContext.ShapeText(y.Shape)} does not match {BindContext.ShapeText(expected.ToArray())}, the reduced input {BindContext.ShapeText(x.Shape)}");
        }

        // Merge dims: drop size-1 dims, join neighbours that are both reduced or both kept.
        var sizes = new List<long>();
        var isReduced = new List<bool>();
        for (int d = 0; d < rank; d++)
        {
            if (x.Shape[d] == 1) continue;
            if (sizes.Count > 0 && isReduced[^1] == reduced[d]) sizes[^1] *= x.Shape[d];
            else
            {
                sizes.Add(x.Shape[d]);
                isReduced.Add(reduced[d]);
            }
        }
        if (sizes.Count == 0)
        {
            sizes.Add(1);
            isReduced.Add(false);
        }
        _run = sizes[^1];
        _innerReduced = isReduced[^1];
        int outerRank = sizes.Count - 1;
        _sizes = sizes.Take(outerRank).ToArray();
        _outStrides = new long[outerRank];
        long stride = _innerReduced ? 1 : _run;
        for (int d = outerRank - 1; d >= 0; d--)
        {
            _outStrides[d] = isReduced[d] ? 0 : stride;
            if (!isReduced[d]) stride *= _sizes[d];
        }
        _index = new long[outerRank];
        _outerCount = x.ElementCount == 0 ? 0 : _sizes.Aggregate(1L, (a, b) => a * b);
        _outputCount = y.ElementCount;
        _identity = op switch
        {
            ReduceOp.Max => Lowest(),
            ReduceOp.Min => Highest(),
            ReduceOp.Prod => T.One,
            _ => T.Zero,
        };
        _x = (T*)c.InputPtr(0);
        _y = (T*)c.OutputPtr(0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        T* y = _y;
        for (long i = 0; i < _outputCount; i++) y[i] = _identity;
        Array.Clear(_index);
        T* x = _x;
        long outOffset = 0;
        for (long o = 0; o < _outerCount; o++)
        {
            if (_innerReduced) y[outOffset] = Combine(y[outOffset], ReduceRun(x, _run));
            else CombineRun(y + outOffset, x, _run);
            x += _run;
            for (int d = _index.Length - 1; d >= 0; d--)
            {
                outOffset += _outStrides[d];
                if (++_index[d] < _sizes[d]) break;
                outOffset -= _outStrides[d] * _sizes[d];
                _index[d] = 0;
            }
        }
        if (_op == ReduceOp.Mean && _reducedCount > 0)
        {
            T count = T.CreateTruncating(_reducedCount);
            for (long i = 0; i < _outputCount; i++) y[i] /= count;
        }
    }

    private T Combine(T a, T b) => _op switch
    {
        ReduceOp.Max => T.Max(a, b),
        ReduceOp.Min => T.Min(a, b),
        ReduceOp.Prod => a * b,
        _ => a + b,
    };

    private T ReduceRun(T* x, long n)
    {
        long i = 0;
        T acc = _identity;
        if (Vector<T>.IsSupported && _op != ReduceOp.Prod && n >= Vector<T>.Count)
        {
            var v = Vector.Create(_identity);
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            {
                var xv = Vector.Load(x + i);
                v = _op switch
                {
                    ReduceOp.Max => Vector.Max(v, xv),
                    ReduceOp.Min => Vector.Min(v, xv),
                    _ => v + xv,
                };
            }
            for (int k = 0; k < Vector<T>.Count; k++) acc = Combine(acc, v[k]);
        }
        for (; i < n; i++) acc = Combine(acc, x[i]);
        return acc;
    }

    private void CombineRun(T* y, T* x, long n)
    {
        long i = 0;
        if (Vector<T>.IsSupported && n >= Vector<T>.Count)
        {
            for (; i <= n - Vector<T>.Count; i += Vector<T>.Count)
            {
                var a = Vector.Load(y + i);
                var b = Vector.Load(x + i);
                var r = _op switch
                {
                    ReduceOp.Max => Vector.Max(a, b),
                    ReduceOp.Min => Vector.Min(a, b),
                    ReduceOp.Prod => a * b,
                    _ => a + b,
                };
                r.Store(y + i);
            }
        }
        for (; i < n; i++) y[i] = Combine(y[i], x[i]);
    }

    private static T Lowest()
    {
        if (typeof(T) == typeof(float)) return T.CreateTruncating(float.NegativeInfinity);
        if (typeof(T) == typeof(double)) return T.CreateTruncating(double.NegativeInfinity);
        if (typeof(T) == typeof(Half)) return T.CreateTruncating(Half.NegativeInfinity);
        return T.CreateSaturating(double.MinValue);
    }

    private static T Highest()
    {
        if (typeof(T) == typeof(float)) return T.CreateTruncating(float.PositiveInfinity);
        if (typeof(T) == typeof(double)) return T.CreateTruncating(double.PositiveInfinity);
        if (typeof(T) == typeof(Half)) return T.CreateTruncating(Half.PositiveInfinity);
        return T.CreateSaturating(double.MaxValue);
    }
}

/// <summary>Picks the <see cref="ReduceKernel{T}"/> instantiation for a step's element type.</summary>
internal static class ReduceKernels
{
    public static Kernel Create(BindContext c, ReduceOp op) => c.Input(0).Type switch
    {
        ElementType.Float => new ReduceKernel<float>(c, op),
        ElementType.Double => new ReduceKernel<double>(c, op),
        ElementType.Float16 => new ReduceKernel<Half>(c, op),
        ElementType.Int64 => new ReduceKernel<long>(c, op),
        ElementType.Int32 => new ReduceKernel<int>(c, op),
        ElementType.UInt64 => new ReduceKernel<ulong>(c, op),
        ElementType.UInt32 => new ReduceKernel<uint>(c, op),
        ElementType.Int8 => new ReduceKernel<sbyte>(c, op),
        ElementType.UInt8 => new ReduceKernel<byte>(c, op),
        ElementType.Bool when op is ReduceOp.Max or ReduceOp.Min => new ReduceKernel<byte>(c, op),
        var t => throw c.Fail($"{c.Step.Op} does not support {t.ToOnnxName()}"),
    };
}
