using System.Numerics;
using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Normalization;

/// <summary>
/// LayerNormalization (fp32): each row of the dimensions from <c>axis</c> on is normalized to
/// zero mean and unit variance (two passes: mean, then centered variance, which is stable), then
/// scaled and shifted. Scale and bias broadcast onto the row; they are expanded to full rows at
/// bind time so the inner loop is a plain SIMD multiply-add. Optional outputs Mean and
/// InvStdDev get one value per row.
/// </summary>
internal sealed unsafe class LayerNormKernel : Kernel
{
    private readonly float* _x, _y, _scale, _bias, _mean, _invStd, _scaleSource, _biasSource;
    private readonly int[]? _scaleMap, _biasMap;
    private readonly long _rows, _n;
    private readonly float _epsilon;

    public LayerNormKernel(BindContext c)
    {
        var x = c.Input(0);
        int rank = x.Shape.Length;
        int axis = c.Axis(c.Step.GetInt("axis", -1), rank);
        _epsilon = c.Step.GetFloat("epsilon", 1e-5f);
        long stash = c.Step.GetInt("stash_type", 1);
        if (stash != 1) throw c.Fail($"stash_type={stash} is not supported (only 1, float)");
        _n = 1;
        for (int d = axis; d < rank; d++) _n *= x.Shape[d];
        _rows = x.ElementCount / Math.Max(_n, 1);
        int[] rowShape = x.Shape[axis..];
        _x = c.FloatInput(0);
        _y = c.FloatOutput(0);
        if (c.Output(0).ElementCount != x.ElementCount) throw c.Fail("output Y must have the input's shape");
        _scale = Expand(c, 1, rowShape, 1f, out _scaleSource, out _scaleMap);
        _bias = Expand(c, 2, rowShape, 0f, out _biasSource, out _biasMap);
        if (c.HasOutput(1))
        {
            if (c.Output(1).ElementCount != _rows) throw c.Fail($"output Mean must have {_rows} elements");
            _mean = c.FloatOutput(1);
        }
        if (c.HasOutput(2))
        {
            if (c.Output(2).ElementCount != _rows) throw c.Fail($"output InvStdDev must have {_rows} elements");
            _invStd = c.FloatOutput(2);
        }
    }

    /// <summary>
    /// Scratch for input <paramref name="i"/> broadcast to a full row (the fill value when absent).
    /// A constant input is expanded now; an input fed at run time gets a gather map and is
    /// expanded at the start of every run.
    /// </summary>
    private float* Expand(BindContext c, int i, int[] rowShape, float fill, out float* source, out int[]? map)
    {
        float* row = (float*)c.Scratch(_n * sizeof(float));
        source = null;
        map = null;
        if (!c.HasInput(i))
        {
            new Span<float>(row, (int)_n).Fill(fill);
            return row;
        }
        var slot = c.Input(i);
        float* src = c.FloatInput(i);
        int shift = rowShape.Length - slot.Shape.Length;
        if (shift < 0) throw c.Fail($"input {i} {BindContext.ShapeText(slot.Shape)} has more dimensions than a normalized row {BindContext.ShapeText(rowShape)}");
        var strides = new long[rowShape.Length];
        long stride = 1;
        for (int d = rowShape.Length - 1; d >= shift; d--)
        {
            int dim = slot.Shape[d - shift];
            if (dim != rowShape[d] && dim != 1) throw c.Fail($"input {i} {BindContext.ShapeText(slot.Shape)} does not broadcast to a normalized row {BindContext.ShapeText(rowShape)}");
            strides[d] = dim == 1 ? 0 : stride;
            stride *= dim;
        }
        var offsets = new int[_n];
        var index = new long[rowShape.Length];
        for (long k = 0; k < _n; k++)
        {
            long offset = 0;
            for (int d = 0; d < index.Length; d++) offset += index[d] * strides[d];
            offsets[k] = (int)offset;
            for (int d = index.Length - 1; d >= 0; d--)
            {
                if (++index[d] < rowShape[d]) break;
                index[d] = 0;
            }
        }
        if (slot.Storage == SlotStorage.Weights)
        {
            for (long k = 0; k < _n; k++) row[k] = src[offsets[k]];
        }
        else
        {
            source = src;
            map = offsets;
        }
        return row;
    }

    private static void Gather(float* row, float* source, int[]? map)
    {
        if (map is null) return;
        for (int k = 0; k < map.Length; k++) row[k] = source[map[k]];
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        Gather(_scale, _scaleSource, _scaleMap);
        Gather(_bias, _biasSource, _biasMap);
        long n = _n;
        int width = Vector<float>.Count;
        for (long r = 0; r < _rows; r++)
        {
            float* x = _x + r * n;
            float* y = _y + r * n;
            long i = 0;
            var acc = Vector<float>.Zero;
            for (; i <= n - width; i += width) acc += Vector.Load(x + i);
            float sum = Vector.Sum(acc);
            for (; i < n; i++) sum += x[i];
            float mean = sum / n;

            var vm = new Vector<float>(mean);
            acc = Vector<float>.Zero;
            i = 0;
            for (; i <= n - width; i += width)
            {
                var d = Vector.Load(x + i) - vm;
                acc += d * d;
            }
            float sq = Vector.Sum(acc);
            for (; i < n; i++) sq += (x[i] - mean) * (x[i] - mean);
            float invStd = 1f / MathF.Sqrt(sq / n + _epsilon);

            var vi = new Vector<float>(invStd);
            i = 0;
            for (; i <= n - width; i += width)
            {
                ((Vector.Load(x + i) - vm) * vi * Vector.Load(_scale + i) + Vector.Load(_bias + i)).Store(y + i);
            }
            for (; i < n; i++) y[i] = (x[i] - mean) * invStd * _scale[i] + _bias[i];
            if (_mean != null) _mean[r] = mean;
            if (_invStd != null) _invStd[r] = invStd;
        }
    }
}
