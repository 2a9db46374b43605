namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// numpy matmul's shape rules for the integer matrix multiplies: A [..., M, K] × B [..., K, N] with
/// broadcast batch dims (a 1-D A is a row, a 1-D B a column), reduced at bind time to M, K, N and
/// the element offsets of A's and B's matrix for each output batch.
/// </summary>
internal sealed class MatMulBatches
{
    public int M { get; private init; }
    public int K { get; private init; }
    public int N { get; private init; }
    public long[] AOffsets { get; private init; } = [];
    public long[] BOffsets { get; private init; } = [];

    public static MatMulBatches Create(BindContext context, int aInput, int bInput, int[] y)
    {
        int[] a = context.Input(aInput).Shape, b = context.Input(bInput).Shape;
        if (a.Length == 0 || b.Length == 0) throw context.Fail("matrix multiply operands must not be scalars");
        int[] a2 = a.Length == 1 ? [1, a[0]] : a;
        int[] b2 = b.Length == 1 ? [b[0], 1] : b;
        int m = a2[^2], k = a2[^1], n = b2[^1];
        if (b2[^2] != k) throw context.Fail($"inner dims differ: A {BindContext.ShapeText(a)} × B {BindContext.ShapeText(b)}");
        int rank = Math.Max(a2.Length, b2.Length) - 2;
        var batch = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int da = Dim(a2, d, rank), db = Dim(b2, d, rank);
            if (da != db && da != 1 && db != 1) throw context.Fail($"batch dims of A {BindContext.ShapeText(a)} and B {BindContext.ShapeText(b)} do not broadcast");
            batch[d] = Math.Max(da, db);
        }
        long count = 1;
        foreach (int d in batch) count *= d;
        if (count * m * n != y.Aggregate(1L, (p, d) => p * d)) throw context.Fail($"output {BindContext.ShapeText(y)} does not match A {BindContext.ShapeText(a)} × B {BindContext.ShapeText(b)}");
        var aOffsets = new long[count];
        var bOffsets = new long[count];
        var index = new int[rank];
        for (long i = 0; i < count; i++)
        {
            long oa = 0, ob = 0, sa = (long)m * k, sb = (long)k * n;
            for (int d = rank - 1; d >= 0; d--)
            {
                int da = Dim(a2, d, rank), db = Dim(b2, d, rank);
                if (da != 1) oa += index[d] * sa;
                if (db != 1) ob += index[d] * sb;
                sa *= da;
                sb *= db;
            }
            aOffsets[i] = oa;
            bOffsets[i] = ob;
            for (int d = rank - 1; d >= 0; d--)
            {
                if (++index[d] < batch[d]) break;
                index[d] = 0;
            }
        }
        return new MatMulBatches { M = m, K = k, N = n, AOffsets = aOffsets, BOffsets = bOffsets };
    }

    /// <summary>Batch dim <paramref name="d"/> of a matrix shape right-aligned to <paramref name="rank"/> batch dims (1 where it has none).</summary>
    private static int Dim(int[] shape, int d, int rank)
    {
        int shift = rank - (shape.Length - 2);
        return d >= shift ? shape[d - shift] : 1;
    }
}
