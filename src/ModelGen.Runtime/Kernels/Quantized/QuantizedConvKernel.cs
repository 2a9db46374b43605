using ModelGen.Runtime.Kernels.Conv;
using ModelGen.Runtime.Kernels.Gemm;

namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// int8-compute Conv (attribute <c>quant</c>; docs/quantization.md; 1-D to 3-D, groups, strides,
/// pads, dilations, optional bias, fused activation). Per call the fp32 input is quantized to
/// uint8 once per image; then, per group, the output is the int8 GEMM
/// <c>Yᵀ[positions, M/g] = rows[positions, K] · W_gᵀ[K, M/g]</c>, where <c>rows</c> is the
/// quantized input unfolded one output position per row (padding reads as the zero point, the
/// quantized 0.0) — or, for a 1×1 stride-1 unpadded conv, simply the transposed input. The
/// epilogue writes each result straight to its place in Y (channel-major), so nothing is copied.
/// </summary>
internal sealed unsafe class QuantizedConvKernel : Kernel
{
    private readonly Int8GemmJob _job = new();
    private readonly ActivationQuantization _quantization;
    private readonly WindowGeometry _g;
    private readonly PackedInt8Weights[] _weights; // per group
    private readonly float* _bias;                  // per group, each PaddedN(M/g) floats, or null
    private readonly float* _x, _y;
    private readonly byte* _image;                  // one quantized input image [C, spatial]
    private readonly byte* _rows;                   // [positions, Kp]
    private readonly int _batch, _groups, _cPerGroup, _mPerGroup, _k, _kp;
    private readonly bool _direct;

    public QuantizedConvKernel(BindContext context)
    {
        var xSlot = context.Input(0);
        var wSlot = context.Input(1);
        var ySlot = context.Output(0);
        var layout = Int8WeightLayout.Bind(context, 1);
        _quantization = ActivationQuantization.FromStep(context);
        var shape = ConvShape.Bind(context);
        (_batch, _groups, _cPerGroup, _mPerGroup, _g, _k) =
            (shape.Batch, shape.Groups, shape.CPerGroup, shape.MPerGroup, shape.Geometry, shape.K);
        int c = _groups * _cPerGroup, m = _groups * _mPerGroup;
        _kp = Int8Packing.PaddedK(_k);
        _x = context.FloatInput(0);
        _y = context.FloatOutput(0);

        bool direct = _g.KernelSize == 1;
        for (int d = 0; d < WindowGeometry.Rank; d++) direct &= _g.Stride[d] == 1 && _g.PadBegin[d] == 0 && _g.PadEnd[d] == 0;
        _direct = direct;

        // W_g is [M/g, K] row-major; the GEMM wants W_gᵀ[K, M/g]: element (k, j) at w[j*K + k].
        sbyte* w = (sbyte*)context.Address(wSlot);
        int padded = Int8Packing.PaddedN(_mPerGroup);
        _weights = new PackedInt8Weights[_groups];
        for (int g = 0; g < _groups; g++)
        {
            _weights[g] = new PackedInt8Weights(context, w + (long)g * _mPerGroup * _k, 1, _k, _k, _mPerGroup, layout.Scales + g * _mPerGroup);
            _weights[g].SetActivationScale(_quantization.Scale, 1f);
        }
        if (context.HasInput(2))
        {
            if (context.Input(2).ElementCount != m) throw context.Fail($"bias has {context.Input(2).ElementCount} elements; expected {m}");
            float* bias = context.FloatInput(2);
            _bias = (float*)context.Scratch((long)_groups * padded * sizeof(float));
            for (int g = 0; g < _groups; g++)
            {
                for (int j = 0; j < _mPerGroup; j++) _bias[g * padded + j] = bias[g * _mPerGroup + j];
            }
        }
        _image = context.Scratch((long)c * _g.InSize);
        _rows = context.Scratch((long)_g.OutSize * _kp);

        _job.A = _rows;
        _job.Lda = _kp;
        _job.M = _g.OutSize;
        _job.N = _mPerGroup;
        _job.Kp = _kp;
        _job.Epilogue = new Int8Epilogue
        {
            Activation = Epilogue.FromStep(context),
            RowStride = 1,
            ColStride = _g.OutSize,
        };
    }

    public override void Execute()
    {
        var q = _quantization;
        int c = _cPerGroup * _groups, inSize = _g.InSize, outSize = _g.OutSize;
        if (q.IsDynamic)
        {
            q.Resolve(_x, (long)_batch * c * inSize);
            foreach (var w in _weights) w.SetActivationScale(q.Scale, 1f);
        }
        int padded = Int8Packing.PaddedN(_mPerGroup);
        for (int n = 0; n < _batch; n++)
        {
            ActivationQuantizer.Contiguous(_x + (long)n * c * inSize, (long)c * inSize, q.Scale, q.ZeroPoint, _image);
            for (int g = 0; g < _groups; g++)
            {
                byte* image = _image + (long)g * _cPerGroup * inSize;
                if (_direct) Transpose(image);
                else Unfold(image, (byte)q.ZeroPoint);
                var weights = _weights[g];
                _job.PackedB = weights.Packed;
                _job.Epilogue.ColumnSums = weights.ColumnSums;
                _job.Epilogue.Multipliers = weights.Multipliers;
                _job.Epilogue.ZeroPoint = q.ZeroPoint;
                _job.Epilogue.Bias = _bias == null ? null : _bias + g * padded;
                _job.Epilogue.Y = _y + ((long)n * _groups + g) * _mPerGroup * outSize;
                _job.Run();
            }
        }
    }

    /// <summary>1×1: rows[p, c] = image[c, p].</summary>
    private void Transpose(byte* image)
    {
        int size = _g.InSize;
        for (int p = 0; p < size; p++)
        {
            byte* row = _rows + (long)p * _kp;
            for (int ch = 0; ch < _cPerGroup; ch++) row[ch] = image[(long)ch * size + p];
        }
    }

    /// <summary>rows[(od,oh,ow), (c,kd,kh,kw)] = image[c, od*s+kd*dil-pad, …], or the zero point in the padding.</summary>
    private void Unfold(byte* image, byte zeroPoint)
    {
        var g = _g;
        int id0 = g.In[0], ih0 = g.In[1], iw0 = g.In[2];
        int kd0 = g.Kernel[0], kh0 = g.Kernel[1], kw0 = g.Kernel[2];
        byte* row = _rows;
        for (int od = 0; od < g.Out[0]; od++)
        for (int oh = 0; oh < g.Out[1]; oh++)
        for (int ow = 0; ow < g.Out[2]; ow++)
        {
            byte* dst = row;
            int d0 = od * g.Stride[0] - g.PadBegin[0];
            int h0 = oh * g.Stride[1] - g.PadBegin[1];
            int w0 = ow * g.Stride[2] - g.PadBegin[2];
            for (int ch = 0; ch < _cPerGroup; ch++)
            {
                byte* plane = image + (long)ch * id0 * ih0 * iw0;
                for (int kd = 0; kd < kd0; kd++)
                {
                    int id = d0 + kd * g.Dilation[0];
                    for (int kh = 0; kh < kh0; kh++)
                    {
                        int ih = h0 + kh * g.Dilation[1];
                        bool inside = (uint)id < (uint)id0 && (uint)ih < (uint)ih0;
                        byte* src = plane + ((long)id * ih0 + ih) * iw0;
                        for (int kw = 0; kw < kw0; kw++)
                        {
                            int iw = w0 + kw * g.Dilation[2];
                            *dst++ = inside && (uint)iw < (uint)iw0 ? src[iw] : zeroPoint;
                        }
                    }
                }
            }
            row += _kp;
        }
    }
}
