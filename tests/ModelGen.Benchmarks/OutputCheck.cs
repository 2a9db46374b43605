using System.Globalization;

namespace ModelGen.Benchmarks;

/// <summary>
/// The check that runs before any timing: ModelGen's outputs must match ONNX Runtime's.
/// The error of an output is max|modelgen − ort| / max|ort| (normalised by the output's
/// largest magnitude, since a per-element relative error is meaningless near zero).
/// fp32 must agree within 1e-4 (issue 6). int8 is compared with ONNX Runtime running the
/// exported QDQ model unfused (<see cref="PreparedPair"/>), which rounds the same quantized values in fp32 rather than int32, so
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
            int nonFinite = Array.FindIndex(modelGen[o], v => !float.IsFinite(v));
            if (nonFinite < 0) nonFinite = Array.FindIndex(ort[o], v => !float.IsFinite(v));
            if (nonFinite >= 0)
            {
                throw new InvalidOperationException($"{benchCase.Id}: output '{names[o]}'[{nonFinite}] is not finite (ModelGen {modelGen[o][nonFinite]}, ONNX Runtime {ort[o][nonFinite]}); nothing was timed");
            }
            var (error, maxDiff, scale) = Error(modelGen[o], ort[o]);
            if (error > tolerance)
            {
                throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                    $"{benchCase.Id}: ModelGen and ONNX Runtime disagree on output '{names[o]}': max |diff| {maxDiff:G4} = {error:G3} of max |ort| {scale:G4}, tolerance {tolerance:G2}; nothing was timed. A kernel is wrong: run the runtime tests."));
            }
            worst = Math.Max(worst, error);
        }
        return string.Create(CultureInfo.InvariantCulture, $"outputs agree: max normalised error {worst:G3} (tolerance {tolerance:G2})");
    }

    /// <summary>The worst normalised error of <paramref name="actual"/> against <paramref name="reference"/> over all outputs, as a phrase for the log.</summary>
    public static string Describe(string what, float[][] actual, float[][] reference)
    {
        double worst = 0;
        for (int o = 0; o < actual.Length; o++) worst = Math.Max(worst, Error(actual[o], reference[o]).Normalised);
        return string.Create(CultureInfo.InvariantCulture, $"{what}: max normalised error {worst:G3}");
    }

    /// <summary>max|a − b| / max|b|, with its two parts (0 when the two are equal).</summary>
    private static (double Normalised, double MaxDiff, double Scale) Error(float[] a, float[] b)
    {
        double scale = 0, maxDiff = 0;
        for (int i = 0; i < b.Length; i++)
        {
            scale = Math.Max(scale, Math.Abs(b[i]));
            maxDiff = Math.Max(maxDiff, Math.Abs(a[i] - b[i]));
        }
        return (maxDiff == 0 ? 0 : maxDiff / Math.Max(scale, 1e-30), maxDiff, scale);
    }
}
