using ModelGen.Runtime;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// The AVX-512 wide register tile (6 rows × up to 4 panels of 16 columns) against a double-accumulating
/// reference. Shapes are picked to reach every path: full 6 × 64 tiles written straight to C (with and
/// without bias and activation), groups of 2 and 3 panels, a partial last panel, partial row blocks,
/// K split into slices, and tile ranges that the worker pool splits inside a panel. Alpha stays 1 so
/// the direct-to-C path is the one measured. Tolerance: rel 1e-4, abs 1e-4 (K up to 700 fp32 FMAs).
/// On a machine without AVX-512 the same shapes check the 6 × 16 kernel.
/// </summary>
public class SgemmWideTileTests
{
    private const float Rel = 1e-4f, Abs = 1e-4f;

    public static TheoryData<int, int, int, bool, string> Cases() => new()
    {
        { 12, 64, 64, true, "Relu" },     // two full tiles, bias and Relu applied in registers
        { 12, 64, 64, true, "LeakyRelu" }, // full tiles, an activation applied in a pass over the stored block
        { 6, 300, 128, true, "LeakyRelu" }, // the same after two K slices
        { 12, 64, 64, false, "" },        // full tiles, no epilogue at all
        { 6, 300, 128, true, "Relu" },    // two K slices of full tiles (raw sums added to C, then the epilogue)
        { 6, 600, 64, false, "" },        // three K slices, no epilogue
        { 13, 40, 50, true, "" },         // 4 panels, the last partial; a partial row block
        { 7, 33, 40, true, "Relu" },      // a 3-panel group
        { 5, 17, 24, false, "Relu" },     // a 2-panel group, fewer rows than a block
        { 9, 20, 80, true, "" },          // a group of 4, then a single panel
        { 20, 700, 200, true, "Relu" },   // 2.8M multiply-adds: split across the pool, sliced
        { 40, 200, 200, true, "Relu" },   // 1.6M: the pool splits the tile range inside a panel
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void WideTileMatchesReference(int m, int k, int n, bool bias, string activation)
    {
        var a = Data.Random(m * 7 + k, m * k);
        var b = Data.Random(n * 3 + k, k * n);
        var c = Data.Random(n + 11, n);
        var plan = new TestPlan();
        int ia = plan.Input("A", [m, k]);
        int ib = plan.Weight("B", b, [k, n]);
        var inputs = new List<int> { ia, ib };
        if (bias) inputs.Add(plan.Weight("C", c, [n]));
        int iy = plan.Arena("Y", [m, n]);
        plan.Output(iy);
        var attributes = activation == "" ? Array.Empty<PlanAttribute>() : [PlanAttribute.String("activation", activation)];
        plan.Step("Gemm", inputs.ToArray(), [iy], attributes);
        var y = plan.Run(a)[0];
        var expected = Reference.MatMul2D(a, b, m, k, n);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float v = expected[i * n + j] + (bias ? c[j] : 0f);
            // LeakyRelu's alpha is the default, 0.01.
            expected[i * n + j] = activation switch { "Relu" => Math.Max(v, 0f), "LeakyRelu" => v >= 0 ? v : 0.01f * v, _ => v };
        }
        Data.Close(expected, y, Rel, Abs);
    }

    [Theory]
    [InlineData(false, 70)]
    [InlineData(true, 70)]
    [InlineData(false, 3)]
    [InlineData(true, 3)]
    public void LargeActivationPackedOverThePoolMatchesReference(bool transA, int n)
    {
        // 601 x 500 = 300k elements of A (601 rows: a partial last block); transA reads it with strides. With 70
        // columns the product runs on the pool and each part packs all of A into its own copy; with 3 it is below
        // SgemmJob.ParallelThreshold, runs on one part, and A (over SgemmJob.ParallelPackThreshold) is packed in
        // row-block ranges on the pool.
        const int m = 601, k = 500;
        var a = Data.Random(41, m * k);
        var b = Data.Random(42, k * n);
        var plan = new TestPlan();
        int ia = plan.Input("A", transA ? [k, m] : [m, k]);
        int ib = plan.Weight("B", b, [k, n]);
        int iy = plan.Arena("Y", [m, n]);
        plan.Output(iy);
        plan.Step("Gemm", [ia, ib], [iy], PlanAttribute.Int("transA", transA ? 1 : 0));
        var y = plan.Run(a)[0];
        var rowMajor = a;
        if (transA)
        {
            rowMajor = new float[m * k];
            for (int i = 0; i < m; i++)
            for (int p = 0; p < k; p++) rowMajor[i * k + p] = a[p * m + i];
        }
        Data.Close(Reference.MatMul2D(rowMajor, b, m, k, n), y, Rel, Abs);
    }
}
