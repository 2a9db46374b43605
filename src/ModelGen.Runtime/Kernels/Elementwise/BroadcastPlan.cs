namespace ModelGen.Runtime.Kernels.Elementwise;

/// <summary>
/// Numpy broadcasting of two operands onto an output shape, reduced at bind time to "rows":
/// the output is <see cref="Rows"/> contiguous runs of <see cref="Inner"/> elements; in each run
/// an operand is either contiguous (inner stride 1) or one broadcast value (inner stride 0),
/// starting at a pre-computed element offset. Adjacent dimensions that broadcast alike are merged
/// first, so common cases (same shape, scalar, per-channel) become one or a few long rows.
/// </summary>
internal sealed class BroadcastPlan
{
    private BroadcastPlan(long rows, long inner, bool aContiguous, bool bContiguous, long[] aOffsets, long[] bOffsets)
    {
        Rows = rows;
        Inner = inner;
        AContiguous = aContiguous;
        BContiguous = bContiguous;
        AOffsets = aOffsets;
        BOffsets = bOffsets;
    }

    public long Rows { get; }
    public long Inner { get; }
    public bool AContiguous { get; }
    public bool BContiguous { get; }
    public long[] AOffsets { get; }
    public long[] BOffsets { get; }

    /// <summary>True when both operands may be read with one same-shape pass.</summary>
    public bool IsSameShape => Rows == 1 && AContiguous && BContiguous;

    /// <summary>Builds the plan, or fails naming the step when the shapes do not broadcast to <paramref name="y"/>.</summary>
    public static BroadcastPlan Create(int[] a, int[] b, int[] y, BindContext context)
    {
        int rank = y.Length;
        if (a.Length > rank || b.Length > rank)
        {
            throw context.Fail($"operand shapes {BindContext.ShapeText(a)} and {BindContext.ShapeText(b)} do not broadcast to the output shape {BindContext.ShapeText(y)}");
        }
        long[] aStride = Strides(a, y, context, b);
        long[] bStride = Strides(b, y, context, a);

        // Keep only dims larger than 1, merging a dim into the previous one where both operands continue contiguously.
        var dims = new List<long>();
        var sa = new List<long>();
        var sb = new List<long>();
        for (int d = 0; d < rank; d++)
        {
            if (y[d] == 1) continue;
            int last = dims.Count - 1;
            if (last >= 0 && sa[last] == aStride[d] * y[d] && sb[last] == bStride[d] * y[d])
            {
                dims[last] *= y[d];
                sa[last] = aStride[d];
                sb[last] = bStride[d];
            }
            else
            {
                dims.Add(y[d]);
                sa.Add(aStride[d]);
                sb.Add(bStride[d]);
            }
        }
        if (dims.Count == 0)
        {
            return new BroadcastPlan(1, 1, true, true, [0], [0]);
        }
        int inner = dims.Count - 1;
        long rows = 1;
        for (int d = 0; d < inner; d++) rows *= dims[d];
        var aOffsets = new long[rows];
        var bOffsets = new long[rows];
        var index = new long[Math.Max(inner, 1)];
        for (long r = 0; r < rows; r++)
        {
            long oa = 0, ob = 0;
            for (int d = 0; d < inner; d++)
            {
                oa += index[d] * sa[d];
                ob += index[d] * sb[d];
            }
            aOffsets[r] = oa;
            bOffsets[r] = ob;
            for (int d = inner - 1; d >= 0; d--)
            {
                if (++index[d] < dims[d]) break;
                index[d] = 0;
            }
        }
        return new BroadcastPlan(rows, dims[inner], sa[inner] != 0, sb[inner] != 0, aOffsets, bOffsets);
    }

    private static long[] Strides(int[] shape, int[] y, BindContext context, int[] other)
    {
        int rank = y.Length;
        int shift = rank - shape.Length;
        var strides = new long[rank];
        long stride = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            int dim = d >= shift ? shape[d - shift] : 1;
            if (dim == y[d])
            {
                strides[d] = dim == 1 ? 0 : stride;
            }
            else if (dim == 1)
            {
                strides[d] = 0;
            }
            else
            {
                throw context.Fail($"operand shapes {BindContext.ShapeText(shape)} and {BindContext.ShapeText(other)} do not broadcast to the output shape {BindContext.ShapeText(y)}");
            }
            stride *= dim;
        }
        return strides;
    }
}
