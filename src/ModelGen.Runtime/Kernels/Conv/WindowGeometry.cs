namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// The sliding-window geometry shared by Conv and the pools, normalized to exactly three spatial
/// dims (D, H, W; 1-D and 2-D ops get leading 1s) so one loop nest serves all ranks. Reads
/// kernel_shape, strides, dilations, pads and auto_pad with ONNX defaults and semantics.
/// </summary>
internal sealed class WindowGeometry
{
    public const int Rank = 3;

    public int[] In { get; } = [1, 1, 1];
    public int[] Out { get; } = [1, 1, 1];
    public int[] Kernel { get; } = [1, 1, 1];
    public int[] Stride { get; } = [1, 1, 1];
    public int[] Dilation { get; } = [1, 1, 1];
    public int[] PadBegin { get; } = new int[3];
    public int[] PadEnd { get; } = new int[3];

    public int InSize => In[0] * In[1] * In[2];
    public int OutSize => Out[0] * Out[1] * Out[2];
    public int KernelSize => Kernel[0] * Kernel[1] * Kernel[2];

    /// <summary>Effective (dilated) kernel extent along dim <paramref name="d"/>.</summary>
    public int Extent(int d) => (Kernel[d] - 1) * Dilation[d] + 1;

    /// <summary>
    /// Extent along dim <paramref name="d"/> of the zero-bordered input a kernel reads windows from: the input and its
    /// pads, and at least every window's reach.
    /// </summary>
    public int PaddedExtent(int d) => Math.Max(In[d] + PadBegin[d] + PadEnd[d], (Out[d] - 1) * Stride[d] + Extent(d));

    /// <summary>
    /// Writes to <paramref name="taps"/> the offset of every tap (c, kd, kh, kw), in that order, from a window's origin
    /// in a zero-bordered copy of <paramref name="channels"/> channels whose planes are <paramref name="pd"/> ×
    /// <paramref name="ph"/> rows of <paramref name="pw"/> columns. With <paramref name="phases"/> above 1 each row
    /// holds its columns split by phase (column q at phase q mod phases, index q / phases), as the direct conv stores
    /// rows it reads at that width stride; a phase is ⌈pw / phases⌉ floats.
    /// </summary>
    public unsafe void TapOffsets(int* taps, int channels, int pd, int ph, int pw, int phases = 1)
    {
        int phaseFloats = (pw + phases - 1) / phases, rowFloats = phases * phaseFloats;
        long plane = (long)pd * ph * rowFloats;
        int t = 0;
        for (int c = 0; c < channels; c++)
        for (int kd = 0; kd < Kernel[0]; kd++)
        for (int kh = 0; kh < Kernel[1]; kh++)
        for (int kw = 0; kw < Kernel[2]; kw++)
        {
            int q = kw * Dilation[2]; // column s·j + q of output pixel j: phase q mod s, index j + q / s
            taps[t++] = (int)(c * plane + ((long)kd * Dilation[0] * ph + kh * Dilation[1]) * rowFloats + q % phases * phaseFloats + q / phases);
        }
    }

    /// <param name="context">The step being bound (attributes, errors).</param>
    /// <param name="inSpatial">Input spatial dims.</param>
    /// <param name="outSpatial">Output spatial dims from the plan (checked for Conv; taken as given for pools, whose ceil_mode rules differ across opsets).</param>
    /// <param name="kernel">Kernel spatial dims (from W for Conv, from kernel_shape for pools).</param>
    /// <param name="checkOutput">Fail when the plan's output dims differ from the computed ones.</param>
    /// <param name="ceilMode">Pools' ceil_mode.</param>
    public static WindowGeometry Create(BindContext context, int[] inSpatial, int[] outSpatial, int[] kernel, bool checkOutput, bool ceilMode = false)
    {
        int rank = inSpatial.Length;
        if (rank < 1 || rank > Rank) throw context.Fail($"only 1-D, 2-D and 3-D windows are supported, not {rank}-D");
        if (outSpatial.Length != rank) throw context.Fail($"output has {outSpatial.Length} spatial dims but the input has {rank}");
        var g = new WindowGeometry();
        int shift = Rank - rank;
        long[] strides = context.Step.GetInts("strides") ?? Ones(rank);
        long[] dilations = context.Step.GetInts("dilations") ?? Ones(rank);
        long[]? pads = context.Step.GetInts("pads");
        long[]? kernelShape = context.Step.GetInts("kernel_shape");
        if (strides.Length != rank) throw context.Fail($"strides has {strides.Length} values for {rank} spatial dims");
        if (dilations.Length != rank) throw context.Fail($"dilations has {dilations.Length} values for {rank} spatial dims");
        if (pads is not null && pads.Length != 2 * rank) throw context.Fail($"pads has {pads.Length} values; expected {2 * rank}");
        if (kernelShape is not null)
        {
            if (kernelShape.Length != rank) throw context.Fail($"kernel_shape has {kernelShape.Length} values for {rank} spatial dims");
            for (int d = 0; d < rank; d++)
            {
                if (kernelShape[d] != kernel[d]) throw context.Fail($"kernel_shape {string.Join(",", kernelShape)} does not match the weights' kernel {string.Join(",", kernel)}");
            }
        }
        string autoPad = context.Step.GetString("auto_pad", "NOTSET");
        for (int d = 0; d < rank; d++)
        {
            int t = d + shift;
            g.In[t] = inSpatial[d];
            g.Out[t] = outSpatial[d];
            g.Kernel[t] = kernel[d];
            g.Stride[t] = (int)strides[d];
            g.Dilation[t] = (int)dilations[d];
            if (g.Stride[t] < 1 || g.Dilation[t] < 1 || g.Kernel[t] < 1)
            {
                throw context.Fail("strides, dilations and kernel dims must be >= 1");
            }
            switch (autoPad)
            {
                case "NOTSET":
                    g.PadBegin[t] = pads is null ? 0 : (int)pads[d];
                    g.PadEnd[t] = pads is null ? 0 : (int)pads[d + rank];
                    break;
                case "VALID":
                    break;
                case "SAME_UPPER":
                case "SAME_LOWER":
                {
                    int outSame = (g.In[t] + g.Stride[t] - 1) / g.Stride[t];
                    int total = Math.Max(0, (outSame - 1) * g.Stride[t] + g.Extent(t) - g.In[t]);
                    int small = total / 2;
                    g.PadBegin[t] = autoPad == "SAME_UPPER" ? small : total - small;
                    g.PadEnd[t] = total - g.PadBegin[t];
                    break;
                }
                default:
                    throw context.Fail($"auto_pad '{autoPad}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
            }
            if (g.PadBegin[t] < 0 || g.PadEnd[t] < 0) throw context.Fail("negative pads are not supported");
            int span = g.In[t] + g.PadBegin[t] + g.PadEnd[t] - g.Extent(t);
            int expected = span < 0 ? 0 : (ceilMode ? (span + g.Stride[t] - 1) / g.Stride[t] : span / g.Stride[t]) + 1;
            if (ceilMode && expected > 0 && (expected - 1) * g.Stride[t] >= g.In[t] + g.PadBegin[t]) expected--;
            if (checkOutput && expected != g.Out[t])
            {
                throw context.Fail($"output spatial dim {d} is {g.Out[t]}, but input {g.In[t]}, kernel {g.Kernel[t]}, stride {g.Stride[t]}, dilation {g.Dilation[t]} and pads {g.PadBegin[t]}+{g.PadEnd[t]} give {expected}");
            }
        }
        return g;
    }

    private static long[] Ones(int n)
    {
        var a = new long[n];
        Array.Fill(a, 1L);
        return a;
    }
}
