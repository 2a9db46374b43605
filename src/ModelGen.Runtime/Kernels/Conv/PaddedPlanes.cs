using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// The zero-bordered copy a direct-style conv reads its windows from: planes of pd × ph rows, the input rows written
/// into their interior (the borders are zeroed once, when the scratch is allocated, and never written). With two phases
/// (the direct conv at width stride 2) each padded row holds its even columns, then its odd ones, so a tap's 16 output
/// pixels, which read every other column, are one contiguous load: column q is phase q mod 2 at index q / 2.
/// </summary>
/// <remarks>
/// Rows move as AVX-512 vectors (AVX2 ones, or one float at a time when split, without AVX-512): they are 7–112 floats, and a memmove call per row costs more than the copy (the
/// channel-tile conv's copy of 256 channels of 28×28 took 140–190 µs with <c>Span.CopyTo</c> per row).
/// </remarks>
internal readonly unsafe struct PaddedPlanes
{
    private readonly WindowGeometry _g;
    private readonly int _ph, _phases;

    /// <summary>Planes of <paramref name="pd"/> × <paramref name="ph"/> rows of <paramref name="pw"/> columns, each row split into <paramref name="phases"/> (1 or 2).</summary>
    public PaddedPlanes(WindowGeometry g, int pd, int ph, int pw, int phases)
    {
        if (phases is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(phases));
        _g = g;
        _ph = ph;
        _phases = phases;
        PhaseFloats = (pw + phases - 1) / phases;
        RowFloats = phases * PhaseFloats;
        PlaneFloats = (long)pd * ph * RowFloats;
    }

    /// <summary>Floats of one phase of a padded row (⌈pw / phases⌉).</summary>
    public int PhaseFloats { get; }

    /// <summary>Floats of one padded row, all phases.</summary>
    public int RowFloats { get; }

    /// <summary>Floats of one channel's padded plane.</summary>
    public long PlaneFloats { get; }

    /// <summary>Copies channels [<paramref name="c0"/>, <paramref name="c1"/>), every row, of <paramref name="x"/> into <paramref name="padded"/>'s planes.</summary>
    public void Copy(float* x, float* padded, int c0, int c1) => Copy(x, padded, c0, c1, 0, _g.In[1]);

    /// <summary>
    /// Copies channels [<paramref name="c0"/>, <paramref name="c1"/>), input rows [<paramref name="h0"/>,
    /// <paramref name="h1"/>) of every depth slice, of <paramref name="x"/> (one image or group) into the interior of
    /// <paramref name="padded"/>'s planes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Copy(float* x, float* padded, int c0, int c1, int h0, int h1)
    {
        var g = _g;
        int id0 = g.In[0], ih0 = g.In[1], iw0 = g.In[2];
        for (int c = c0; c < c1; c++)
        {
            float* xc = x + (long)c * id0 * ih0 * iw0;
            float* pc = padded + c * PlaneFloats;
            for (int d = 0; d < id0; d++)
            for (int h = h0; h < h1; h++)
            {
                float* from = xc + ((long)d * ih0 + h) * iw0;
                float* to = pc + ((long)(d + g.PadBegin[0]) * _ph + h + g.PadBegin[1]) * RowFloats;
                if (_phases == 1) CopyRow(from, to + g.PadBegin[2], iw0);
                else SplitRow(from, to, iw0, g.PadBegin[2]);
            }
        }
    }

    /// <summary>
    /// Zeroes padded rows [<paramref name="r0"/>, <paramref name="r1"/>] (all phases) of channels [<paramref name="c0"/>,
    /// <paramref name="c1"/>) of 2-D planes: what a copy into memory that other steps also use must do first, so its borders
    /// read as zeros again.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ClearRows(float* padded, int c0, int c1, int r0, int r1)
    {
        r0 = Math.Max(r0, 0);
        r1 = Math.Min(r1, _ph - 1);
        if (r0 > r1) return;
        nuint bytes = (nuint)((long)(r1 - r0 + 1) * RowFloats * 4);
        for (int c = c0; c < c1; c++) NativeMemory.Clear(padded + c * PlaneFloats + (long)r0 * RowFloats, bytes);
    }

    /// <summary>Copies <paramref name="n"/> floats with vector moves, the last partial vector masked.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void CopyRow(float* from, float* to, int n)
    {
        int i = 0;
        if (!Avx512F.IsSupported)
        {
            for (; i + 8 <= n; i += 8) Vector256.Load(from + i).Store(to + i);
            for (; i < n; i++) to[i] = from[i];
            return;
        }
        for (; i + 16 <= n; i += 16) Vector512.Load(from + i).Store(to + i);
        if (i < n)
        {
            var mask = RowPairs.Mask(n - i);
            Avx512F.MaskStore(to + i, mask, Avx512F.MaskLoad(from + i, mask, Vector512<float>.Zero));
        }
    }

    /// <summary>
    /// Copies a row into the two phases of a padded row: input column i is padded column p = i + <paramref name="padBegin"/>,
    /// stored in phase p mod 2 at index p / 2. 32 input columns at a time: one permute pair splits them into 16 even and
    /// 16 odd ones.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SplitRow(float* from, float* to, int n, int padBegin)
    {
        // Even input columns 2t go to phase (padBegin mod 2) at index t + padBegin / 2; odd ones 2t + 1 to the
        // other phase at index t + (padBegin + 1) / 2.
        float* evens = to + (padBegin & 1) * PhaseFloats + (padBegin >> 1);
        float* odds = to + ((padBegin + 1) & 1) * PhaseFloats + ((padBegin + 1) >> 1);
        if (!Avx512F.IsSupported)
        {
            // AVX2: 16 columns per permute pair (each half sorted into its 4 evens, then its 4 odds), the rest one pair at
            // a time. One at a time throughout, the split took 2% of SqueezeNet's stem with its pool.
            int t = 0;
            if (Avx2.IsSupported)
            {
                var order = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
                for (; 2 * t + 16 <= n; t += 8)
                {
                    var lo = Avx2.PermuteVar8x32(Vector256.Load(from + 2 * t), order);
                    var hi = Avx2.PermuteVar8x32(Vector256.Load(from + 2 * t + 8), order);
                    Avx.Permute2x128(lo, hi, 0x20).Store(evens + t);
                    Avx.Permute2x128(lo, hi, 0x31).Store(odds + t);
                }
            }
            for (; 2 * t < n; t++)
            {
                evens[t] = from[2 * t];
                if (2 * t + 1 < n) odds[t] = from[2 * t + 1];
            }
            return;
        }
        var even = RowPairs.EvenLanes;
        var odd = even + Vector512<int>.One;
        int evenCount = (n + 1) >> 1, oddCount = n >> 1;
        for (int t = 0; t < evenCount; t += 16)
        {
            RowPairs.Load(from, 2 * t, n, out var lo, out var hi);
            var e = Avx512F.PermuteVar16x32x2(lo, even, hi);
            var o = Avx512F.PermuteVar16x32x2(lo, odd, hi);
            if (t + 16 <= oddCount)
            {
                e.Store(evens + t);
                o.Store(odds + t);
            }
            else
            {
                Avx512F.MaskStore(evens + t, RowPairs.Mask(evenCount - t), e);
                Avx512F.MaskStore(odds + t, RowPairs.Mask(oddCount - t), o);
            }
        }
    }
}

/// <summary>
/// A padded copy split over the worker pool by channels, for a copy too big to make on one core while the other waits:
/// set <see cref="Source"/> (one image or group of <paramref name="channels"/> channels), then run it. Made at bind time
/// and reused, so a call allocates nothing.
/// </summary>
internal sealed unsafe class PaddedCopyWork(PaddedPlanes planes, float* target, int channels) : IParallelWork
{
    /// <summary>The input the next run copies.</summary>
    public float* Source;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part, int parts)
    {
        int c0 = (int)WorkerPool.Split(channels, part, parts), c1 = (int)WorkerPool.Split(channels, part + 1, parts);
        planes.Copy(Source, target, c0, c1);
    }
}
