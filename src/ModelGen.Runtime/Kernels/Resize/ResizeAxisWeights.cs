namespace ModelGen.Runtime.Kernels.Resize;

/// <summary>
/// The 1-D interpolation of one Resize axis, computed once at bind time: for each output index,
/// <see cref="Taps"/> source indices (clamped to the input, i.e. edge padding) and weights, or
/// "extrapolate" (tf_crop_and_resize outside the input). It follows the ONNX reference
/// implementation (onnx/reference/ops/op_resize.py): x_original from the coordinate
/// transformation, the taps around it (the left one is floor(x), or x − 1 when x is whole), and
/// the nearest / linear / cubic coefficients, antialiased when downscaling.
/// </summary>
internal sealed class ResizeAxisWeights
{
    public int OutputLength { get; private init; }
    public int Taps { get; private init; }
    public int[] Indices { get; private init; } = [];
    public float[] Weights { get; private init; } = [];
    public bool[] Extrapolate { get; private init; } = [];

    /// <summary>True when the pass copies its input unchanged (same length, each output takes its own index).</summary>
    public bool IsIdentity { get; private init; }

    public sealed record Settings(string Mode, string Transform, string NearestMode, double CubicA, bool ExcludeOutside, bool Antialias);

    public static ResizeAxisWeights Create(int inLength, int outLength, double scale, double roiStart, double roiEnd, Settings s)
    {
        int taps = TapCount(s, scale);
        var indices = new int[outLength * taps];
        var weights = new float[outLength * taps];
        var extrapolate = new bool[outLength];
        var coeffs = new double[taps];
        bool identity = inLength == outLength;
        for (int o = 0; o < outLength; o++)
        {
            double x = Original(o, inLength, outLength, scale, roiStart, roiEnd, s.Transform);
            if (s.Transform == "tf_crop_and_resize" && (x < 0 || x > inLength - 1))
            {
                extrapolate[o] = true;
                identity = false;
                continue;
            }
            double floor = Math.Floor(x);
            bool whole = x == floor;
            double ratio = whole ? 1 : x - floor;
            int left = whole ? (int)floor - 1 : (int)floor;
            Coefficients(ratio, scale, s, coeffs);
            int first = left - taps / 2 + 1;
            if (s.ExcludeOutside)
            {
                double sum = 0;
                for (int k = 0; k < taps; k++)
                {
                    int i = first + k;
                    if (i < 0 || i >= inLength) coeffs[k] = 0;
                    sum += coeffs[k];
                }
                for (int k = 0; k < taps; k++) coeffs[k] /= sum;
            }
            for (int k = 0; k < taps; k++)
            {
                int i = Math.Clamp(first + k, 0, inLength - 1);
                indices[o * taps + k] = i;
                weights[o * taps + k] = (float)coeffs[k];
                if (coeffs[k] != 0 && (i != o || coeffs[k] != 1)) identity = false;
            }
        }
        return new ResizeAxisWeights
        {
            OutputLength = outLength, Taps = taps, Indices = indices, Weights = weights, Extrapolate = extrapolate, IsIdentity = identity,
        };
    }

    private static int TapCount(Settings s, double scale)
    {
        bool shrink = s.Antialias && scale < 1;
        return s.Mode switch
        {
            "nearest" => 2,
            "linear" when shrink => 2 - 2 * ((int)Math.Floor(-1 / scale) + 1),
            "linear" => 2,
            "cubic" when shrink => 2 * (2 - ((int)Math.Floor(-2 / scale) + 1)) - 2,
            _ => 4,
        };
    }

    /// <summary>The input coordinate an output index maps to (the ONNX coordinate_transformation_mode).</summary>
    private static double Original(int x, int inLength, int outLength, double scale, double roiStart, double roiEnd, string transform)
    {
        switch (transform)
        {
            case "half_pixel": return (x + 0.5) / scale - 0.5;
            case "half_pixel_symmetric":
                double outputWidth = scale * inLength;
                double adjustment = outLength / outputWidth;
                double center = inLength / 2.0;
                double offset = center * (1 - adjustment);
                return offset + (x + 0.5) / scale - 0.5;
            // The reference uses the fractional output width (scale · input length) here, not the rounded length.
            case "pytorch_half_pixel": return scale * inLength != 1 ? (x + 0.5) / scale - 0.5 : -0.5;
            case "align_corners": return scale * inLength == 1 ? 0 : x * (inLength - 1.0) / (scale * inLength - 1.0);
            case "asymmetric": return x / scale;
            default: // tf_crop_and_resize
                return outLength > 1
                    ? roiStart * (inLength - 1) + x * (roiEnd - roiStart) * (inLength - 1) / (outLength - 1)
                    : 0.5 * (roiStart + roiEnd) * (inLength - 1);
        }
    }

    private static void Coefficients(double ratio, double scale, Settings s, double[] c)
    {
        switch (s.Mode)
        {
            case "nearest":
                bool right = ratio == 1 || s.NearestMode switch
                {
                    "round_prefer_ceil" => ratio >= 0.5,
                    "floor" => false,
                    "ceil" => true,
                    _ => ratio > 0.5,
                };
                c[0] = right ? 0 : 1;
                c[1] = right ? 1 : 0;
                return;
            case "linear" when s.Antialias && scale < 1:
            {
                int start = (int)Math.Floor(-1 / scale) + 1;
                double sum = 0;
                for (int k = 0; k < c.Length; k++)
                {
                    c[k] = Math.Clamp(1 - Math.Abs((start + k - ratio) * scale), 0, 1);
                    sum += c[k];
                }
                for (int k = 0; k < c.Length; k++) c[k] /= sum;
                return;
            }
            case "linear":
                c[0] = 1 - ratio;
                c[1] = ratio;
                return;
            case "cubic" when s.Antialias && scale < 1:
            {
                int start = (int)Math.Floor(-2 / scale) + 1;
                double sum = 0;
                for (int k = 0; k < c.Length; k++)
                {
                    c[k] = Cubic(scale * (start + k - ratio), s.CubicA);
                    sum += c[k];
                }
                for (int k = 0; k < c.Length; k++) c[k] /= sum;
                return;
            }
            default:
                double a = s.CubicA, r1 = ratio + 1, q = 1 - ratio, q1 = q + 1;
                c[0] = ((a * r1 - 5 * a) * r1 + 8 * a) * r1 - 4 * a;
                c[1] = ((a + 2) * ratio - (a + 3)) * ratio * ratio + 1;
                c[2] = ((a + 2) * q - (a + 3)) * q * q + 1;
                c[3] = ((a * q1 - 5 * a) * q1 + 8 * a) * q1 - 4 * a;
                return;
        }
    }

    private static double Cubic(double x, double a)
    {
        x = Math.Abs(x);
        double x2 = x * x, x3 = x * x2;
        if (x <= 1) return (a + 2) * x3 - (a + 3) * x2 + 1;
        if (x < 2) return a * x3 - 5 * a * x2 + 8 * a * x - 4 * a;
        return 0;
    }
}
