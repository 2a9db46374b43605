using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

namespace ModelGen.Conformance.Tests;

/// <summary>
/// Compares an output with ONNX's expected tensor using the ONNX backend runner's defaults:
/// floating-point values pass when |actual − expected| ≤ atol + rtol·|expected| with
/// rtol = 1e-3 and atol = 1e-7 (NaN equals NaN, infinities must match exactly); integer and
/// bool values must be equal.
/// </summary>
internal static class TensorComparison
{
    public const double RelativeTolerance = 1e-3;
    public const double AbsoluteTolerance = 1e-7;

    /// <summary>Null when <paramref name="actual"/> matches, otherwise what differs.</summary>
    public static string? Difference(OnnxTensor expected, OnnxTensor actual)
    {
        if (expected.Type != actual.Type) return $"element type {actual.Type.ToOnnxName()}, expected {expected.Type.ToOnnxName()}";
        if (!expected.Shape.SequenceEqual(actual.Shape))
        {
            return $"shape [{string.Join(",", actual.Shape)}], expected [{string.Join(",", expected.Shape)}]";
        }
        return expected.Type switch
        {
            ElementType.Float => Close(expected.AsSpan<float>(), actual.AsSpan<float>(), v => v),
            ElementType.Double => Close(expected.AsSpan<double>(), actual.AsSpan<double>(), v => v),
            ElementType.Float16 => Close(expected.AsSpan<Half>(), actual.AsSpan<Half>(), v => (double)v),
            _ => Exact(expected, actual),
        };
    }

    private static string? Close<T>(ReadOnlySpan<T> expected, ReadOnlySpan<T> actual, Func<T, double> toDouble)
    {
        int bad = 0, firstBad = -1;
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double e = toDouble(expected[i]), a = toDouble(actual[i]);
            if (double.IsNaN(e) && double.IsNaN(a)) continue;
            if (double.IsInfinity(e) || double.IsInfinity(a))
            {
                if (e == a) continue;
            }
            else
            {
                double error = Math.Abs(a - e);
                if (error <= AbsoluteTolerance + RelativeTolerance * Math.Abs(e)) continue;
                worst = Math.Max(worst, error);
            }
            if (bad++ == 0) firstBad = i;
        }
        if (bad == 0) return null;
        return $"{bad} of {expected.Length} values differ beyond rtol={RelativeTolerance}, atol={AbsoluteTolerance} " +
               $"(first at {firstBad}: got {toDouble(actual[firstBad])}, expected {toDouble(expected[firstBad])}; largest error {worst})";
    }

    private static string? Exact(OnnxTensor expected, OnnxTensor actual)
    {
        int size = expected.Type.SizeOf();
        for (int i = 0; i < expected.Data.Length; i += size)
        {
            if (!expected.Data.AsSpan(i, size).SequenceEqual(actual.Data.AsSpan(i, size)))
            {
                return $"element {i / size} differs (got bytes {Convert.ToHexString(actual.Data, i, size)}, expected {Convert.ToHexString(expected.Data, i, size)})";
            }
        }
        return null;
    }
}
