using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels.Gemm;

namespace ModelGen.Runtime.Kernels.Sparse;

/// <summary>
/// Y = act(alpha·X·Wᵀ + bias) for a weight W [units, features] in compressed sparse rows:
/// each output is a dot product over the row's non-zeros only, so the work and the bytes read
/// scale with the density. X is [rows, features] (Gemm) or [..., features] (MatMul, whose
/// leading dims fold into rows).
/// </summary>
internal sealed unsafe class CsrGemmKernel : Kernel
{
    private readonly float* _x, _y, _values, _bias;
    private readonly ushort* _columns;
    private readonly int* _rowStart;
    private readonly int _rows, _units, _features;
    private readonly float _alpha;
    private readonly Epilogue _epilogue;

    public CsrGemmKernel(BindContext c)
    {
        (_units, _features) = SparseKernels.Shape(c);
        var x = c.Input(0);
        if (x.Shape.Length == 0 || x.Shape[^1] != _features || (c.Step.Op == "Gemm" && (x.Shape.Length != 2 || c.Step.GetInt("transA", 0) != 0)))
        {
            throw c.Fail($"input {BindContext.ShapeText(x.Shape)} does not end in {_features} features (and Gemm needs [M,K] without transA)");
        }
        _rows = (int)(x.ElementCount / _features);
        if (c.Output(0).ElementCount != (long)_rows * _units) throw c.Fail($"output {BindContext.ShapeText(c.Output(0).Shape)} does not hold {_rows}x{_units}");
        SparseKernels.Require(c, 5, ElementType.Int32, _units + 1L, "row pointers");
        _rowStart = (int*)c.InputPtr(5);
        int nnz = _rowStart[_units];
        SparseKernels.Require(c, 1, ElementType.Float, nnz, "values");
        SparseKernels.Require(c, 4, ElementType.UInt16, nnz, "column indices");
        _values = (float*)c.InputPtr(1);
        _columns = (ushort*)c.InputPtr(4);
        for (int u = 0; u < _units; u++)
        {
            if (_rowStart[u] > _rowStart[u + 1] || _rowStart[u] < 0) throw c.Fail("row pointers are not ascending");
        }
        for (int p = 0; p < nnz; p++)
        {
            if (_columns[p] >= _features) throw c.Fail($"column index {_columns[p]} is out of range for {_features} features");
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
        for (int r = 0; r < _rows; r++)
        {
            float* x = _x + (long)r * _features;
            float* y = _y + (long)r * _units;
            for (int u = 0; u < _units; u++)
            {
                int p = _rowStart[u], end = _rowStart[u + 1];
                // Four independent sums hide the latency of the dependent adds.
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                for (; p + 4 <= end; p += 4)
                {
                    s0 += _values[p] * x[_columns[p]];
                    s1 += _values[p + 1] * x[_columns[p + 1]];
                    s2 += _values[p + 2] * x[_columns[p + 2]];
                    s3 += _values[p + 3] * x[_columns[p + 3]];
                }
                for (; p < end; p++) s0 += _values[p] * x[_columns[p]];
                float v = _alpha * (s0 + s1 + (s2 + s3));
                if (_bias != null) v += _bias[u];
                y[u] = _epilogue.Activate(v);
            }
        }
    }
}
