using ModelGen.Tests;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Planning;
using ModelGen.Optimizer.Quantization;

namespace ModelGen.Optimizer.Tests.Quantization;

/// <summary>
/// Bias correction on a case where it matters: a wide Gemm (K = 256) fed strictly positive
/// inputs (U(1, 3), mean 2, like unnormalized features). Each channel's int8 weight rounding
/// errors then add up, weighted by E[x] = 2, to a systematic offset of that channel's output;
/// correction subtracts it. Measured on held-out samples against the fp32 plan, with the same
/// calibration run once with and once without correction (the calibrator's switch).
/// </summary>
public class BiasCorrectionTests(ITestOutputHelper output)
{
    private const int K = 256, N = 16;

    private static float Positive(Random r) => (float)(1 + 2 * r.NextDouble());

    [Theory]
    [InlineData(QuantizeMode.Int8Weights)]
    [InlineData(QuantizeMode.Int8)]
    [InlineData(QuantizeMode.Int8Dynamic)]
    public void Correction_removes_the_systematic_output_error_of_a_wide_layer_on_positive_inputs(QuantizeMode mode)
    {
        using var dir = new TempFolder();
        var m = new TestModels(31);
        var x = m.Input("x", 1, K);
        m.Output(m.Node("Gemm", [x, m.Weight("w", [K, N], 0.5f), m.Weight("b", [N], 0.1f)]));
        string path = m.Save(dir.Path, "wide.onnx");
        var fp32 = ModelOptimizer.Optimize(new OptimizeOptions(path, "", "Wide"));
        var model = fp32.Optimized;
        var layers = QuantLayer.Find(model.Graph);
        var calibration = ValidationSet.Load(QuantTestData.Npz(dir.Combine("cal.npz"), "x", [1, K], 200, seed: 12, make: Positive), model.Graph.Inputs);

        CompiledModel Quantized(bool correct)
        {
            var cal = Calibrator.Run(model, layers, calibration, calibration.Count, mode, CalibrationMethod.MinMax, 99.99, correct, path);
            Assert.Equal(correct, cal.Values.All(c => c.BiasDelta is not null));
            var copy = GraphCopy.Of(model);
            var notes = QuantizationRewriter.Apply(copy, mode, layers.Select(l => l.Name).ToHashSet(), cal);
            Assert.Empty(notes); // the correction was applied, not refused
            return PlanBuilder.Build(copy, "Wide", path, "");
        }

        var (plainBias, plainAbs) = Errors(fp32, Quantized(false));
        var (correctedBias, correctedAbs) = Errors(fp32, Quantized(true));
        output.WriteLine($"{mode}: mean |per-channel mean error| {plainBias:G3} -> {correctedBias:G3}; mean |error| {plainAbs:G3} -> {correctedAbs:G3}");
        // The systematic part is what correction targets: it must shrink at least 4x on held-out data
        // (it is zero on the calibration data by construction; sampling noise of 200 samples keeps it above zero here).
        Assert.True(correctedBias * 4 < plainBias, $"{mode}: bias {plainBias:G3} -> {correctedBias:G3}");
        // And since it dominates this layer's error, the mean absolute error falls too.
        Assert.True(correctedAbs < plainAbs * 0.8, $"{mode}: mean |error| {plainAbs:G3} -> {correctedAbs:G3}");
    }

    /// <summary>On 200 held-out samples: the mean over channels of |mean error of that channel|, and the mean |error|.</summary>
    private static (double Bias, double Abs) Errors(OptimizeResult fp32, CompiledModel quantized)
    {
        using var reference = fp32.CreateInterpreter();
        using var candidate = new ModelInterpreter(quantized);
        var rng = new Random(77);
        var mean = new double[N];
        double abs = 0;
        const int samples = 200;
        for (int s = 0; s < samples; s++)
        {
            var x = Enumerable.Range(0, K).Select(_ => Positive(rng)).ToArray();
            var expected = reference.RunFloats(x)[0];
            var actual = candidate.RunFloats(x)[0];
            for (int n = 0; n < N; n++)
            {
                double d = (double)actual[n] - expected[n];
                mean[n] += d / samples;
                abs += Math.Abs(d) / (samples * N);
            }
        }
        return (mean.Average(Math.Abs), abs);
    }
}
