using System.Globalization;

namespace ModelGen.Benchmarks;

/// <summary>
/// The check that runs before any timing: ModelGen's outputs must match ONNX Runtime's.
/// The error of an output is max|modelgen − ort| / max|ort| (normalised by the output's
/// largest magnitude, since a per-element relative error is meaningless near zero).
/// fp32 must agree within 1e-4 (issue 6). int8 is compared with ONNX Runtime running the
/// exported QDQ model, which rounds the same quantized values in fp32 rather than int32, so
/// an activation that sits on a rounding boundary may land one quantization step away and
/// move the outputs by about one step of the layers after it: 2e-2 allows that and still
/// catches a wrong kernel (whose error is of order 1).
/// </summary>
internal static class OutputCheck
{
    /// <summary>The fp32 tolerance (normalised max error).</summary>
    public const double Fp32Tolerance = 1e-4;

    /// <summary>The int8 tolerance (normalised max error), against ONNX Runtime on the QDQ model.</summary>
    public const double Int8Tolerance = 2e-2;

    /// <summary>Throws when any output disagrees; returns a one-line summary of the worst error.</summary>
    /// <exception cref="InvalidOperationException">An output is not finite or is off by more than the tolerance.</exception>
    public static string Verify(BenchCase benchCase, float[][] modelGen, float[][] ort, string[] names)
    {
        double tolerance = benchCase.Precision == Precision.Fp32 ? Fp32Tolerance : Int8Tolerance;
        double worst = 0;
        for (int o = 0; o < modelGen.Length; o++)
        {
            double scale = 0, maxDiff = 0;
            for (int i = 0; i < ort[o].Length; i++)
            {
                float a = modelGen[o][i], b = ort[o][i];
                if (!float.IsFinite(a) || !float.IsFinite(b))
                {
                    throw new InvalidOperationException($"{benchCase.Id}: output '{names[o]}'[{i}] is not finite (ModelGen {a}, ONNX Runtime {b}); nothing was timed");
                }
                scale = Math.Max(scale, Math.Abs(b));
                maxDiff = Math.Max(maxDiff, Math.Abs(a - b));
            }
            double error = maxDiff / Math.Max(scale, 1e-30);
            if (maxDiff == 0) error = 0;
            if (error > tolerance)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"{benchCase.Id}: ModelGen and ONNX Runtime disagree on output '{names[o]}': max |diff| {maxDiff:G4} = {error:G3} of max |ort| {scale:G4}, tolerance {tolerance:G2}; nothing was timed. A kernel is wrong: run the runtime tests."));
            }
            worst = Math.Max(worst, error);
        }
        return string.Create(CultureInfo.InvariantCulture, $"outputs agree: max normalised error {worst:G3} (tolerance {tolerance:G2})");
    }
}
