using ModelGen.Onnx;
using ModelGen.Onnx.Ir;

namespace ModelGen.Optimizer.Validation;

/// <summary>
/// The newest default-domain opset whose operator semantics ModelGen implements (the ONNX
/// conformance data it is tested on goes up to this version). A newer opset may have changed an
/// operator in ways we would silently get wrong, so it is bad input (MG1014), not a guess.
/// </summary>
internal static class OpsetSupport
{
    public const long MaxDefaultOpset = 25;

    public static void Check(OnnxModel model, string path)
    {
        foreach (var (domain, version) in model.Opsets)
        {
            if (domain is not ("" or "ai.onnx")) continue;
            if (version > MaxDefaultOpset)
            {
                throw new OnnxException(ErrorCodes.UnsupportedOpset,
                    $"the model imports opset {version} of the default ONNX domain; ModelGen implements operators up to opset {MaxDefaultOpset}. " +
                    $"Export the model with opset {MaxDefaultOpset} or lower.",
                    path);
            }
        }
    }
}
