namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// The validated shape of a Conv step (input 0 = X, input 1 = W, output 0 = Y): batch, groups,
/// channels per group and the window geometry. The fp32 and the int8 Conv kernels bind it the
/// same way, so they accept and reject exactly the same steps with the same messages.
/// </summary>
internal sealed class ConvShape
{
    private ConvShape(int batch, int groups, int cPerGroup, int mPerGroup, WindowGeometry geometry)
    {
        Batch = batch;
        Groups = groups;
        CPerGroup = cPerGroup;
        MPerGroup = mPerGroup;
        Geometry = geometry;
    }

    public int Batch { get; }

    public int Groups { get; }

    public int CPerGroup { get; }

    public int MPerGroup { get; }

    public WindowGeometry Geometry { get; }

    /// <summary>Rows of the im2col matrix: input channels per group times the kernel's taps.</summary>
    public int K => CPerGroup * Geometry.KernelSize;

    /// <summary>The optional bias (input 2) as floats, or null when absent.</summary>
    /// <exception cref="ModelGenException">It does not hold <paramref name="count"/> elements (one per output channel).</exception>
    public static unsafe float* FloatBias(BindContext context, int count)
    {
        if (!context.HasInput(2)) return null;
        if (context.Input(2).ElementCount != count) throw context.Fail($"bias has {context.Input(2).ElementCount} elements; expected {count}");
        return context.FloatInput(2);
    }

    /// <summary>
    /// target[j] = bias[j] for the <paramref name="m"/> output channels and 0 up to <paramref name="padded"/> (and 0 for
    /// all of them without a bias): the per-channel start of kernels that compute output channels in whole vectors.
    /// </summary>
    public static unsafe void PadBias(float* bias, int m, float* target, int padded)
    {
        for (int j = 0; j < padded; j++) target[j] = bias != null && j < m ? bias[j] : 0f;
    }

    /// <exception cref="ModelGenException">The shapes or the group count do not fit together.</exception>
    public static ConvShape Bind(BindContext context)
    {
        int[] xs = context.Input(0).Shape, ws = context.Input(1).Shape, ys = context.Output(0).Shape;
        if (xs.Length < 3 || xs.Length > 5) throw context.Fail($"input {BindContext.ShapeText(xs)} must be [N,C,spatial...] with 1 to 3 spatial dims");
        if (ws.Length != xs.Length || ys.Length != xs.Length) throw context.Fail($"W{BindContext.ShapeText(ws)} and Y{BindContext.ShapeText(ys)} must have the input's rank {xs.Length}");
        int batch = xs[0], c = xs[1], m = ws[0];
        int groups = (int)context.Step.GetInt("group", 1);
        if (groups < 1 || c % groups != 0 || m % groups != 0)
        {
            throw context.Fail($"group={groups} must divide the input channels ({c}) and the output channels ({m})");
        }
        int cPerGroup = c / groups;
        if (ws[1] != cPerGroup) throw context.Fail($"W{BindContext.ShapeText(ws)} expects {ws[1]} channels per group, but the input has {c} channels in {groups} group(s)");
        if (ys[0] != batch || ys[1] != m) throw context.Fail($"output {BindContext.ShapeText(ys)} must be [{batch},{m},...]");
        var geometry = WindowGeometry.Create(context, xs[2..], ys[2..], ws[2..], checkOutput: true);
        return new ConvShape(batch, groups, cPerGroup, m / groups, geometry);
    }
}
