using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// The common pool case as a tight loop: 2-D windows (no depth), dilation 1. Each output clips its
/// window to the input once (so the inner loops carry no bounds checks), instead of testing every
/// tap as the general loop in <see cref="PoolKernel"/> does. Same results, NaN and padding rules.
/// </summary>
internal readonly unsafe struct Pool2D
{
    private readonly int _ih, _iw, _oh, _ow, _kh, _kw, _sh, _sw, _ph, _pw, _padEndH, _padEndW;
    private readonly bool _max, _countPad;

    /// <summary>Whether <paramref name="g"/> fits this path.</summary>
    public static bool Fits(WindowGeometry g) =>
        g.In[0] == 1 && g.Out[0] == 1 && g.Kernel[0] == 1 && g.PadBegin[0] == 0 && g.PadEnd[0] == 0 && g.Dilation[1] == 1 && g.Dilation[2] == 1;

    public Pool2D(WindowGeometry g, bool max, bool countPad)
    {
        _ih = g.In[1]; _iw = g.In[2]; _oh = g.Out[1]; _ow = g.Out[2];
        _kh = g.Kernel[1]; _kw = g.Kernel[2]; _sh = g.Stride[1]; _sw = g.Stride[2];
        _ph = g.PadBegin[1]; _pw = g.PadBegin[2]; _padEndH = g.PadEnd[1]; _padEndW = g.PadEnd[2];
        _max = max;
        _countPad = countPad;
    }

    /// <summary>Widest row the separable max path keeps on the stack (64 KB).</summary>
    private const int MaxStackRow = 16384;

    /// <summary>Pools one [H, W] plane of <paramref name="x"/> into <paramref name="y"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Plane(float* x, float* y)
    {
        if (_max && _iw <= MaxStackRow)
        {
            float* column = stackalloc float[_iw];
            MaxSeparable(x, y, column);
            return;
        }

        for (int oh = 0; oh < _oh; oh++)
        {
            int h0 = oh * _sh - _ph;
            int hBegin = Math.Max(h0, 0), hEnd = Math.Min(h0 + _kh, _ih);
            // Taps inside the padded extent count for count_include_pad; ones past it (ceil_mode) do not.
            int paddedH = Math.Max(Math.Min(h0 + _kh, _ih + _padEndH) - h0, 0);
            float* yRow = y + (long)oh * _ow;
            for (int ow = 0; ow < _ow; ow++)
            {
                int w0 = ow * _sw - _pw;
                int wBegin = Math.Max(w0, 0), wEnd = Math.Min(w0 + _kw, _iw);
                float acc = _max ? float.NegativeInfinity : 0f;
                for (int ih = hBegin; ih < hEnd; ih++)
                {
                    float* row = x + (long)ih * _iw;
                    if (_max)
                    {
                        // MathF.Max is branch-free and propagates NaN, as the general loop does; a compare
                        // and branch mispredicts about half the time on real activations.
                        for (int iw = wBegin; iw < wEnd; iw++) acc = MathF.Max(acc, row[iw]);
                    }
                    else
                    {
                        for (int iw = wBegin; iw < wEnd; iw++) acc += row[iw];
                    }
                }
                if (!_max)
                {
                    int count = Math.Max(hEnd - hBegin, 0) * Math.Max(wEnd - wBegin, 0);
                    int paddedW = Math.Max(Math.Min(w0 + _kw, _iw + _padEndW) - w0, 0);
                    acc /= _countPad ? Math.Max(paddedH * paddedW, 1) : Math.Max(count, 1);
                }
                yRow[ow] = acc;
            }
        }
    }

    /// <summary>
    /// Max pooling in two passes per output row: the max down the window's rows for every input
    /// column (whole rows at SIMD width), then the max across each window's columns. Max is exact
    /// in any order, and the vector Max propagates NaN and orders −0 below +0 like
    /// <see cref="MathF.Max(float, float)"/>, so results equal the one-pass loop's bit for bit,
    /// with kw instead of kh·kw scalar steps per output.
    /// </summary>
    private void MaxSeparable(float* x, float* y, float* column)
    {
        for (int oh = 0; oh < _oh; oh++)
        {
            int h0 = oh * _sh - _ph;
            int hBegin = Math.Max(h0, 0), hEnd = Math.Min(h0 + _kh, _ih);
            float* yRow = y + (long)oh * _ow;
            if (hEnd <= hBegin)
            {
                for (int ow = 0; ow < _ow; ow++) yRow[ow] = float.NegativeInfinity;
                continue;
            }
            ColumnMax(x + (long)hBegin * _iw, hEnd - hBegin, column);
            for (int ow = 0; ow < _ow; ow++)
            {
                int w0 = ow * _sw - _pw;
                int wBegin = Math.Max(w0, 0), wEnd = Math.Min(w0 + _kw, _iw);
                float acc = float.NegativeInfinity;
                for (int iw = wBegin; iw < wEnd; iw++) acc = MathF.Max(acc, column[iw]);
                yRow[ow] = acc;
            }
        }
    }

    /// <summary><paramref name="column"/>[w] = max over <paramref name="rows"/> rows starting at <paramref name="x"/> of x[r][w].</summary>
    private void ColumnMax(float* x, int rows, float* column)
    {
        int w = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; w + 16 <= _iw; w += 16)
            {
                var acc = Vector512.Load(x + w);
                for (int r = 1; r < rows; r++) acc = Vector512.Max(acc, Vector512.Load(x + (long)r * _iw + w));
                acc.Store(column + w);
            }
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; w + 8 <= _iw; w += 8)
            {
                var acc = Vector256.Load(x + w);
                for (int r = 1; r < rows; r++) acc = Ieee256.Max(acc, Vector256.Load(x + (long)r * _iw + w));
                acc.Store(column + w);
            }
        }
        for (; w < _iw; w++)
        {
            float acc = x[w];
            for (int r = 1; r < rows; r++) acc = MathF.Max(acc, x[(long)r * _iw + w]);
            column[w] = acc;
        }
    }
}
