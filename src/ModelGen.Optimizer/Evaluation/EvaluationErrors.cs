namespace ModelGen.Optimizer.Evaluation;

/// <summary>
/// The MG102x codes of the accuracy gate: problems with the user's validation (or calibration)
/// data and with the reference runtime. They extend <see cref="ModelGen.Onnx.ErrorCodes"/> and are
/// raised as <see cref="ModelGen.Onnx.OnnxException"/>. Each kind of bad data has its own code, so
/// a CI log (and a test) can tell them apart without parsing the message.
/// </summary>
public static class EvaluationErrors
{
    /// <summary>The validation/calibration data file or folder does not exist or cannot be read.</summary>
    public const string DataFileMissing = "MG1020";

    /// <summary>The data file is malformed or unsupported: bad zip, bad .npy header, unsupported dtype or order, truncated data.</summary>
    public const string DataFileMalformed = "MG1021";

    /// <summary>
    /// The data does not fit the model in a way none of the narrower codes covers: data of an
    /// element type that cannot feed the input (float for an integer input, a value out of range),
    /// no samples at all, a model without inputs, or an argmax metric on an output that is not a classifier's.
    /// </summary>
    public const string DataMismatch = "MG1022";

    /// <summary>The reference runtime (ONNX Runtime on the original model) failed to load or run the model.</summary>
    public const string ReferenceRuntimeFailed = "MG1023";

    /// <summary>A model input has no array in the data (.npz) or no <c>input_N.pb</c> (test_data_set folders).</summary>
    public const string InputArrayMissing = "MG1024";

    /// <summary>A per-sample shape disagrees with the model input, or arrays/folders disagree on the sample count or shape.</summary>
    public const string SampleShapeMismatch = "MG1025";

    /// <summary>A floating-point input array holds NaN or ±infinity (the message names the array and the first bad index).</summary>
    public const string NonFiniteData = "MG1026";

    /// <summary>
    /// The labels are unusable: the wrong length or shape, not integers, negative or not below the
    /// classifier output's class count, or missing when the Top1 metric needs them.
    /// </summary>
    public const string BadLabels = "MG1027";

    /// <summary>The accuracy metric's name is not one of Top1, Agreement, Cosine, MaxAbsError, Mse.</summary>
    public const string UnknownMetric = "MG1028";
}
