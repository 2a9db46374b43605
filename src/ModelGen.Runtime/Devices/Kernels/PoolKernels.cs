using ILGPU;
using ILGPU.Algorithms;

namespace ModelGen.Runtime.Devices;

/// <summary>Parameters of <see cref="PoolKernels.Pool"/> (the normalized 3-D window geometry).</summary>
internal struct PoolParams
{
    public int Count, Max, CountPad;
    public int InD, InH, InW, OutD, OutH, OutW;
    public int KD, KH, KW, SD, SH, SW, PD, PH, PW, ED, EH, EW, DD, DH, DW;
    public int X, Y;
}

/// <summary>Parameters of <see cref="PoolKernels.GlobalPool"/>.</summary>
internal struct GlobalPoolParams
{
    public int Planes, Size, Max, X, Y;
}

/// <summary>MaxPool, AveragePool, GlobalAveragePool and GlobalMaxPool, grid-stride.</summary>
internal static class PoolKernels
{
    /// <summary>
    /// One output element per iteration, with the CPU's general loop's rules (Kernels/Conv/PoolKernel.cs):
    /// NaN propagates through max, count_include_pad counts taps inside the padded extent only.
    /// </summary>
    public static void Pool(ArrayView<float> mem, PoolParams p)
    {
        int outSize = p.OutD * p.OutH * p.OutW, inSize = p.InD * p.InH * p.InW;
        for (int i = Grid.GlobalIndex.X; i < p.Count; i += Grid.DimX * Group.DimX)
        {
            int plane = i / outSize, o = i % outSize;
            int ow = o % p.OutW, oh = o / p.OutW % p.OutH, od = o / (p.OutW * p.OutH);
            int d0 = od * p.SD - p.PD, h0 = oh * p.SH - p.PH, w0 = ow * p.SW - p.PW;
            int x = p.X + plane * inSize;
            // The window's taps inside the input and inside the padded extent factor per dim
            // (count_include_pad counts the latter; taps past it, from ceil_mode, never count).
            int inside = Taps(d0, p.KD, p.DD, 0, p.InD) * Taps(h0, p.KH, p.DH, 0, p.InH) * Taps(w0, p.KW, p.DW, 0, p.InW);
            int padded = Taps(d0, p.KD, p.DD, int.MinValue, p.InD + p.ED) * Taps(h0, p.KH, p.DH, int.MinValue, p.InH + p.EH)
                * Taps(w0, p.KW, p.DW, int.MinValue, p.InW + p.EW);
            float acc = p.Max != 0 ? float.NegativeInfinity : 0f;
            for (int kd = 0; kd < p.KD; kd++)
            {
                int id = d0 + kd * p.DD;
                if (id < 0 || id >= p.InD) continue;
                for (int kh = 0; kh < p.KH; kh++)
                {
                    int ih = h0 + kh * p.DH;
                    if (ih < 0 || ih >= p.InH) continue;
                    int row = x + (id * p.InH + ih) * p.InW;
                    for (int kw = 0; kw < p.KW; kw++)
                    {
                        int iw = w0 + kw * p.DW;
                        if (iw < 0 || iw >= p.InW) continue;
                        float v = mem[row + iw];
                        if (p.Max == 0) acc += v;
                        else if (v > acc || XMath.IsNaN(v)) acc = v;
                    }
                }
            }
            if (p.Max == 0)
            {
                int n = p.CountPad != 0 ? padded : inside;
                acc /= n < 1 ? 1 : n;
            }
            mem[p.Y + i] = acc;
        }
    }

    /// <summary>The taps k &lt; <paramref name="kernel"/> with lower &lt;= begin + k·dilation &lt; upper.</summary>
    private static int Taps(int begin, int kernel, int dilation, int lower, int upper)
    {
        int count = 0;
        for (int k = 0; k < kernel; k++)
        {
            int at = begin + k * dilation;
            if (at >= lower && at < upper) count++;
        }
        return count;
    }

    /// <summary>One (image, channel) plane per iteration: its mean or max.</summary>
    public static void GlobalPool(ArrayView<float> mem, GlobalPoolParams p)
    {
        for (int i = Grid.GlobalIndex.X; i < p.Planes; i += Grid.DimX * Group.DimX)
        {
            int x = p.X + i * p.Size;
            float acc = p.Max != 0 ? float.NegativeInfinity : 0f;
            for (int j = 0; j < p.Size; j++)
            {
                float v = mem[x + j];
                if (p.Max != 0)
                {
                    if (v > acc || XMath.IsNaN(v)) acc = v;
                }
                else
                {
                    acc += v;
                }
            }
            mem[p.Y + i] = p.Max != 0 ? acc : acc / p.Size;
        }
    }
}
