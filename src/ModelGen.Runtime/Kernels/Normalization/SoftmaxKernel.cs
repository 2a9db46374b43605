using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels.Elementwise;

namespace ModelGen.Runtime.Kernels.Normalization;

/// <summary>
/// Softmax and LogSoftmax, numerically stable (shift by the max). Opset &lt; 13 coerces the input to
/// 2-D at <c>axis</c> (default 1) and normalizes each row; opset ≥ 13 normalizes along <c>axis</c>
/// (default -1). Both reduce to "outer × n × inner" with the reduced run strided by inner.
/// </summary>
internal sealed unsafe class SoftmaxKernel : Kernel
{
    private readonly float* _x;
    private readonly float* _y;
    private readonly long _outer, _n, _inner;
    private readonly bool _log;
    private readonly float* _column; // gather buffer for strided (inner > 1) runs

    public SoftmaxKernel(BindContext context, bool log)
    {
        _log = log;
        var shape = context.Input(0).Shape;
        _x = context.FloatInput(0);
        _y = context.FloatOutput(0);
        if (context.Output(0).ElementCount != context.Input(0).ElementCount) throw context.Fail("output and input sizes differ");
        int rank = shape.Length;
        if (rank == 0)
        {
            _outer = _n = _inner = 1;
            return;
        }
        bool legacy = context.Opset < 13;
        int axis = context.Axis(context.Step.GetInt("axis", legacy ? 1 : -1), rank);
        _outer = 1;
        for (int d = 0; d < axis; d++) _outer *= shape[d];
        if (legacy)
        {
            _n = 1;
            for (int d = axis; d < rank; d++) _n *= shape[d];
            _inner = 1;
        }
        else
        {
            _n = shape[axis];
            _inner = 1;
            for (int d = axis + 1; d < rank; d++) _inner *= shape[d];
        }
        if (_inner > 1) _column = (float*)context.Scratch(_n * 4);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        for (long o = 0; o < _outer; o++)
        {
            for (long i = 0; i < _inner; i++)
            {
                float* x = _x + o * _n * _inner + i;
                float* y = _y + o * _n * _inner + i;
                if (_inner == 1)
                {
                    Normalize(x, y);
                }
                else
                {
                    for (long j = 0; j < _n; j++) _column[j] = x[j * _inner];
                    Normalize(_column, _column);
                    for (long j = 0; j < _n; j++) y[j * _inner] = _column[j];
                }
            }
        }
    }

    private void Normalize(float* x, float* y)
    {
        float max = Reductions.Max(x, _n);
        if (_log)
        {
            // log softmax = x - max - log(sum exp(x - max)); x may be y (in place), so nothing is stored first.
            float sum = Reductions.SumExpShifted(x, _n, max);
            float shift = max + MathF.Log(sum);
            for (long j = 0; j < _n; j++) y[j] = x[j] - shift;
            return;
        }
        float total = Reductions.ExpShifted(x, y, _n, max);
        UnaryLoop.Run(new ScaleOp(1f / total), y, y, _n);
    }
}
