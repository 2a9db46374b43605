using ModelGen.Runtime;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// The cache-blocked SGEMM path (K longer than one KC slice: partial sums parked in C, epilogue on the last
/// slice) against a double-accumulating reference, with bias, alpha and a fused activation so a slice that
/// applied the epilogue twice, or dropped a partial sum, cannot pass. Also the right-edge panels of one, two, nine and
/// ten columns, sliced or not, which the AVX2 path computes with its edge-column kernel. Tolerance: rel 1e-4, abs 1e-4
/// (K up to 2100 fp32 FMAs vs double sums).
/// </summary>
public class SgemmBlockingTests
{
    private const float Rel = 1e-4f, Abs = 1e-4f;

    public static TheoryData<int, int, int> Cases() => new()
    {
        { 1, 300, 5 },    // one row: no single-row shortcut on sliced calls
        // Up to 16 row blocks: group-major, K in equal slices of at most 1024.
        { 13, 257, 37 },  // one slice; partial row block and partial column panel
        { 7, 600, 16 },   // one slice of 600
        { 64, 700, 96 },  // 4.3M multiply-adds: column panels split across the worker pool
        { 20, 2100, 70 }, // three slices of 700; partial column panel
        // More row blocks: K slices (AVX-512: KC = 256; AVX2: equal, at most 512) outside row blocks of MCBlocks.
        { 100, 300, 20 }, // 17 row blocks (a second, partial MC block); slices 256 and 44 (AVX2: one of 300)
        { 192, 600, 40 }, // two whole MC blocks of 16 row blocks; three slices (256, 256, 88; AVX2: 300, 300)
        { 32, 784, 40 },  // batch 32 of a 784-input layer: without AVX-512, two equal slices (392, 392) and a 2-row block
        { 100, 1100, 20 }, // without AVX-512, three slices (367, 367, 366): a middle slice adds to C's partial sums
        // Right-edge panels of 1, 2, 9 and 10 columns (AVX2: the edge-column kernel, alone or beside the narrow tile),
        // whole K and sliced, K steps not a multiple of its four phases, down to one step.
        { 50, 200, 49 },  // a 7×7 map: three panels and one column; 9 row blocks, the last of 2 rows
        { 100, 600, 41 }, // two panels and 9 columns, KC slices
        { 30, 301, 42 },  // two panels and 10 columns; K = 301 over one slice of 301 (not blocked) or two
        { 12, 6, 2 },     // two columns only, K shorter than the four phases
        { 7, 1, 1 },      // one column, one K step: only the masked last-step load
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void BlockedGemmMatchesReference(int m, int k, int n)
    {
        var a = Data.Random(m + k, m * k);
        var b = Data.Random(n + 3 * k, k * n);
        var c = Data.Random(9, n);
        var plan = new TestPlan();
        int ia = plan.Input("A", [m, k]);
        int ib = plan.Weight("B", b, [k, n]);
        int ic = plan.Weight("C", c, [n]);
        int iy = plan.Arena("Y", [m, n]);
        plan.Output(iy);
        plan.Step("Gemm", [ia, ib, ic], [iy], PlanAttribute.Float("alpha", 0.5f), PlanAttribute.Float("beta", 2f),
            PlanAttribute.String("activation", "LeakyRelu"), PlanAttribute.Float("activation_alpha", 0.2f));
        var y = plan.Run(a)[0];
        var expected = Reference.MatMul2D(a, b, m, k, n);
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            float v = 0.5f * expected[i * n + j] + 2f * c[j];
            expected[i * n + j] = v >= 0 ? v : 0.2f * v;
        }
        Data.Close(expected, y, Rel, Abs);
    }

    [Fact]
    public void BlockedGemmWithFullCAccumulatesOnce()
    {
        // A full [M,N] C makes the epilogue accumulate into C; that product must not take the sliced path.
        const int m = 9, k = 520, n = 21;
        var a = Data.Random(1, m * k);
        var b = Data.Random(2, k * n);
        var c = Data.Random(3, m * n);
        var plan = new TestPlan();
        int ia = plan.Input("A", [m, k]);
        int ib = plan.Weight("B", b, [k, n]);
        int ic = plan.Weight("C", c, [m, n]);
        int iy = plan.Arena("Y", [m, n]);
        plan.Output(iy);
        plan.Step("Gemm", [ia, ib, ic], [iy], PlanAttribute.Float("beta", 0.5f));
        var y = plan.Run(a)[0];
        var expected = Reference.MatMul2D(a, b, m, k, n);
        for (int i = 0; i < m * n; i++) expected[i] += 0.5f * c[i];
        Data.Close(expected, y, Rel, Abs);
    }
}
