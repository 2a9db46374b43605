namespace ModelGen.Optimizer.Quantization;

/// <summary>The lossy precision reduction asked for (the <c>Quantize</c> metadata); see docs/quantization.md.</summary>
public enum QuantizeMode
{
    /// <summary>Lossless: every weight and every computation stays fp32.</summary>
    None,

    /// <summary>Float weights with at least 16 elements stored as float16; computed in fp32.</summary>
    Fp16,

    /// <summary>Static int8: per-channel symmetric int8 weights, activation ranges from calibration, int8 compute.</summary>
    Int8,

    /// <summary>Dynamic int8: per-channel symmetric int8 weights, activation ranges computed on every call, int8 compute.</summary>
    Int8Dynamic,

    /// <summary>Weight-only int8: per-channel symmetric int8 weights dequantized once at bind time; fp32 compute.</summary>
    Int8Weights,
}

/// <summary>How static int8 activation ranges are chosen from the calibration data (the <c>Calibration</c> metadata).</summary>
public enum CalibrationMethod
{
    /// <summary>The observed minimum and maximum: no clipping.</summary>
    MinMax,

    /// <summary>Clip each side at a percentile of the observed values (<see cref="OptimizeOptions.CalibrationPercentile"/>).</summary>
    Percentile,

    /// <summary>The range whose 128-level quantized histogram is closest (KL divergence) to the observed one, TensorRT-style.</summary>
    Entropy,
}

/// <summary>Names for the modes as written in the csproj and the report.</summary>
public static class QuantizeModes
{
    /// <summary>True for every mode that changes results (anything but <see cref="QuantizeMode.None"/>).</summary>
    public static bool IsLossy(this QuantizeMode mode) => mode != QuantizeMode.None;

    /// <summary>True for the modes that store int8 weights.</summary>
    public static bool IsInt8(this QuantizeMode mode) => mode is QuantizeMode.Int8 or QuantizeMode.Int8Dynamic or QuantizeMode.Int8Weights;

    /// <summary>Parses a mode name, case-insensitively; null when unknown.</summary>
    public static QuantizeMode? TryParse(string? text) =>
        Enum.TryParse<QuantizeMode>(text?.Trim(), ignoreCase: true, out var mode) && Enum.IsDefined(mode) ? mode : null;

    /// <summary>Parses a calibration method name, case-insensitively; null when unknown.</summary>
    public static CalibrationMethod? TryParseCalibration(string? text) =>
        Enum.TryParse<CalibrationMethod>(text?.Trim(), ignoreCase: true, out var method) && Enum.IsDefined(method) ? method : null;
}
