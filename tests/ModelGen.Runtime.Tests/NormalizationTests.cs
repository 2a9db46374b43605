using ModelGen.Runtime;

namespace ModelGen.Runtime.Tests;

/// <summary>Softmax, BatchNormalization, LRN, InstanceNormalization against double references. Tolerance: rel 1e-5, abs 1e-6 (LogSoftmax abs 5e-6).</summary>
public class NormalizationTests
{
    [Theory]
    [InlineData(13, -1, false)]
    [InlineData(13, 1, false)]
    [InlineData(13, 0, true)]
    [InlineData(11, 1, false)]
    [InlineData(11, 2, true)]
    [InlineData(9, 0, false)]
    public void SoftmaxIsStableAndFollowsOpsetAxisRules(int opset, int axis, bool log)
    {
        int[] shape = [3, 4, 17];
        var x = Data.Random(5, Data.Count(shape), -50, 50);
        x[3] = 1000f; // would overflow exp without the max shift
        var plan = new TestPlan();
        int ix = plan.Input("X", shape);
        int iy = plan.Arena("Y", shape);
        plan.Output(iy);
        plan.Step(log ? "LogSoftmax" : "Softmax", [ix], [iy], PlanAttribute.Int("opset", opset), PlanAttribute.Int("axis", axis));
        var y = plan.Run(x)[0];
        // Reference: groups of elements normalized together.
        int a = axis < 0 ? axis + 3 : axis;
        var expected = new float[x.Length];
        var groups = Enumerable.Range(0, x.Length).GroupBy(i =>
        {
            var idx = Reference.Unravel(i, shape);
            if (opset < 13) return Enumerable.Range(0, a).Aggregate(0, (acc, d) => acc * shape[d] + idx[d]);
            idx[a] = 0;
            return (idx[0] * 4 + idx[1]) * 17 + idx[2];
        });
        foreach (var g in groups)
        {
            double max = g.Max(i => (double)x[i]);
            double sum = g.Sum(i => Math.Exp(x[i] - max));
            foreach (int i in g) expected[i] = log ? (float)(x[i] - max - Math.Log(sum)) : (float)(Math.Exp(x[i] - max) / sum);
        }
        Assert.DoesNotContain(y, float.IsNaN);
        // LogSoftmax near 0 inherits the rounding of log(sum) with sum ≈ 1 (a few float ulps of 1): abs 5e-6.
        Data.Close(expected, y, 1e-5f, log ? 5e-6f : 1e-6f);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void BatchNormalizationInference(bool paramsAreWeights)
    {
        int[] shape = [2, 5, 3, 7];
        var x = Data.Random(1, Data.Count(shape));
        var scale = Data.Random(2, 5);
        var bias = Data.Random(3, 5);
        var mean = Data.Random(4, 5);
        var variance = Data.Random(5, 5, 0.1f, 2f);
        var plan = new TestPlan();
        int ix = plan.Input("X", shape);
        int[] p = paramsAreWeights
            ? [plan.Weight("s", scale, [5]), plan.Weight("b", bias, [5]), plan.Weight("m", mean, [5]), plan.Weight("v", variance, [5])]
            : [plan.Input("s", [5]), plan.Input("b", [5]), plan.Input("m", [5]), plan.Input("v", [5])];
        int iy = plan.Arena("Y", shape);
        plan.Output(iy);
        plan.Step("BatchNormalization", [ix, .. p], [iy], PlanAttribute.Float("epsilon", 1e-3f));
        var y = paramsAreWeights ? plan.Run(x)[0] : plan.Run(x, scale, bias, mean, variance)[0];
        var expected = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            int c = i / 21 % 5;
            expected[i] = (float)((x[i] - mean[c]) / Math.Sqrt(variance[c] + 1e-3) * scale[c] + bias[c]);
        }
        Data.Close(expected, y, 1e-5f, 1e-6f);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(4)]
    public void LrnAcrossChannels(int size)
    {
        int[] shape = [2, 7, 3, 5];
        var x = Data.Random(6, Data.Count(shape));
        var plan = new TestPlan();
        int ix = plan.Input("X", shape);
        int iy = plan.Arena("Y", shape);
        plan.Output(iy);
        plan.Step("LRN", [ix], [iy], PlanAttribute.Int("size", size), PlanAttribute.Float("alpha", 0.2f), PlanAttribute.Float("beta", 0.6f), PlanAttribute.Float("bias", 1.5f));
        var y = plan.Run(x)[0];
        var expected = new float[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            var idx = Reference.Unravel(i, shape);
            double sq = 0;
            for (int c = Math.Max(0, idx[1] - (size - 1) / 2); c <= Math.Min(6, idx[1] + size / 2); c++)
            {
                double v = x[((idx[0] * 7 + c) * 3 + idx[2]) * 5 + idx[3]];
                sq += v * v;
            }
            expected[i] = (float)(x[i] / Math.Pow(1.5 + 0.2 / size * sq, 0.6));
        }
        Data.Close(expected, y, 1e-5f, 1e-6f);
    }

    [Fact]
    public void InstanceNormalization()
    {
        int[] shape = [2, 3, 4, 5];
        var x = Data.Random(7, Data.Count(shape), -3, 3);
        var scale = Data.Random(8, 3);
        var bias = Data.Random(9, 3);
        var plan = new TestPlan();
        int ix = plan.Input("X", shape);
        int iy = plan.Arena("Y", shape);
        plan.Output(iy);
        plan.Step("InstanceNormalization", [ix, plan.Weight("s", scale, [3]), plan.Weight("b", bias, [3])], [iy]);
        var y = plan.Run(x)[0];
        var expected = new float[x.Length];
        for (int p = 0; p < 6; p++)
        {
            var plane = x.Skip(p * 20).Take(20).Select(v => (double)v).ToArray();
            double mean = plane.Average(), variance = plane.Select(v => (v - mean) * (v - mean)).Average();
            for (int i = 0; i < 20; i++) expected[p * 20 + i] = (float)((plane[i] - mean) / Math.Sqrt(variance + 1e-5) * scale[p % 3] + bias[p % 3]);
        }
        Data.Close(expected, y, 1e-5f, 1e-5f);
    }
}
