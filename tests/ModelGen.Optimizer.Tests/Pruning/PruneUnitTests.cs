using ModelGen.Tests;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.LowRank;
using ModelGen.Optimizer.Pruning;

namespace ModelGen.Optimizer.Tests.Pruning;

/// <summary>The SVD against known factorizations, option parsing, structured cuts that must be refused, and the sparse kernels against ONNX Runtime.</summary>
public class PruneUnitTests
{
    private static double[,] Random(int m, int n, int seed)
    {
        var rng = new Random(seed);
        var a = new double[m, n];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) a[i, j] = rng.NextDouble() * 2 - 1;
        return a;
    }

    [Theory]
    [InlineData(40, 12)]
    [InlineData(12, 40)]
    [InlineData(30, 30)]
    public void Svd_ReconstructsTheMatrix_WithOrthonormalFactors(int m, int n)
    {
        var a = Random(m, n, m * 100 + n);
        var svd = TruncatedSvd.Compute(a);
        int k = Math.Min(m, n);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int r = 0; r < k; r++) s += svd.U[i, r] * svd.S[r] * svd.V[j, r];
                Assert.True(Math.Abs(s - a[i, j]) < 1e-10, $"A[{i},{j}] = {a[i, j]}, U·S·Vᵀ = {s}");
            }
        }
        for (int p = 0; p < k; p++)
        {
            for (int q = 0; q < k; q++)
            {
                double u = 0, v = 0;
                for (int i = 0; i < m; i++) u += svd.U[i, p] * svd.U[i, q];
                for (int j = 0; j < n; j++) v += svd.V[j, p] * svd.V[j, q];
                Assert.True(Math.Abs(u - (p == q ? 1 : 0)) < 1e-10 && Math.Abs(v - (p == q ? 1 : 0)) < 1e-10, $"columns {p},{q}: UᵀU {u}, VᵀV {v}");
            }
        }
        for (int r = 1; r < k; r++) Assert.True(svd.S[r] <= svd.S[r - 1]);
    }

    [Fact]
    public void Svd_FindsKnownSingularValues_OfARotatedDiagonal()
    {
        // A = Q1·diag(5, 3, 1, 0.5, 0)·Q2ᵀ with Givens rotations Q1, Q2: the singular values are the diagonal.
        double[] sigma = [5, 3, 1, 0.5, 0];
        int n = sigma.Length;
        var a = new double[n, n];
        for (int i = 0; i < n; i++) a[i, i] = sigma[i];
        void Rotate(bool rows, int p, int q, double angle)
        {
            double c = Math.Cos(angle), s = Math.Sin(angle);
            for (int k = 0; k < n; k++)
            {
                if (rows) (a[p, k], a[q, k]) = (c * a[p, k] - s * a[q, k], s * a[p, k] + c * a[q, k]);
                else (a[k, p], a[k, q]) = (c * a[k, p] - s * a[k, q], s * a[k, p] + c * a[k, q]);
            }
        }
        for (int p = 0; p < n - 1; p++) { Rotate(true, p, p + 1, 0.3 + p); Rotate(false, p, (p + 2) % n, 1.1 * p + 0.2); }
        var svd = TruncatedSvd.Compute(a);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(svd.S[i] - sigma[i]) < 1e-12, $"σ{i} = {svd.S[i]}, expected {sigma[i]}");
        // Energy 25 + 9 + 1 + 0.25 = 35.25: 96.5% needs the first two (34/35.25), 99% the first three.
        Assert.Equal(2, svd.RankForEnergy(0.96));
        Assert.Equal(3, svd.RankForEnergy(0.99));
        Assert.Equal(4, svd.RankForEnergy(1.0));
    }

    [Theory]
    [InlineData("Bogus", null, null, null, null, PruneErrors.BadPrune)]
    [InlineData("4:2", null, null, null, null, PruneErrors.BadPrune)]
    [InlineData("2:x", null, null, null, null, PruneErrors.BadPrune)]
    [InlineData("Magnitude", "1", null, null, null, PruneErrors.BadSparsity)]
    [InlineData("Magnitude", "-0.1", null, null, null, PruneErrors.BadSparsity)]
    [InlineData("Magnitude", "half", null, null, null, PruneErrors.BadSparsity)]
    [InlineData("Magnitude", null, "Everywhere", null, null, PruneErrors.BadScope)]
    [InlineData(null, null, null, "1.5", null, PruneErrors.BadLowRank)]
    [InlineData(null, null, null, "Energy:0", null, PruneErrors.BadLowRank)]
    [InlineData(null, null, null, "1", null, PruneErrors.BadLowRank)]
    [InlineData("Magnitude", null, null, null, "Retrain", PruneErrors.BadRecover)]
    public void BadOptionValues_FailWithTheirCode(string? prune, string? sparsity, string? scope, string? lowRank, string? recover, string code)
    {
        var e = Assert.Throws<OnnxException>(() => PruneOptions.Parse(prune, sparsity, scope, lowRank, recover));
        Assert.Equal(code, e.Code);
    }

    [Fact]
    public void GoodOptionValues_Parse()
    {
        var o = PruneOptions.Parse("2:4", "0.3", "global", "Energy:0.99", "BiasCorrection");
        Assert.Equal((PruneMethod.NM, 2, 4, 0.3, PruneScope.Global, 0.99, RecoverMode.BiasCorrection), (o.Method, o.N, o.M, o.Sparsity, o.Scope, o.Energy!.Value, o.Recover!.Value));
        Assert.False(PruneOptions.Parse(null, null, null, null, null).IsActive);
        Assert.Equal(0.25, PruneOptions.Parse("None", null, null, "0.25", null).RankFraction);
    }

    [Fact]
    public void Filters_AResidualAddWhoseOtherBranchIsNotCut_LeavesTheLayerWhole_AndSaysWhy()
    {
        // x -> Conv a (4 filters) -> Add(x, a) -> Conv b: cutting a's filters would break the Add with x.
        var m = new TestModels(21);
        var x = m.Input("x", 1, 4, 8, 8);
        var conv = new[] { OnnxAttribute.OfInts("kernel_shape", 3, 3), OnnxAttribute.OfInts("pads", 1, 1, 1, 1) };
        var a = m.Node("Conv", [x, m.Weight("wa", [4, 4, 3, 3], 0.3f), m.Weight("ba", [4], 0.1f)], conv);
        var sum = m.Node("Add", [x, a]);
        var b = m.Node("Conv", [sum, m.Weight("wb", [6, 4, 3, 3], 0.3f), m.Weight("bb", [6], 0.1f)], conv);
        m.Output(m.Node("Relu", [b]));
        using var dir = new TempFolder();
        string path = m.Save(dir.Path, "residual.onnx");
        var result = ModelOptimizer.Optimize(new OptimizeOptions(path, Path.Combine(dir.Path, "out"), "Residual")
        {
            Pruning = PruneOptions.Parse("Filters", "0.5", null, null, "None"), AllowUngated = true,
        });
        var layers = result.Quantization!.Pruning!.Layers;
        Assert.Contains("residual connection", layers[0].KeptWhole);
        Assert.Contains("graph output", layers[1].KeptWhole);
        Assert.All(layers, l => Assert.Equal(l.ParamsBefore, l.ParamsAfter));
    }

    [Fact]
    public void Filters_CarriesTheCutThroughBatchNormConcatAndAMatchingAdd_AndOrtAgrees()
    {
        // Conv a feeds a BatchNormalization that cannot fold (two readers), an Add of two branches of a
        // (cut alike), and a Concat with the input; the Gemm after Flatten loses the matching rows.
        var m = new TestModels(22);
        var x = m.Input("x", 1, 3, 6, 6);
        var conv = new[] { OnnxAttribute.OfInts("kernel_shape", 3, 3), OnnxAttribute.OfInts("pads", 1, 1, 1, 1) };
        var a = m.Node("Conv", [x, m.Weight("wa", [8, 3, 3, 3], 0.4f), m.Weight("ba", [8], 0.1f)], conv);
        var bn = m.Node("BatchNormalization", [a, m.Weight("g", [8], 0.2f, 1f), m.Weight("be", [8], 0.1f), m.Weight("mu", [8], 0.1f), m.Weight("var", [8], 0.2f, 1f)]);
        var r = m.Node("Relu", [a]);
        var sum = m.Node("Add", [bn, r]);
        var cat = m.Node("Concat", [sum, x], OnnxAttribute.OfInt("axis", 1));
        var pool = m.Node("MaxPool", [cat], OnnxAttribute.OfInts("kernel_shape", 2, 2), OnnxAttribute.OfInts("strides", 2, 2));
        var flat = m.Node("Flatten", [pool]);
        m.Output(m.Node("Gemm", [flat, m.Weight("fc", [5, 11 * 9], 0.2f), m.Weight("fcb", [5], 0.1f)], OnnxAttribute.OfInt("transB", 1)));
        using var dir = new TempFolder();
        string path = m.Save(dir.Path, "branches.onnx");
        var result = ModelOptimizer.Optimize(new OptimizeOptions(path, Path.Combine(dir.Path, "out"), "Branches")
        {
            Pruning = PruneOptions.Parse("Filters", "0.5", null, null, "None"), AllowUngated = true,
        });
        var layers = result.Quantization!.Pruning!.Layers;
        Assert.Equal("filters 8 -> 4", layers[0].Change);
        Assert.Equal("inputs cut", layers[1].Change);
        Assert.Equal(5 * 7 * 9, layers[1].ParamsAfter); // (4 + 3) channels x 3x3 positions
        var input = m.RandomInput(3 * 36);
        var ort = OrtReference.Run(Path.Combine(dir.Path, "out", "Branches.onnx"), ("x", [1, 3, 6, 6], input))[0];
        using var interpreter = result.CreateInterpreter();
        Compare.Close(ort, interpreter.RunFloats(input)[0], 1e-4f, 1e-5f, "pruned plan vs ONNX Runtime");
    }

    [Theory]
    [InlineData("Magnitude", "0.85")]
    [InlineData("2:4", null)]
    public void SparseKernels_MatchOnnxRuntime_OnConvGemmAndMatMul(string prune, string? sparsity)
    {
        // Conv (stride 2, SAME padding) + MatMul + Gemm, pruned and stored compressed; the .onnx keeps the zeros dense.
        var m = new TestModels(23);
        var x = m.Input("x", 1, 3, 10, 10);
        var c = m.Node("Conv", [x, m.Weight("w", [16, 3, 3, 3], 0.4f), m.Weight("b", [16], 0.1f)],
            OnnxAttribute.OfInts("kernel_shape", 3, 3), OnnxAttribute.OfInts("strides", 2, 2), OnnxAttribute.OfString("auto_pad", "SAME_UPPER"));
        c = m.Node("Relu", [c]);
        var f = m.Node("Flatten", [c]);
        var h = m.Node("MatMul", [f, m.Weight("w1", [16 * 25, 40], 0.1f)]);
        h = m.Node("Add", [h, m.Weight("b1", [40], 0.1f)]);
        h = m.Node("Tanh", [h]);
        m.Output(m.Node("Gemm", [h, m.Weight("w2", [40, 12], 0.3f), m.Weight("b2", [12], 0.1f)], OnnxAttribute.OfFloat("alpha", 0.7f), OnnxAttribute.OfFloat("beta", 1.3f)));
        using var dir = new TempFolder();
        string path = m.Save(dir.Path, "sparse.onnx");
        var result = ModelOptimizer.Optimize(new OptimizeOptions(path, Path.Combine(dir.Path, "out"), "Sparse")
        {
            Pruning = PruneOptions.Parse(prune, sparsity, null, null, "None"), AllowUngated = true,
        });
        var formats = result.Quantization!.Pruning!.Layers.Select(l => l.Format).ToList();
        Assert.Contains(formats, f => f != "dense");
        var input = m.RandomInput(300);
        var ort = OrtReference.Run(Path.Combine(dir.Path, "out", "Sparse.onnx"), ("x", [1, 3, 10, 10], input))[0];
        using var interpreter = result.CreateInterpreter();
        Compare.Close(ort, interpreter.RunFloats(input)[0], 1e-4f, 1e-5f, $"{prune} plan ({string.Join(",", formats)}) vs ONNX Runtime");
    }
}

/// <summary>Each sparse kernel, forced onto every layer it can run, against the dense plan of the same pruned graph.</summary>
public class SparseFormatTests
{
    [Theory]
    [InlineData("csr")]
    [InlineData("nm")]
    public void ForcedFormat_MatchesTheDensePlan(string format)
    {
        var m = TestModels.Mlp(31);
        using var dir = new TempFolder();
        string path = m.Save(dir.Path, "mlp.onnx");
        var pruned = ModelOptimizer.Optimize(new OptimizeOptions(path, "", "Mlp")
        {
            Pruning = PruneOptions.Parse("2:4", null, null, null, "None"), AllowUngated = true,
        });
        var dense = ModelGen.Optimizer.Quantization.GraphCopy.Of(pruned.Optimized);
        var sparse = ModelGen.Optimizer.Quantization.GraphCopy.Of(pruned.Optimized);
        var formats = SparseEncoding.Apply(sparse.Graph, 2, 4, force: format);
        Assert.All(formats.Values, f => Assert.Equal(format, f));
        var x = m.RandomInput(196);
        using var a = new ModelInterpreter(ModelGen.Optimizer.Planning.PlanBuilder.Build(dense, "D", path, ""));
        using var b = new ModelInterpreter(ModelGen.Optimizer.Planning.PlanBuilder.Build(sparse, "S", path, ""));
        Compare.Close(a.RunFloats(x)[0], b.RunFloats(x)[0], 1e-5f, 1e-6f, $"{format} vs dense");
    }
}
