using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels;

/// <summary>
/// <see cref="MathF.Max(float, float)"/>'s semantics (NaN propagates, −0 orders below +0) for 256-bit vectors in fewer
/// instructions than <see cref="Vector256.Max{T}(Vector256{T}, Vector256{T})"/>, which on AVX2 expands to nine (compares,
/// masks and a blend around no <c>vmaxps</c> at all: seen in the JIT's listing of the AVX2 max pool). AVX-512 has
/// <c>vrangeps</c>, so its paths keep <see cref="Vector512.Max{T}(Vector512{T}, Vector512{T})"/>.
/// </summary>
internal static class Ieee256
{
    /// <summary>
    /// max(<paramref name="v"/>, 0) as <c>MathF.Max(v, 0)</c>, in two instructions: <c>vmaxps</c> returns its second
    /// operand when either is NaN or both are zero, so (0, v) passes NaN through and gives −0 for −0; adding +0 then turns
    /// that −0 into +0 and leaves every other result as it is.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Relu(Vector256<float> v) =>
        Avx.IsSupported ? Avx.Add(Avx.Max(Vector256<float>.Zero, v), Vector256<float>.Zero) : Vector256.Max(v, Vector256<float>.Zero);

    /// <summary>
    /// max(<paramref name="a"/>, <paramref name="b"/>) as <c>MathF.Max</c>, in four instructions: <c>vmaxps</c> both ways
    /// agree on unequal values, and their AND is +0 for ±0; lanes where either is NaN are forced to a NaN (all bits set,
    /// so the payload may differ from the input's).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> a, Vector256<float> b) =>
        Avx.IsSupported ? Avx.Or(Avx.And(Avx.Max(a, b), Avx.Max(b, a)), Avx.CompareUnordered(a, b)) : Vector256.Max(a, b);
}
