namespace ModelGen.Optimizer.Quantization;

/// <summary>What calibration found for one layer.</summary>
/// <param name="Low">The chosen activation range's low end (static int8; the observed min otherwise).</param>
/// <param name="High">The chosen activation range's high end.</param>
/// <param name="Activation">Scale and zero point of input 0 (static int8 only).</param>
/// <param name="BiasDelta">The mean per-output-channel error the quantized layer adds (before its activation); subtracted from the bias. Null: no correction.</param>
public sealed record LayerCalibration(float Low, float High, ActivationQuantization? Activation, float[]? BiasDelta);
