using System.Runtime.InteropServices;
using ModelGen.Onnx;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// Refuses validation data holding NaN or ±infinity. One bad value would otherwise poison a
/// calibration range (min/max become infinite) or turn a metric into NaN, and the build would fail
/// far from the cause; checked on load, the error names the array and the first bad element.
/// </summary>
internal static class FiniteCheck
{
    /// <summary>
    /// Throws MG1026 when <paramref name="data"/> (elements of <paramref name="type"/>, shape
    /// <paramref name="shape"/>, samples along axis 0 when <paramref name="stacked"/>) holds a
    /// non-finite value. Integer types cannot and are not checked.
    /// </summary>
    /// <param name="what">Names the data in the message, e.g. "array 'x' in 'val.npz'".</param>
    /// <param name="file">The file the error is reported against.</param>
    public static void Require(ElementType type, ReadOnlySpan<byte> data, int[] shape, bool stacked, string what, string file)
    {
        long index = type switch
        {
            ElementType.Float => FirstNonFinite(MemoryMarshal.Cast<byte, float>(data)),
            ElementType.Double => FirstNonFinite(MemoryMarshal.Cast<byte, double>(data)),
            ElementType.Float16 => FirstNonFinite(MemoryMarshal.Cast<byte, Half>(data)),
            _ => -1,
        };
        if (index < 0) return;
        string value = type switch
        {
            ElementType.Float => MemoryMarshal.Cast<byte, float>(data)[(int)index].ToString(System.Globalization.CultureInfo.InvariantCulture),
            ElementType.Double => MemoryMarshal.Cast<byte, double>(data)[(int)index].ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => MemoryMarshal.Cast<byte, Half>(data)[(int)index].ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        int[] at = Unravel(index, shape);
        string sample = stacked && at.Length > 0 ? $" (sample {at[0]})" : "";
        throw new OnnxException(EvaluationErrors.NonFiniteData,
            $"{what} holds {value} at index {ValidationSet.Describe(at)}{sample}; validation and calibration data must be finite numbers. " +
            "Clean or drop that sample (e.g. np.nan_to_num, or remove rows where ~np.isfinite(x).all(axis=...))", file);
    }

    private static long FirstNonFinite<T>(ReadOnlySpan<T> values) where T : System.Numerics.IFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!T.IsFinite(values[i])) return i;
        }
        return -1;
    }

    /// <summary>The C-order multi-index of flat element <paramref name="flat"/> in <paramref name="shape"/>.</summary>
    internal static int[] Unravel(long flat, int[] shape)
    {
        var index = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] == 0) return index;
            index[d] = (int)(flat % shape[d]);
            flat /= shape[d];
        }
        return index;
    }
}
