namespace ModelGen.Optimizer.Gate;

/// <summary>The MG103x codes of the accuracy gate, raised as <see cref="ModelGen.Onnx.OnnxException"/> (errors) or <see cref="Diagnostic"/> (warnings).</summary>
public static class GateErrors
{
    /// <summary>Error: a lossy optimization was asked for without ValidationData (and without AllowUngated).</summary>
    public const string NoValidationData = "MG1030";

    /// <summary>Warning: a lossy optimization was built without an accuracy gate (AllowUngated).</summary>
    public const string Ungated = "MG1031";

    /// <summary>Error: the metric dropped by more than MaxAccuracyDrop (after the fallback, when on).</summary>
    public const string AccuracyDropTooLarge = "MG1032";

    /// <summary>Error: static int8 needs calibration data (CalibrationData or ValidationData) to choose activation ranges.</summary>
    public const string NoCalibrationData = "MG1033";

    /// <summary>Error: a quantization option has a bad value (the calibration percentile, the sample cap).</summary>
    public const string BadQuantizationOption = "MG1034";
}
