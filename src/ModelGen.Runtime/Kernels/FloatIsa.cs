using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels;

/// <summary>
/// The vector paths of the fp32 conv tiles that come in more than one width. Each gives the same sums up to the order
/// of the FMAs; the choice is made once, when a kernel is bound.
/// </summary>
internal enum FloatIsa
{
    /// <summary>No conv tile: those kernels step aside and im2col + SGEMM takes the Conv.</summary>
    None,
    /// <summary>AVX2 with FMA: 8 floats per vector, 16 registers (Zen 2 and 3, Intel client cores).</summary>
    Avx2,
    /// <summary>AVX-512: 16 floats per vector, 32 registers, masked stores and compress.</summary>
    Avx512,
}

/// <summary>Chooses the fp32 tile path: the widest the CPU has, unless a test overrides it on its thread.</summary>
internal static class FloatIsaSelector
{
    /// <summary>The widest path this CPU supports.</summary>
    public static FloatIsa Best { get; } =
        Avx512F.IsSupported ? FloatIsa.Avx512 : Avx2.IsSupported && Fma.IsSupported ? FloatIsa.Avx2 : FloatIsa.None;

    /// <summary>
    /// Forces kernels bound on the calling thread to take this path (tests run the AVX2 tiles on AVX-512 machines this
    /// way); null restores <see cref="Best"/>.
    /// </summary>
    /// <exception cref="PlatformNotSupportedException">This CPU cannot run <paramref name="value"/>.</exception>
    public static FloatIsa? Override
    {
        get => IsaOverride<FloatIsa>.Value;
        set => IsaOverride<FloatIsa>.Set(value, IsSupported, "fp32 tiles");
    }

    /// <summary>The path a kernel bound now takes.</summary>
    public static FloatIsa Current => IsaOverride<FloatIsa>.Value ?? Best;

    /// <summary>Whether this CPU can run <paramref name="isa"/>.</summary>
    public static bool IsSupported(FloatIsa isa) => isa switch
    {
        FloatIsa.None => true,
        FloatIsa.Avx2 => Avx2.IsSupported && Fma.IsSupported,
        FloatIsa.Avx512 => Avx512F.IsSupported,
        _ => false,
    };
}
