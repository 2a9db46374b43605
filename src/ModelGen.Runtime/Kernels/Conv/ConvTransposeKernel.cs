using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// ConvTranspose (fp32, 1-D to N-D): groups, strides, dilations, explicit pads, auto_pad
/// (SAME_UPPER / SAME_LOWER / VALID), output_padding and output_shape, padding computed as the
/// ONNX reference does. Each input element scatters into the output through the kernel; the
/// output position of every (kernel offset, input position) pair is tabulated at bind time
/// (−1 where it falls outside the output), so a run is a multiply-add over that table.
/// </summary>
internal sealed unsafe class ConvTransposeKernel : Kernel
{
    private readonly float* _x, _w, _b, _y;
    private readonly int[] _map;
    private readonly long _batch, _group, _inChannelsPerGroup, _outChannelsPerGroup, _inSize, _outSize, _kernelSize;

    public ConvTransposeKernel(BindContext c)
    {
        var x = c.Input(0);
        var w = c.Input(1);
        var y = c.Output(0);
        int spatial = x.Shape.Length - 2;
        if (spatial < 1) throw c.Fail($"input {BindContext.ShapeText(x.Shape)} needs a batch, a channel and at least one spatial dimension");
        if (w.Shape.Length != x.Shape.Length) throw c.Fail($"weights {BindContext.ShapeText(w.Shape)} must have the input's rank");
        _group = c.Step.GetInt("group", 1);
        long channels = x.Shape[1];
        if (_group < 1 || channels % _group != 0 || w.Shape[0] != channels) throw c.Fail($"weights {BindContext.ShapeText(w.Shape)} and group={_group} do not fit {channels} input channels");
        _inChannelsPerGroup = channels / _group;
        _outChannelsPerGroup = w.Shape[1];
        long outChannels = _outChannelsPerGroup * _group;
        _batch = x.Shape[0];
        if (y.Shape.Length != x.Shape.Length || y.Shape[0] != _batch || y.Shape[1] != outChannels) throw c.Fail($"output {BindContext.ShapeText(y.Shape)} does not match {outChannels} output channels");

        int[] kernel = w.Shape[2..];
        if (c.Step.GetInts("kernel_shape") is { } ks && !ks.Select(v => (int)v).SequenceEqual(kernel)) throw c.Fail("kernel_shape disagrees with the weights");
        long[] strides = c.Step.GetInts("strides") ?? Ones(spatial);
        long[] dilations = c.Step.GetInts("dilations") ?? Ones(spatial);
        long[] outputPadding = c.Step.GetInts("output_padding") ?? new long[spatial];
        if (strides.Length != spatial || dilations.Length != spatial || outputPadding.Length != spatial) throw c.Fail("strides, dilations and output_padding need one value per spatial dimension");
        string autoPad = c.Step.GetString("auto_pad", "NOTSET");
        long[]? outputShape = c.Step.GetInts("output_shape");
        if (outputShape is not null && outputShape.Length == spatial + 2) outputShape = outputShape[2..];
        var begin = new long[spatial];
        for (int d = 0; d < spatial; d++)
        {
            long inSize = x.Shape[d + 2], extent = (kernel[d] - 1) * dilations[d] + 1;
            long? target = outputShape?[d] ?? (autoPad is "SAME_UPPER" or "SAME_LOWER" ? inSize * strides[d] : null);
            if (target is { } t)
            {
                long total = strides[d] * (inSize - 1) + outputPadding[d] + extent - t;
                // Floor division, as the reference's Python "//" (total is negative when output_shape is larger).
                long half = (long)Math.Floor(total / 2.0);
                begin[d] = autoPad == "SAME_UPPER" ? half : total - half;
            }
            else if (autoPad == "VALID")
            {
                begin[d] = 0;
            }
            else if (autoPad == "NOTSET")
            {
                var pads = c.Step.GetInts("pads");
                begin[d] = pads is null ? 0 : pads[d];
            }
            else
            {
                throw c.Fail($"auto_pad '{autoPad}' is not supported");
            }
        }

        _inSize = 1;
        _outSize = 1;
        _kernelSize = 1;
        for (int d = 0; d < spatial; d++)
        {
            _inSize *= x.Shape[d + 2];
            _outSize *= y.Shape[d + 2];
            _kernelSize *= kernel[d];
        }
        _map = new int[_kernelSize * _inSize];
        var k = new long[spatial];
        for (long kk = 0; kk < _kernelSize; kk++)
        {
            var p = new long[spatial];
            for (long ii = 0; ii < _inSize; ii++)
            {
                long o = 0;
                bool inside = true;
                for (int d = 0; d < spatial; d++)
                {
                    long pos = p[d] * strides[d] - begin[d] + k[d] * dilations[d];
                    if (pos < 0 || pos >= y.Shape[d + 2]) inside = false;
                    o = o * y.Shape[d + 2] + pos;
                }
                _map[kk * _inSize + ii] = inside ? (int)o : -1;
                Next(p, x.Shape, 2);
            }
            Next(k, w.Shape, 2);
        }
        _x = c.FloatInput(0);
        _w = c.FloatInput(1);
        if (c.HasInput(2))
        {
            if (c.Input(2).ElementCount != outChannels) throw c.Fail($"bias must have {outChannels} values");
            _b = c.FloatInput(2);
        }
        _y = c.FloatOutput(0);
    }

    private static long[] Ones(int n) => Enumerable.Repeat(1L, n).ToArray();

    private static void Next(long[] index, int[] shape, int offset)
    {
        for (int d = index.Length - 1; d >= 0; d--)
        {
            if (++index[d] < shape[d + offset]) return;
            index[d] = 0;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        long outChannels = _outChannelsPerGroup * _group;
        fixed (int* map = _map)
        {
            for (long n = 0; n < _batch; n++)
            {
                for (long oc = 0; oc < outChannels; oc++)
                {
                    float bias = _b != null ? _b[oc] : 0f;
                    new Span<float>(_y + (n * outChannels + oc) * _outSize, (int)_outSize).Fill(bias);
                }
                for (long g = 0; g < _group; g++)
                {
                    for (long ci = 0; ci < _inChannelsPerGroup; ci++)
                    {
                        long channel = g * _inChannelsPerGroup + ci;
                        float* x = _x + (n * _group * _inChannelsPerGroup + channel) * _inSize;
                        for (long m = 0; m < _outChannelsPerGroup; m++)
                        {
                            float* y = _y + (n * outChannels + g * _outChannelsPerGroup + m) * _outSize;
                            float* w = _w + (channel * _outChannelsPerGroup + m) * _kernelSize;
                            for (long kk = 0; kk < _kernelSize; kk++)
                            {
                                float wk = w[kk];
                                int* row = map + kk * _inSize;
                                for (long ii = 0; ii < _inSize; ii++)
                                {
                                    int o = row[ii];
                                    if (o >= 0) y[o] += wk * x[ii];
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
