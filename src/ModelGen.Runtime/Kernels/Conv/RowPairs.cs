using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// Stride-2 access to a row with AVX-512: 32 consecutive floats in two vectors, from which one permute picks
/// the 16 even (or odd) columns. Shared by the direct conv's phase split and the strided 1×1 conv's subsampling.
/// </summary>
internal static unsafe class RowPairs
{
    /// <summary>Permute indices of the even lanes of (lo, hi).</summary>
    public static Vector512<int> EvenLanes => Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);

    /// <summary>Floats [<paramref name="i"/>, +32) of a row of <paramref name="n"/> floats; past the row's end, zeros (nothing is read there).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load(float* row, int i, int n, out Vector512<float> lo, out Vector512<float> hi)
    {
        if (i + 32 <= n)
        {
            lo = Vector512.Load(row + i);
            hi = Vector512.Load(row + i + 16);
        }
        else
        {
            lo = Avx512F.MaskLoad(row + i, Mask(n - i), Vector512<float>.Zero);
            hi = Avx512F.MaskLoad(row + i + 16, Mask(n - i - 16), Vector512<float>.Zero);
        }
    }

    /// <summary>The first <paramref name="lanes"/> lanes set (none for 0 or less).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Mask(int lanes) => Vector512.LessThan(Vector512<int>.Indices, Vector512.Create(lanes)).AsSingle();
}
