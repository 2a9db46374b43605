using ModelGen.Runtime.Kernels.Gemm;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// ONNX Conv (1-D/2-D/3-D, groups, strides, pads, dilations, auto_pad, optional bias, fused
/// activation) as im2col + the SGEMM core: per image and group, Y_g[M/g, out] = W_g · col_g with
/// the bias and activation applied in the GEMM epilogue. A 1×1, stride-1, unpadded conv packs the
/// input directly (no im2col). Weight matrices are packed once here; all scratch is allocated here.
/// </summary>
internal sealed unsafe class ConvKernel : Kernel
{
    private readonly SgemmJob _job = new();
    private readonly WindowGeometry _g;
    private readonly float* _x;
    private readonly float* _w;
    private readonly float* _y;
    private readonly float* _bias;
    private readonly int _batch, _groups, _cPerGroup, _mPerGroup, _k;
    private readonly bool _direct;
    private readonly bool _packWPerCall;
    private readonly float* _packedW; // all groups, each Sgemm.PackedASize(mPerGroup, k) floats
    private readonly float* _col;     // im2col buffer [k, out]

    public ConvKernel(BindContext context)
    {
        var xSlot = context.Input(0);
        var wSlot = context.Input(1);
        var ySlot = context.Output(0);
        int[] xs = xSlot.Shape, ws = wSlot.Shape, ys = ySlot.Shape;
        if (xs.Length < 3 || xs.Length > 5) throw context.Fail($"input {BindContext.ShapeText(xs)} must be [N,C,spatial...] with 1 to 3 spatial dims");
        if (ws.Length != xs.Length || ys.Length != xs.Length) throw context.Fail($"W{BindContext.ShapeText(ws)} and Y{BindContext.ShapeText(ys)} must have the input's rank {xs.Length}");
        _batch = xs[0];
        int c = xs[1];
        int m = ws[0];
        _groups = (int)context.Step.GetInt("group", 1);
        if (_groups < 1 || c % _groups != 0 || m % _groups != 0)
        {
            throw context.Fail($"group={_groups} must divide the input channels ({c}) and the output channels ({m})");
        }
        _cPerGroup = c / _groups;
        _mPerGroup = m / _groups;
        if (ws[1] != _cPerGroup) throw context.Fail($"W{BindContext.ShapeText(ws)} expects {ws[1]} channels per group, but the input has {c} channels in {_groups} group(s)");
        if (ys[0] != _batch || ys[1] != m) throw context.Fail($"output {BindContext.ShapeText(ys)} must be [{_batch},{m},...]");
        _g = WindowGeometry.Create(context, xs[2..], ys[2..], ws[2..], checkOutput: true);
        _k = _cPerGroup * _g.KernelSize;

        _x = context.FloatInput(0);
        _w = context.FloatInput(1);
        _y = context.FloatOutput(0);
        if (context.HasInput(2))
        {
            if (context.Input(2).ElementCount != m) throw context.Fail($"bias has {context.Input(2).ElementCount} elements; expected {m}");
            _bias = context.FloatInput(2);
        }

        bool oneByOne = _g.KernelSize == 1;
        for (int d = 0; d < WindowGeometry.Rank; d++)
        {
            oneByOne &= _g.Stride[d] == 1 && _g.PadBegin[d] == 0 && _g.PadEnd[d] == 0;
        }
        _direct = oneByOne;
        int outSize = _g.OutSize;

        _job.M = _mPerGroup;
        _job.N = outSize;
        _job.K = _k;
        _job.Ldc = outSize;
        _job.Epilogue = Epilogue.FromStep(context);

        long packedWPerGroup = Sgemm.PackedASize(_mPerGroup, _k);
        _packedW = (float*)context.Scratch(packedWPerGroup * _groups * 4);
        _packWPerCall = wSlot.Storage == SlotStorage.Arena;
        if (!_packWPerCall) PackWeights();
        _job.PackedB = (float*)context.Scratch(Sgemm.PackedBSize(_k, outSize) * 4);
        if (!_direct) _col = (float*)context.Scratch((long)_k * outSize * 4);
    }

    private void PackWeights()
    {
        long packed = Sgemm.PackedASize(_mPerGroup, _k);
        for (int g = 0; g < _groups; g++)
        {
            Sgemm.PackA(_w + (long)g * _mPerGroup * _k, _k, 1, _mPerGroup, _k, _packedW + g * packed);
        }
    }

    public override void Execute()
    {
        if (_packWPerCall) PackWeights();
        int inSize = _g.InSize, outSize = _g.OutSize;
        long packed = Sgemm.PackedASize(_mPerGroup, _k);
        for (int n = 0; n < _batch; n++)
        {
            for (int g = 0; g < _groups; g++)
            {
                float* x = _x + ((long)n * _groups + g) * _cPerGroup * inSize;
                if (_direct)
                {
                    // 1x1, stride 1, no pads (dilation is irrelevant): B is the input itself, [C/g, spatial].
                    Sgemm.PackB(x, inSize, 1, _k, outSize, _job.PackedB);
                }
                else
                {
                    Im2Col(x, _col);
                    Sgemm.PackB(_col, outSize, 1, _k, outSize, _job.PackedB);
                }
                _job.PackedA = _packedW + g * packed;
                _job.C = _y + ((long)n * _groups + g) * _mPerGroup * outSize;
                _job.Epilogue.RowBias = _bias == null ? null : _bias + g * _mPerGroup;
                _job.Run();
            }
        }
    }

    /// <summary>Writes col[(c,kd,kh,kw), (od,oh,ow)] = padded x[c, od*s+kd*dil-pad, ...] (0 in the padding).</summary>
    private void Im2Col(float* x, float* col)
    {
        var g = _g;
        int id0 = g.In[0], ih0 = g.In[1], iw0 = g.In[2];
        int od0 = g.Out[0], oh0 = g.Out[1], ow0 = g.Out[2];
        float* row = col;
        int outCount = g.OutSize;
        for (int c = 0; c < _cPerGroup; c++)
        {
            float* xc = x + (long)c * id0 * ih0 * iw0;
            for (int kd = 0; kd < g.Kernel[0]; kd++)
            for (int kh = 0; kh < g.Kernel[1]; kh++)
            for (int kw = 0; kw < g.Kernel[2]; kw++)
            {
                float* dst = row;
                for (int od = 0; od < od0; od++)
                {
                    int id = od * g.Stride[0] - g.PadBegin[0] + kd * g.Dilation[0];
                    bool dIn = (uint)id < (uint)id0;
                    for (int oh = 0; oh < oh0; oh++)
                    {
                        int ih = oh * g.Stride[1] - g.PadBegin[1] + kh * g.Dilation[1];
                        if (!dIn || (uint)ih >= (uint)ih0)
                        {
                            new Span<float>(dst, ow0).Clear();
                            dst += ow0;
                            continue;
                        }
                        float* src = xc + ((long)id * ih0 + ih) * iw0;
                        int iwStart = -g.PadBegin[2] + kw * g.Dilation[2];
                        int sw = g.Stride[2];
                        for (int ow = 0; ow < ow0; ow++)
                        {
                            int iw = iwStart + ow * sw;
                            dst[ow] = (uint)iw < (uint)iw0 ? src[iw] : 0f;
                        }
                        dst += ow0;
                    }
                }
                row += outCount;
            }
        }
    }
}
