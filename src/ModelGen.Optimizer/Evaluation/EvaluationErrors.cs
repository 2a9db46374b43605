namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// The MG102x codes of the accuracy gate: problems with the user's validation (or calibration)
/// data and with the reference runtime. They extend <see cref="ModelGen.Onnx.ErrorCodes"/> and are
/// raised as <see cref="ModelGen.Onnx.OnnxException"/>.
/// </summary>
public static class EvaluationErrors
{
    /// <summary>The validation/calibration data file or folder does not exist or cannot be read.</summary>
    public const string DataFileMissing = "MG1020";

    /// <summary>The data file is malformed or unsupported: bad zip, bad .npy header, unsupported dtype or order, truncated data.</summary>
    public const string DataFileMalformed = "MG1021";

    /// <summary>
    /// The data does not fit the model: an input has no array, a per-sample shape is wrong, arrays
    /// disagree on the sample count, labels are not integers or have the wrong length, or there are no samples.
    /// </summary>
    public const string DataMismatch = "MG1022";

    /// <summary>The reference runtime (ONNX Runtime on the original model) failed to load or run the model.</summary>
    public const string ReferenceRuntimeFailed = "MG1023";
}
