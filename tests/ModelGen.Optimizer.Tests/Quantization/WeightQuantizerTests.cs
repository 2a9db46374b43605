using ModelGen.Optimizer.Quantization;

namespace ModelGen.Optimizer.Tests.Quantization;

public class WeightQuantizerTests
{
    [Fact]
    public void Axis0_ScalesAreMaxAbsOver127_AndValuesRoundTripWithinHalfAStep()
    {
        // [2, 3]: channel 0 = row 0, channel 1 = row 1.
        float[] w = { 1.27f, -0.635f, 0.1f, -2.54f, 2.54f, 0f };
        var (q, s) = WeightQuantizer.Quantize(w, new[] { 2, 3 }, axis: 0);
        Assert.Equal(new[] { 0.01f, 0.02f }, s, (a, b) => MathF.Abs(a - b) < 1e-7f);
        Assert.Equal(new sbyte[] { 127, -64, 10, -127, 127, 0 }, q); // -63.5 rounds to even: -64
        var back = WeightQuantizer.Dequantize(q, s, new[] { 2, 3 }, 0);
        for (int i = 0; i < w.Length; i++) Assert.True(MathF.Abs(back[i] - w[i]) <= s[i / 3] / 2 + 1e-7f, $"element {i}");
    }

    [Fact]
    public void LastAxis_IsPerColumn_AndAZeroChannelGetsScaleOne()
    {
        // MatMul B [K=2, N=3]: channels are columns; column 2 is all zeros.
        float[] w = { 1f, 0.5f, 0f, -2f, 0.25f, 0f };
        var (q, s) = WeightQuantizer.Quantize(w, new[] { 2, 3 }, axis: 1);
        Assert.Equal(new[] { 2f / 127, 0.5f / 127, 1f }, s);
        Assert.Equal(new sbyte[] { 64, 127, 0, -127, 64, 0 }, q);
    }

    [Fact]
    public void NeverUsesMinus128_AndRoundTripErrorIsAtMostHalfAStepOnRandomConvWeights()
    {
        var rng = new Random(7);
        var shape = new[] { 16, 8, 3, 3 };
        var w = new float[16 * 8 * 9];
        for (int i = 0; i < w.Length; i++) w[i] = (float)(rng.NextDouble() * 2 - 1) * (1 + i / 72); // channel-dependent ranges
        var (q, s) = WeightQuantizer.Quantize(w, shape, 0);
        Assert.DoesNotContain((sbyte)-128, q);
        var back = WeightQuantizer.Dequantize(q, s, shape, 0);
        for (int i = 0; i < w.Length; i++)
        {
            float step = s[i / 72];
            Assert.True(MathF.Abs(back[i] - w[i]) <= step / 2 * 1.0001f, $"element {i}: {back[i]} vs {w[i]}, step {step}");
        }
        // Each channel uses the full range: its largest |q| is 127.
        for (int c = 0; c < 16; c++) Assert.Equal(127, q.Skip(c * 72).Take(72).Max(v => Math.Abs((int)v)));
    }

    [Theory]
    [InlineData("Conv", 4, false, 0)]
    [InlineData("Gemm", 2, true, 0)]
    [InlineData("Gemm", 2, false, 1)]
    [InlineData("MatMul", 2, false, 1)]
    [InlineData("MatMul", 3, false, 2)]
    public void OutputChannelAxis_FollowsTheContract(string op, int rank, bool transB, int expected) =>
        Assert.Equal(expected, WeightQuantizer.OutputChannelAxis(op, rank, transB));

    [Fact]
    public void ActivationQuantization_RangeIncludesZero_AndZeroIsExact()
    {
        var q = ActivationQuantization.FromRange(0.5f, 3f); // widened to [0, 3]
        Assert.Equal(0, q.ZeroPoint);
        Assert.Equal(3f / 255, q.Scale, 6);
        var mixed = ActivationQuantization.FromRange(-1f, 3f);
        Assert.Equal(0f, mixed.FakeQuantize(0f));
        Assert.InRange(mixed.ZeroPoint, 63, 64);
        Assert.True(MathF.Abs(mixed.FakeQuantize(1.234f) - 1.234f) <= mixed.Scale / 2 + 1e-6f);
        Assert.Equal(mixed.Range.Max, mixed.FakeQuantize(100f)); // clipped
    }
}
