namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// Where a direct-style conv kernel keeps its weights repacked into its tile layout: with constant weights and bias, one
/// buffer derived once per model and shared by every executor (a predictor's instances, a batched predictor's sizes);
/// with either computed at run time, a buffer of the kernel's own that it repacks on every call.
/// </summary>
internal static unsafe class PackedConvWeights
{
    /// <summary>
    /// The packed weights' buffer (<paramref name="floats"/> floats) for the step's input 1 (and bias, input 2).
    /// <paramref name="perCall"/> tells the kernel to call <paramref name="pack"/> itself before each run (and to pack its
    /// bias then); otherwise <paramref name="pack"/> has run, once, keyed by <paramref name="kind"/>, the weight slot and
    /// <paramref name="shape"/>.
    /// </summary>
    public static float* Bind(BindContext context, string kind, string shape, long floats, ModelWeights.DeriveAction pack, out bool perCall)
    {
        perCall = context.Input(1).Storage == SlotStorage.Arena || (context.HasInput(2) && context.Input(2).Storage == SlotStorage.Arena);
        if (perCall) return (float*)context.Scratch(floats * 4);
        var wSlot = context.Input(1);
        return (float*)context.Weights.Derived($"{kind}@{wSlot.Offset}:{wSlot.Type}:{shape}", floats * 4, pack);
    }
}
