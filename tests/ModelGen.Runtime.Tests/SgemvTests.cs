using System.Runtime.Intrinsics.X86;
using ModelGen.Runtime;
using ModelGen.Runtime.Kernels.Gemm;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// The matrix-vector kernel (<see cref="Sgemv"/>) — each of its three code paths called directly on
/// packed B — against a double-accumulating scalar reference, with every epilogue feature, sizes
/// that leave partial panels and partial 4-panel groups, a B small enough for 8-panel groups (196 × 128,
/// 257 × 200: 8 + 4 + 1 panels) and one just too big for them (600 × 128), and sub-ranges of panels (as a
/// parallel split computes them); then batch-1 Gemm/MatMul through the executor. Tolerance: rel 1e-4,
/// abs 1e-5 (K up to 600 fp32 FMAs vs double sums). In the shared-pool collection: the big cases use
/// the worker pool, and a pool busy with them would make other tests' "uses the pool" checks run inline.
/// </summary>
[Collection("SharedPool")]
public unsafe class SgemvTests
{
    private const float Rel = 1e-4f, Abs = 1e-5f;

    public enum Path { Dispatch, Avx512, Vector256, Scalar }

    [Flags]
    public enum Features { None = 0, Alpha = 1, RowBias = 2, ColumnBias = 4, Accumulate = 8, Relu = 16, All = 31 }

    public static TheoryData<Path, int, int, Features> Cases()
    {
        var data = new TheoryData<Path, int, int, Features>();
        (int k, int n)[] sizes = [(1, 1), (1, 17), (2, 16), (7, 64), (33, 79), (128, 10), (196, 128), (257, 200), (600, 128)];
        foreach (var path in Enum.GetValues<Path>())
        {
            foreach (var (k, n) in sizes)
            {
                data.Add(path, k, n, Features.None);
                data.Add(path, k, n, Features.All);
            }
            data.Add(path, 33, 79, Features.Alpha);
            data.Add(path, 33, 79, Features.RowBias);
            data.Add(path, 33, 79, Features.ColumnBias);
            data.Add(path, 33, 79, Features.Accumulate);
            data.Add(path, 33, 79, Features.Relu);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void MatchesScalarReference(Path path, int k, int n, Features features)
    {
        if (path == Path.Avx512 && !Avx512F.IsSupported) Assert.Skip("no AVX-512 on this machine");
        int panels = Sgemm.ColumnPanels(n);
        Check(path, k, n, features, xStride: 1, 0, panels);
    }

    [Theory]
    [InlineData(Path.Avx512)]
    [InlineData(Path.Vector256)]
    [InlineData(Path.Scalar)]
    public void ComputesOnlyItsPanelRangeAndReadsStridedX(Path path)
    {
        if (path == Path.Avx512 && !Avx512F.IsSupported) Assert.Skip("no AVX-512 on this machine");
        // 23 panels split unevenly, x read with packed A's row stride (MR): every part must write exactly its columns.
        const int k = 45, n = 365;
        Check(path, k, n, Features.All, Sgemm.MR, 0, 5);
        Check(path, k, n, Features.All, Sgemm.MR, 5, 6);
        Check(path, k, n, Features.All, Sgemm.MR, 6, 23);
    }

    [Theory]
    [InlineData(Path.Avx512)]
    [InlineData(Path.Vector256)]
    [InlineData(Path.Scalar)]
    public void EqualColumnsGiveBitEqualResults(Path path)
    {
        if (path == Path.Avx512 && !Avx512F.IsSupported) Assert.Skip("no AVX-512 on this machine");
        // Columns in a 4-panel group, in lone panels and in the partial last panel must be summed in the
        // same order: constant-weight models put huge equal logits into a softmax, which must stay uniform.
        const int k = 333, n = 117;
        var x = Data.Random(1, k);
        var column = Data.Random(2, k, -100f, 100f);
        var b = new float[k * n];
        for (int p = 0; p < k; p++)
        for (int j = 0; j < n; j++) b[p * n + j] = column[p];
        var packed = new float[Sgemm.PackedBSize(k, n)];
        var y = new float[n];
        fixed (float* px = x, pb = b, ppacked = packed, py = y)
        {
            Sgemm.PackB(pb, n, 1, k, n, ppacked);
            var e = Epilogue.Plain;
            int panels = Sgemm.ColumnPanels(n);
            switch (path)
            {
                case Path.Avx512: Sgemv.Panels512(px, 1, ppacked, py, n, k, e, 0, 0, panels); break;
                case Path.Vector256: Sgemv.Panels256(px, 1, ppacked, py, n, k, e, 0, 0, panels); break;
                default: Sgemv.PanelsScalar(px, 1, ppacked, py, n, k, e, 0, 0, panels); break;
            }
        }
        Assert.All(y, v => Assert.Equal(BitConverter.SingleToInt32Bits(y[0]), BitConverter.SingleToInt32Bits(v)));
    }

    private static void Check(Path path, int k, int n, Features f, long xStride, int panelBegin, int panelEnd)
    {
        const int row = 2;
        var x = Data.Random(k + 3 * n, k * xStride);
        var b = Data.Random(n + 7 * k, k * n);
        var rowBias = Data.Random(4, row + 1);
        var columnBias = Data.Random(5, n);
        var y = Data.Random(6, n + 1); // one float past C: it must never be written
        var expected = (float[])y.Clone();
        int col0 = panelBegin * Sgemm.NR, col1 = Math.Min(n, panelEnd * Sgemm.NR);
        for (int j = col0; j < col1; j++)
        {
            double s = 0;
            for (int p = 0; p < k; p++) s += (double)x[p * xStride] * b[p * n + j];
            float v = (float)s;
            if (f.HasFlag(Features.Alpha)) v *= 0.75f;
            if (f.HasFlag(Features.RowBias)) v += rowBias[row];
            if (f.HasFlag(Features.Accumulate)) v += y[j];
            if (f.HasFlag(Features.ColumnBias)) v += columnBias[j];
            if (f.HasFlag(Features.Relu)) v = Math.Max(v, 0f);
            expected[j] = v;
        }

        var packed = new float[Sgemm.PackedBSize(k, n)];
        fixed (float* px = x, pb = b, ppacked = packed, prow = rowBias, pcol = columnBias, py = y)
        {
            Sgemm.PackB(pb, n, 1, k, n, ppacked);
            var e = Epilogue.Plain;
            if (f.HasFlag(Features.Alpha)) e.Alpha = 0.75f;
            if (f.HasFlag(Features.RowBias)) e.RowBias = prow;
            if (f.HasFlag(Features.ColumnBias)) e.ColumnBias = pcol;
            e.Accumulate = f.HasFlag(Features.Accumulate);
            if (f.HasFlag(Features.Relu)) e.Activation = ActivationKind.Relu;
            switch (path)
            {
                case Path.Dispatch: Sgemv.Panels(px, xStride, ppacked, py, n, k, e, row, panelBegin, panelEnd); break;
                case Path.Avx512: Sgemv.Panels512(px, xStride, ppacked, py, n, k, e, row, panelBegin, panelEnd); break;
                case Path.Vector256: Sgemv.Panels256(px, xStride, ppacked, py, n, k, e, row, panelBegin, panelEnd); break;
                default: Sgemv.PanelsScalar(px, xStride, ppacked, py, n, k, e, row, panelBegin, panelEnd); break;
            }
        }
        Data.Close(expected, y, Rel, Abs, $"{path} k={k} n={n} {f} panels [{panelBegin},{panelEnd})");
    }

    public static TheoryData<int, int, bool, bool, string> GemmCases() => new()
    {
        { 1, 1, false, false, "" },
        { 13, 37, true, false, "Relu" },
        { 196, 128, false, true, "Relu" },
        { 784, 512, false, false, "Relu" }, // 401k multiply-adds: split across the worker pool by column panels
        { 1000, 1100, true, true, "Tanh" }, // 1.1M: the tile path's parallel threshold, taken by the vector path instead
        { 2048, 1000, false, true, "" },    // ResNet-50's classifier: 63 panels, the last one partial
    };

    [Theory]
    [MemberData(nameof(GemmCases))]
    public void BatchOneGemmMatchesReference(int k, int n, bool transA, bool transB, string activation)
    {
        var a = Data.Random(k, k);
        var b = Data.Random(n, k * n);
        var c = Data.Random(3, n);
        var plan = new TestPlan();
        int ia = plan.Input("A", transA ? [k, 1] : [1, k]);
        int ib = plan.Weight("B", b, transB ? [n, k] : [k, n]);
        int ic = plan.Weight("C", c, [n]);
        int iy = plan.Arena("Y", [1, n]);
        plan.Output(iy);
        plan.Step("Gemm", [ia, ib, ic], [iy], PlanAttribute.Int("transA", transA ? 1 : 0), PlanAttribute.Int("transB", transB ? 1 : 0), PlanAttribute.Float("alpha", 0.5f),
            PlanAttribute.Float("beta", 2f), PlanAttribute.String("activation", activation));
        var y = plan.Run(a)[0];
        var expected = Reference.MatMul2D(a, b, 1, k, n, transB: transB);
        for (int j = 0; j < n; j++)
        {
            float v = 0.5f * expected[j] + 2f * c[j];
            expected[j] = activation switch { "Relu" => Math.Max(v, 0f), "Tanh" => MathF.Tanh(v), _ => v };
        }
        Data.Close(expected, y, Rel, Abs);
    }

    [Fact]
    public void BatchOneGemmWithFullCAccumulates()
    {
        const int k = 50, n = 70;
        var a = Data.Random(1, k);
        var b = Data.Random(2, k * n);
        var c = Data.Random(3, n);
        var plan = new TestPlan();
        int ia = plan.Input("A", [1, k]);
        int ib = plan.Input("B", [n, k]);
        int ic = plan.Input("C", [1, n]);
        int iy = plan.Arena("Y", [1, n]);
        plan.Output(iy);
        plan.Step("Gemm", [ia, ib, ic], [iy], PlanAttribute.Int("transB", 1), PlanAttribute.Float("beta", 0.5f));
        var y = plan.Run(a, b, c)[0];
        var expected = Reference.MatMul2D(a, b, 1, k, n, transB: true);
        for (int j = 0; j < n; j++) expected[j] += 0.5f * c[j];
        Data.Close(expected, y, Rel, Abs);
    }

    [Theory]
    [InlineData(new[] { 77 }, new[] { 77, 45 }, new[] { 45 })]
    [InlineData(new[] { 1, 1, 300 }, new[] { 300, 700 }, new[] { 1, 1, 700 })]
    [InlineData(new[] { 3, 1, 20 }, new[] { 3, 20, 33 }, new[] { 3, 1, 33 })] // batched B: one vector product per batch
    public void VectorMatMulWithBiasMatchesReference(int[] aShape, int[] bShape, int[] yShape)
    {
        int k = bShape[^2], n = bShape[^1];
        var a = Data.Random(11, Data.Count(aShape));
        var b = Data.Random(12, Data.Count(bShape));
        var bias = Data.Random(13, n);
        var plan = new TestPlan();
        int ia = plan.Input("A", aShape);
        int ib = plan.Weight("B", b, bShape);
        int ibias = plan.Weight("bias", bias, [n]);
        int iy = plan.Arena("Y", yShape);
        plan.Output(iy);
        plan.Step("MatMul", [ia, ib, ibias], [iy], PlanAttribute.String("activation", "Relu"));
        var y = plan.Run(a)[0];
        int batches = Data.Count(yShape) / n;
        var expected = new float[batches * n];
        for (int t = 0; t < batches; t++)
        {
            var r = Reference.MatMul2D(a[(aShape.Length == 1 ? 0 : t * k)..][..k], b[(bShape.Length == 2 ? 0 : t * k * n)..][..(k * n)], 1, k, n);
            for (int j = 0; j < n; j++) expected[t * n + j] = Math.Max(0f, r[j] + bias[j]);
        }
        Data.Close(expected, y, Rel, Abs);
    }
}
