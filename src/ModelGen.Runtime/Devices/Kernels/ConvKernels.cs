using ILGPU;

namespace ModelGen.Runtime.Devices;

/// <summary>
/// Parameters of <see cref="ConvKernels.Conv"/>: the normalized 3-D window geometry of
/// <see cref="Kernels.Conv.WindowGeometry"/> (1-D and 2-D convs have leading 1s), groups, offsets.
/// </summary>
internal struct ConvParams
{
    public int CPerGroup, MPerGroup, K, OutSize, Groups, Tile;
    public int InD, InH, InW, OutH, OutW;
    public int KD, KH, KW, SD, SH, SW, PD, PH, PW, DD, DH, DW;
    public int X, W, Y, Bias;
    /// <summary>Offset of a residual laid out like Y, added before the activation (a fused Conv → Add), or -1.</summary>
    public int Residual;
    public UnaryFn Act;
}

/// <summary>Conv as an implicit GEMM: the im2col matrix is never stored, each tile gathers it.</summary>
internal static class ConvKernels
{
    private const int MaxTile = GemmKernels.MaxTile;
    private const int TileElements = MaxTile * MaxTile;

    /// <summary>
    /// Per (image, group) unit (grid z): Y_u[m, p] = act(bias[m] + Σk W_g[m, k]·col_u[k, p] + R_u[m, p]), with
    /// col_u[k, p] the input tap k = (channel, kd, kh, kw) of output position p, or 0 in the
    /// padding. Tiled through shared memory like <see cref="GemmKernels.Gemm"/>.
    /// </summary>
    public static void Conv(ArrayView<float> mem, ConvParams p)
    {
        var wTile = SharedMemory.Allocate<float>(TileElements);
        var xTile = SharedMemory.Allocate<float>(TileElements);
        int t = p.Tile;
        int tx = Group.IdxX, ty = Group.IdxY;
        int m = Grid.IdxY * t + ty, pos = Grid.IdxX * t + tx, unit = Grid.IdxZ;
        int g = unit % p.Groups;
        int inSize = p.InD * p.InH * p.InW;
        int x = p.X + unit * p.CPerGroup * inSize;
        int w = p.W + (g * p.MPerGroup) * p.K;
        int taps = p.KD * p.KH * p.KW;
        // This thread's output position, for the column it loads.
        int oh = 0, ow = 0, od = 0;
        if (pos < p.OutSize)
        {
            ow = pos % p.OutW;
            oh = pos / p.OutW % p.OutH;
            od = pos / (p.OutW * p.OutH);
        }
        float acc = 0f;
        for (int k0 = 0; k0 < p.K; k0 += t)
        {
            int kw0 = k0 + tx;
            wTile[ty * MaxTile + tx] = m < p.MPerGroup && kw0 < p.K ? mem[w + m * p.K + kw0] : 0f;
            int k = k0 + ty;
            float v = 0f;
            if (k < p.K && pos < p.OutSize)
            {
                int c = k / taps, r = k % taps;
                int kd = r / (p.KH * p.KW), kh = r / p.KW % p.KH, kwi = r % p.KW;
                int id = od * p.SD - p.PD + kd * p.DD;
                int ih = oh * p.SH - p.PH + kh * p.DH;
                int iw = ow * p.SW - p.PW + kwi * p.DW;
                if (id >= 0 && id < p.InD && ih >= 0 && ih < p.InH && iw >= 0 && iw < p.InW)
                {
                    v = mem[x + c * inSize + (id * p.InH + ih) * p.InW + iw];
                }
            }
            xTile[ty * MaxTile + tx] = v;
            Group.Barrier();
            for (int j = 0; j < t; j++) acc += wTile[ty * MaxTile + j] * xTile[j * MaxTile + tx];
            Group.Barrier();
        }
        if (m >= p.MPerGroup || pos >= p.OutSize) return;
        if (p.Bias >= 0) acc += mem[p.Bias + g * p.MPerGroup + m];
        int at = (unit * p.MPerGroup + m) * p.OutSize + pos;
        if (p.Residual >= 0) acc += mem[p.Residual + at];
        mem[p.Y + at] = DeviceMath.Apply(acc, p.Act);
    }
}
