using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels.Gemm;

namespace ModelGen.Runtime.Kernels.Sparse;

/// <summary>
/// Y = act(alpha·X·Wᵀ + bias) for an N:M-compressed weight: per output unit, per group of M
/// input features, N values and their positions in the group. Reads N/M of the values (plus one
/// byte per value) and does N/M of the multiplies of the dense product.
/// </summary>
internal sealed unsafe class NmGemmKernel : Kernel
{
    private readonly float* _x, _y, _values, _bias;
    private readonly byte* _positions;
    private readonly int _rows, _units, _features, _n, _m, _groups;
    private readonly float _alpha;
    private readonly Epilogue _epilogue;

    public NmGemmKernel(BindContext c)
    {
        (_units, _features) = SparseKernels.Shape(c);
        _n = (int)c.Step.GetInt("sparse_n", 0);
        _m = (int)c.Step.GetInt("sparse_m", 0);
        if (_n < 1 || _m <= _n || _m > 255) throw c.Fail($"sparse_n={_n} and sparse_m={_m} are not an N:M pattern");
        _groups = (_features + _m - 1) / _m;
        var x = c.Input(0);
        if (x.Shape.Length == 0 || x.Shape[^1] != _features || (c.Step.Op == "Gemm" && (x.Shape.Length != 2 || c.Step.GetInt("transA", 0) != 0)))
        {
            throw c.Fail($"input {BindContext.ShapeText(x.Shape)} does not end in {_features} features (and Gemm needs [M,K] without transA)");
        }
        _rows = (int)(x.ElementCount / _features);
        if (c.Output(0).ElementCount != (long)_rows * _units) throw c.Fail($"output {BindContext.ShapeText(c.Output(0).Shape)} does not hold {_rows}x{_units}");
        long count = (long)_units * _groups * _n;
        SparseKernels.Require(c, 1, ElementType.Float, count, "values");
        SparseKernels.Require(c, 4, ElementType.UInt8, count, "positions");
        _values = (float*)c.InputPtr(1);
        _positions = c.InputPtr(4);
        for (long p = 0; p < count; p++)
        {
            long g = p / _n % _groups;
            if (_positions[p] >= _m || g * _m + _positions[p] >= _features) throw c.Fail($"position {_positions[p]} is outside its group of {_m}");
        }
        _x = c.FloatInput(0);
        _y = c.FloatOutput(0);
        _bias = SparseKernels.Bias(c, _units);
        _alpha = c.Step.Op == "Gemm" ? c.Step.GetFloat("alpha", 1f) : 1f;
        _epilogue = Epilogue.FromStep(c);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        int perUnit = _groups * _n;
        for (int r = 0; r < _rows; r++)
        {
            float* x = _x + (long)r * _features;
            float* y = _y + (long)r * _units;
            for (int u = 0; u < _units; u++)
            {
                float* v = _values + (long)u * perUnit;
                byte* pos = _positions + (long)u * perUnit;
                float s0 = 0, s1 = 0;
                if (_n == 2)
                {
                    // The common 2:M case: two independent sums, one per slot of the group.
                    float* g = x;
                    for (int i = 0; i < perUnit; i += 2, g += _m)
                    {
                        s0 += v[i] * g[pos[i]];
                        s1 += v[i + 1] * g[pos[i + 1]];
                    }
                }
                else
                {
                    for (int i = 0; i < perUnit; i++) s0 += v[i] * x[i / _n * _m + pos[i]];
                }
                float value = _alpha * (s0 + s1);
                if (_bias != null) value += _bias[u];
                y[u] = _epilogue.Activate(value);
            }
        }
    }
}
