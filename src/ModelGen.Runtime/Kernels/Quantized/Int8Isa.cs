using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Quantized;

/// <summary>
/// The instruction paths of the int8 GEMM core. All give bit-identical int32 accumulators.
/// .NET 10 exposes <c>vpdpbusd</c> only as <see cref="AvxVnni"/> (256-bit, VEX); the 512-bit
/// AVX-512 VNNI form has no managed API, so a CPU with AVX-512 VNNI uses the AVX-VNNI path.
/// </summary>
internal enum Int8Isa
{
    /// <summary>Plain C#: the reference every other path must match.</summary>
    Scalar,
    /// <summary>AVX2: widen u8 and s8 to int16, <c>vpmaddwd</c> (cannot saturate, unlike <c>vpmaddubsw</c>).</summary>
    Avx2,
    /// <summary>AVX-VNNI: <c>vpdpbusd</c>, four u8×s8 products per int32 lane.</summary>
    AvxVnni,
}

/// <summary>Chooses the int8 path: the best the CPU has, unless a test overrides it on its thread.</summary>
internal static class Int8IsaSelector
{
    /// <summary>The best path this CPU supports.</summary>
    public static Int8Isa Best { get; } =
        AvxVnni.IsSupported ? Int8Isa.AvxVnni : Avx2.IsSupported ? Int8Isa.Avx2 : Int8Isa.Scalar;

    /// <summary>
    /// Forces kernels bound on the calling thread to use this path (tests run every path
    /// this way); null restores <see cref="Best"/>. Kernels capture the path when they are bound.
    /// </summary>
    public static Int8Isa? Override
    {
        get => IsaOverride<Int8Isa>.Value;
        set => IsaOverride<Int8Isa>.Set(value, IsSupported, "int8 path");
    }

    /// <summary>The path a kernel bound now should use.</summary>
    public static Int8Isa Current => IsaOverride<Int8Isa>.Value ?? Best;

    /// <summary>Whether this CPU can run <paramref name="isa"/>.</summary>
    public static bool IsSupported(Int8Isa isa) => isa switch
    {
        Int8Isa.Scalar => true,
        Int8Isa.Avx2 => Avx2.IsSupported,
        Int8Isa.AvxVnni => AvxVnni.IsSupported,
        _ => false,
    };
}
