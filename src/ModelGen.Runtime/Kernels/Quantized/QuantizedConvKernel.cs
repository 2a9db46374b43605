using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels.Conv;
using ModelGen.Runtime.Kernels.Gemm;
using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// int8-compute Conv (attribute <c>quant</c>; docs/quantization.md; 1-D to 3-D, groups, strides,
/// pads, dilations, optional bias, fused activation). Per call the fp32 input is quantized to
/// uint8 once per image; then, per group, the output is the int8 GEMM
/// <c>Yᵀ[positions, M/g] = rows[positions, K] · W_gᵀ[K, M/g]</c>, where <c>rows</c> is the
/// quantized input unfolded one output position per row (padding reads as the zero point, the
/// quantized 0.0) — or, for a 1×1 stride-1 unpadded conv, simply the transposed input. The
/// epilogue writes each result straight to its place in Y (channel-major), so nothing is copied.
/// The unfold reads a copy of the quantized image whose borders hold the zero point, so it copies
/// each window row as one 8-byte move instead of testing every tap against the borders; a batch
/// is split over the worker pool by images, each part with its own buffers.
/// </summary>
internal sealed unsafe class QuantizedConvKernel : Kernel, IParallelWork
{
    private readonly ActivationQuantization _quantization;
    private readonly WindowGeometry _g;
    private readonly PackedInt8Weights[] _weights; // per group
    private readonly float* _bias;                  // per group, each PaddedN(M/g) floats, or null
    private readonly float* _x, _y;
    private readonly int _batch, _groups, _cPerGroup, _mPerGroup, _k, _kp;
    private readonly bool _direct;
    private readonly int _pd, _ph, _pw;             // the zero-point-bordered image's extents
    private readonly bool _bordered;                // the unfold reads a bordered copy (pads, or windows past the input)
    private readonly PartBuffers[] _parts;          // one per part of a batch split over the pool

    /// <summary>What one part quantizes, unfolds and multiplies in.</summary>
    private sealed class PartBuffers
    {
        public readonly Int8GemmJob Job = new();
        public byte* Image;   // one quantized input image [C, spatial]
        public byte* Padded;  // [C/g, pd, ph, pw] of one group, borders = the zero point (when bordered)
        public byte* Rows;    // [positions, Kp]
        public int Border = -1; // the zero point Padded's borders hold (-1: not filled yet)
    }

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
        float* bias = ConvShape.FloatBias(context, m);
        if (bias != null)
        {
            _bias = (float*)context.Scratch((long)_groups * padded * sizeof(float));
            for (int g = 0; g < _groups; g++)
            {
                for (int j = 0; j < _mPerGroup; j++) _bias[g * padded + j] = bias[g * _mPerGroup + j];
            }
        }
        _pd = _g.PaddedExtent(0);
        _ph = _g.PaddedExtent(1);
        _pw = _g.PaddedExtent(2);
        _bordered = !_direct && (_pd != _g.In[0] || _ph != _g.In[1] || _pw != _g.In[2] || _g.PadBegin[0] + _g.PadBegin[1] + _g.PadBegin[2] != 0);

        long work = (long)_batch * m * _g.OutSize * _k;
        int partCount = _batch > 1 && work >= Int8GemmJob.ParallelThreshold ? Math.Min(WorkerPool.Shared.Concurrency, _batch) : 1;
        _parts = new PartBuffers[partCount];
        var activation = Epilogue.FromStep(context);
        for (int i = 0; i < partCount; i++)
        {
            var part = _parts[i] = new PartBuffers
            {
                Image = context.Scratch((long)c * _g.InSize),
                Padded = _bordered ? context.Scratch((long)_cPerGroup * _pd * _ph * _pw) : null,
                // The unfold's 8-byte moves run up to 7 bytes past a row, into the next (written after) or the slack.
                Rows = context.Scratch((long)_g.OutSize * _kp),
            };
            var job = part.Job;
            job.A = part.Rows;
            job.Lda = _kp;
            job.M = _g.OutSize;
            job.N = _mPerGroup;
            job.Kp = _kp;
            job.Epilogue = new Int8Epilogue
            {
                Activation = activation,
                RowStride = 1,
                ColStride = _g.OutSize,
            };
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        var q = _quantization;
        if (q.IsDynamic)
        {
            q.Resolve(_x, (long)_batch * _cPerGroup * _groups * _g.InSize);
            foreach (var w in _weights) w.SetActivationScale(q.Scale, 1f);
        }
        if (_parts.Length > 1) WorkerPool.Shared.Run(this, _parts.Length);
        else Images(_parts[0], 0, _batch);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part, int parts) =>
        Images(_parts[part], (int)WorkerPool.Split(_batch, part, parts), (int)WorkerPool.Split(_batch, part + 1, parts));

    /// <summary>Quantizes, unfolds and multiplies images [<paramref name="n0"/>, <paramref name="n1"/>) in <paramref name="part"/>'s buffers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Images(PartBuffers part, int n0, int n1)
    {
        var q = _quantization;
        int c = _cPerGroup * _groups, inSize = _g.InSize, outSize = _g.OutSize;
        int padded = Int8Packing.PaddedN(_mPerGroup);
        var job = part.Job;
        for (int n = n0; n < n1; n++)
        {
            ActivationQuantizer.Contiguous(_x + (long)n * c * inSize, (long)c * inSize, q.Scale, q.ZeroPoint, part.Image);
            for (int g = 0; g < _groups; g++)
            {
                byte* image = part.Image + (long)g * _cPerGroup * inSize;
                if (_direct) Transpose(image, part.Rows);
                else if (_bordered)
                {
                    Border(image, part, (byte)q.ZeroPoint);
                    Unfold(part.Padded, part.Rows, _pd, _ph, _pw);
                }
                else Unfold(image, part.Rows, _g.In[0], _g.In[1], _g.In[2]);
                var weights = _weights[g];
                job.PackedB = weights.Packed;
                job.Epilogue.ColumnSums = weights.ColumnSums;
                job.Epilogue.Multipliers = weights.Multipliers;
                job.Epilogue.ZeroPoint = q.ZeroPoint;
                job.Epilogue.Bias = _bias == null ? null : _bias + g * padded;
                job.Epilogue.Y = _y + ((long)n * _groups + g) * _mPerGroup * outSize;
                job.Run();
            }
        }
    }

    /// <summary>1×1: rows[p, c] = image[c, p].</summary>
    private void Transpose(byte* image, byte* rows)
    {
        int size = _g.InSize;
        for (int p = 0; p < size; p++)
        {
            byte* row = rows + (long)p * _kp;
            for (int ch = 0; ch < _cPerGroup; ch++) row[ch] = image[(long)ch * size + p];
        }
    }

    /// <summary>
    /// Copies one group's channels into the interior of <paramref name="part"/>'s bordered copy, whose other bytes hold the
    /// zero point (the quantized 0.0 of the pads). Only the interior is ever written, so the borders are filled again only
    /// when the zero point changes (dynamic quantization).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Border(byte* image, PartBuffers part, byte zeroPoint)
    {
        var g = _g;
        long plane = (long)_pd * _ph * _pw;
        byte* padded = part.Padded;
        if (part.Border != zeroPoint)
        {
            new Span<byte>(padded, checked((int)(_cPerGroup * plane))).Fill(zeroPoint);
            part.Border = zeroPoint;
        }
        for (int ch = 0; ch < _cPerGroup; ch++)
        {
            byte* from = image + (long)ch * g.InSize;
            byte* to = padded + ch * plane;
            for (int d = 0; d < g.In[0]; d++)
            for (int h = 0; h < g.In[1]; h++)
            {
                Buffer.MemoryCopy(from + ((long)d * g.In[1] + h) * g.In[2],
                    to + ((long)(d + g.PadBegin[0]) * _ph + h + g.PadBegin[1]) * _pw + g.PadBegin[2], g.In[2], g.In[2]);
            }
        }
    }

    /// <summary>
    /// rows[(od,oh,ow), (c,kd,kh,kw)] = source[c, od·s + kd·dil, …] from a source of extents
    /// <paramref name="sd"/>×<paramref name="sh"/>×<paramref name="sw"/> that holds every window (the bordered copy,
    /// or the input itself when no window leaves it). A window row of up to 8 contiguous taps is one 8-byte move: the
    /// bytes it writes past the row's taps are overwritten by the next move, or land in the row's K padding (whose
    /// weights are zero) or the next row, which is written later.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Unfold(byte* source, byte* rows, int sd, int sh, int sw)
    {
        var g = _g;
        int kd0 = g.Kernel[0], kh0 = g.Kernel[1], kw0 = g.Kernel[2];
        int dd = g.Dilation[0], dh = g.Dilation[1], dw = g.Dilation[2];
        long plane = (long)sd * sh * sw;
        bool moves = dw == 1 && kw0 <= 8;
        byte* row = rows;
        for (int od = 0; od < g.Out[0]; od++)
        for (int oh = 0; oh < g.Out[1]; oh++)
        for (int ow = 0; ow < g.Out[2]; ow++)
        {
            byte* dst = row;
            int d0 = od * g.Stride[0], h0 = oh * g.Stride[1], w0 = ow * g.Stride[2];
            for (int ch = 0; ch < _cPerGroup; ch++)
            {
                byte* channel = source + ch * plane + w0;
                for (int kd = 0; kd < kd0; kd++)
                for (int kh = 0; kh < kh0; kh++)
                {
                    byte* src = channel + ((long)(d0 + kd * dd) * sh + h0 + kh * dh) * sw;
                    if (moves) *(ulong*)dst = *(ulong*)src;
                    else for (int kw = 0; kw < kw0; kw++) dst[kw] = src[kw * dw];
                    dst += kw0;
                }
            }
            row += _kp;
        }
    }
}
