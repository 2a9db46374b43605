namespace ModelGen.Runtime.Kernels.Reduce;

/// <summary>
/// Resolves the axes of a reduction step: the <c>axes</c> attribute (older opsets) or the
/// constant <c>axes</c> input (ReduceSum from opset 13, the others from 18), honoring
/// <c>noop_with_empty_axes</c>. The input must be a weight: the plan is static.
/// </summary>
internal static unsafe class ReduceAxes
{
    /// <summary>A flag per input dimension: true when that dimension is reduced.</summary>
    public static bool[] Resolve(BindContext c, int rank)
    {
        long[]? axes = null;
        if (c.HasInput(1))
        {
            var slot = c.Input(1);
            if (slot.Storage != SlotStorage.Weights) throw c.Fail("the axes input must be a constant (an initializer); ModelGen compiles static plans");
            if (slot.Type != ElementType.Int64) throw c.Fail($"the axes input must be int64, not {slot.Type.ToOnnxName()}");
            axes = new long[slot.ElementCount];
            long* p = (long*)c.InputPtr(1);
            for (int i = 0; i < axes.Length; i++) axes[i] = p[i];
        }
        else if (c.Step.Find("axes") is not null)
        {
            axes = c.Step.GetInts("axes");
        }
        var reduced = new bool[rank];
        if (axes is null || axes.Length == 0)
        {
            bool noop = c.Step.GetInt("noop_with_empty_axes", 0) != 0;
            if (!noop) Array.Fill(reduced, true);
            return reduced;
        }
        foreach (long a in axes)
        {
            int axis = c.Axis(a, rank, "axes");
            if (reduced[axis]) throw c.Fail($"axis {a} is listed twice in axes");
            reduced[axis] = true;
        }
        return reduced;
    }
}
