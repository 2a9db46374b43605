namespace ModelGen.Runtime.Kernels;

/// <summary>
/// One bound plan step. Binding resolves every slot to a fixed address (the arena and the
/// weights never move), checks the attributes and pre-computes what it can, so
/// <see cref="Execute"/> does only the arithmetic and allocates nothing.
/// </summary>
/// <remarks>
/// Every <see cref="Execute"/> override, and each per-call helper the JIT does not inline, carries
/// <c>[MethodImpl(MethodImplOptions.AggressiveOptimization)]</c>: compiled fully optimized at its first
/// call instead of starting at tier 0. Tiered compilation promotes a method only after 30 calls and a
/// quiet period that every new tier-0 method restarts, ten times longer when the process sees one
/// processor. In a one-core container SqueezeNet's pools and stores then ran unoptimized for seconds:
/// with <c>DOTNET_PROCESSOR_COUNT=1</c> the quick mode measured 6.5–7.6 ms per call against 4.4–4.7 ms
/// with the attribute (ONNX Runtime: 3.8–4.2 ms).
/// </remarks>
internal abstract class Kernel
{
    /// <summary>Runs the step once.</summary>
    public abstract void Execute();
}
