using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using ModelGen.Optimizer;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Quantization;

namespace ModelGen.Benchmarks;

/// <summary>
/// One case ready to time: the model optimized by ModelGen (fp32 or int8), ONNX Runtime
/// loaded on the matching model, both bound to the same seeded input, and their outputs
/// checked against each other (<see cref="OutputCheck"/>) before any timing, so a fast but
/// wrong kernel cannot produce a number.
/// </summary>
internal sealed class PreparedPair : IDisposable
{
    /// <summary>Calibration samples for int8 (seeded uniform data like the benchmark input).</summary>
    private const int CalibrationSamples = 64;

    private PreparedPair(BenchCase benchCase, ModelGenRunner modelGen, OrtRunner ort, string ortModel, string check, TimeSpan prepareTime)
    {
        Case = benchCase;
        OrtModel = ortModel;
        ModelGen = modelGen;
        Ort = ort;
        Check = check;
        PrepareTime = prepareTime;
    }

    /// <summary>The case.</summary>
    public BenchCase Case { get; }

    /// <summary>The .onnx file ONNX Runtime runs (the source model, or for int8 the QDQ model ModelGen wrote).</summary>
    public string OrtModel { get; }

    /// <summary>The ModelGen side.</summary>
    public ModelGenRunner ModelGen { get; }

    /// <summary>The ONNX Runtime side.</summary>
    public OrtRunner Ort { get; }

    /// <summary>What the output check measured (for the log).</summary>
    public string Check { get; }

    /// <summary>Time spent optimizing, loading and checking.</summary>
    public TimeSpan PrepareTime { get; }

    /// <summary>
    /// Optimizes the case's model, loads both sides and checks that they agree.
    /// fp32: ONNX Runtime runs the source model. int8: it runs the QDQ model ModelGen exports
    /// (docs/quantization.md), so both sides compute the same quantized model.
    /// </summary>
    /// <exception cref="InvalidOperationException">The outputs disagree beyond the case's tolerance.</exception>
    public static PreparedPair Create(BenchCase benchCase)
    {
        var timer = Stopwatch.StartNew();
        string source = benchCase.Source();
        string name = $"{benchCase.Model}-b{benchCase.Batch}-{benchCase.Precision}".Replace('-', '_');
        string outDir = BenchPaths.WorkFolder(Path.Combine("out", name));
        var fp32 = ModelOptimizer.Optimize(new OptimizeOptions(source, outDir, name));
        var result = fp32;
        string ortModel = source;
        if (benchCase.Precision == Precision.Int8)
        {
            string calibration = WriteCalibrationData(fp32, outDir);
            result = ModelOptimizer.Optimize(new OptimizeOptions(source, outDir, name)
            {
                Quantize = QuantizeMode.Int8,
                CalibrationData = calibration,
                AllowUngated = true,
            });
            ortModel = Path.Combine(outDir, name + ".onnx");
        }
        var modelGen = new ModelGenRunner(result);
        OrtRunner? ort = null;
        try
        {
            var ortInputs = modelGen.InputSlots.Select((s, i) => (s.Name, s.Shape, modelGen.Inputs[i])).ToArray();
            var outputs = modelGen.OutputSlots.Select(s => (s.Name, s.Shape)).ToArray();
            string[] names = modelGen.OutputSlots.Select(s => s.Name).ToArray();
            ort = new OrtRunner(ortModel, ortInputs, outputs);
            modelGen.Invoke();
            ort.Invoke();
            string check;
            if (benchCase.Precision == Precision.Int8)
            {
                // ONNX Runtime at its best fuses the QDQ pairs into its integer kernels, and on a CPU without VNNI its
                // u8×s8 kernels use vpmaddubsw, whose int16 pair sums saturate (its quantization docs say so); ModelGen's
                // sums are exact. So the reference is the same QDQ model run unfused, DequantizeLinear → the float op →
                // QuantizeLinear as the ONNX spec defines them, and the fused run's own error is reported beside it.
                // Seen on an AVX2-only EPYC: mlp-196-128-10 int8, the fused run 6.2e-2 off ModelGen's exact sums.
                using var reference = new OrtRunner(ortModel, ortInputs, outputs, optimization: GraphOptimizationLevel.ORT_DISABLE_ALL);
                reference.Invoke();
                check = OutputCheck.Verify(benchCase, modelGen.Outputs, reference.Outputs, names) + " against ONNX Runtime's unfused QDQ run; "
                    + OutputCheck.Describe("its fused kernels", ort.Outputs, reference.Outputs);
            }
            else
            {
                check = OutputCheck.Verify(benchCase, modelGen.Outputs, ort.Outputs, names);
            }
            return new PreparedPair(benchCase, modelGen, ort, ortModel, check, timer.Elapsed);
        }
        catch
        {
            ort?.Dispose();
            modelGen.Dispose();
            throw;
        }
    }

    /// <summary>Writes about <see cref="CalibrationSamples"/> seeded rows per input as an .npz.</summary>
    private static string WriteCalibrationData(OptimizeResult fp32, string outDir)
    {
        var arrays = new List<(string, NpyArray)>();
        using var interpreter = fp32.CreateInterpreter();
        foreach (var (input, n) in interpreter.Inputs.Select((i, n) => (i, n)))
        {
            // A batch-1 input takes samples stacked on its batch axis; a fixed batch B > 1 takes
            // whole batches on a new leading axis (the optimizer's .npz rules), about the same rows.
            int[] shape = input.Shape[0] == 1
                ? [CalibrationSamples, .. input.Shape.AsSpan(1)]
                : [Math.Max(2, CalibrationSamples / input.Shape[0]), .. input.Shape];
            arrays.Add((input.Name, NpyArray.FromFloats(shape, SeededData.Uniform(shape.Aggregate(1, (a, d) => a * d), seed: 100 + n))));
        }
        string path = Path.Combine(outDir, "calibration.npz");
        Npz.Write(path, arrays);
        return path;
    }

    /// <summary>
    /// Untimed calls of both sides in turn, <paramref name="pairs"/> of them, so the studies time code past tiered JIT's
    /// first tiers; with <paramref name="runOnly"/> ModelGen's side is its plan alone (<see cref="ModelGenRunner.RunOnly"/>).
    /// </summary>
    public void WarmUp(int pairs = 50, bool runOnly = false)
    {
        for (int i = 0; i < pairs; i++)
        {
            if (runOnly) ModelGen.RunOnly();
            else ModelGen.Invoke();
            Ort.Invoke();
        }
    }

    /// <summary>One call of each side, ModelGen's first, each one's time added to its list (µs): the studies' alternating pairs.</summary>
    public void TimedPair(List<double> modelGen, List<double> ort)
    {
        long t0 = Stopwatch.GetTimestamp();
        ModelGen.Invoke();
        long t1 = Stopwatch.GetTimestamp();
        Ort.Invoke();
        long t2 = Stopwatch.GetTimestamp();
        double tick = 1e6 / Stopwatch.Frequency;
        modelGen.Add((t1 - t0) * tick);
        ort.Add((t2 - t1) * tick);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Ort.Dispose();
        ModelGen.Dispose();
    }
}
