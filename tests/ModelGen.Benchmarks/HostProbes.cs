using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Benchmarks;

/// <summary>
/// Small timed loops that each lean on one part of the core or the memory system, for <see cref="HostProbeStudy"/>: which
/// of them the host's slow seconds slow down. Fully optimized at once (a tier-0 copy spills its accumulators to the stack
/// and measures stores instead).
/// </summary>
internal sealed unsafe class HostProbes : IDisposable
{
    /// <summary>What each probe does, in the order <see cref="Measure"/> returns their times.</summary>
    public static readonly string[] Names =
    [
        "L1: 32 KB read 32 times", "L2: 256 KB read 8 times", "memory: 8 MB, one stream", "memory: 8 MB, 64 streams",
        "memory: 8 MB, 256 streams", "latency: 2000 dependent loads in 8 MB", "FMA: 48000 in 12 chains",
        "conv tile: 4 x 3 vectors, taps from L1", "stores: 128 KB written 4 times",
        "FMA: 12 chains + 12 integer adds", "channel tile 6 x 2, one tap a trip, prefetch",
        "channel tile 6 x 2, one tap a trip", "channel tile 6 x 2, two taps a trip",
    ];

    private const int BigBytes = 8 << 20, SmallBytes = 512 << 10;
    private readonly float* _big = (float*)NativeMemory.AlignedAlloc(BigBytes, 64);
    private readonly float* _small = (float*)NativeMemory.AlignedAlloc(SmallBytes, 64);
    private readonly int* _chain = (int*)NativeMemory.AlignedAlloc(BigBytes, 64);
    private readonly int* _taps = (int*)NativeMemory.AlignedAlloc(96 * 4, 64);
    private float _sink;

    public HostProbes()
    {
        for (int i = 0; i < BigBytes / 4; i++) _big[i] = i & 7;
        for (int i = 0; i < SmallBytes / 4; i++) _small[i] = i & 3;
        // One random cycle through every cache line of the 8 MB.
        int lines = BigBytes / 64;
        var order = Enumerable.Range(0, lines).ToArray();
        new Random(5).Shuffle(order);
        // 32 channels × 3 × 3 taps over planes of 20 × 20 floats (1.6 KB): the tile's input stays in L1.
        for (int c = 0, i = 0; c < 32 && i < 96; c++)
            for (int k = 0; k < 3 && i < 96; k++) _taps[i++] = c * 400 + k * 20 + k;
        for (int i = 0; i < lines; i++) _chain[order[i] * 16] = order[(i + 1) % lines] * 16;
    }

    /// <summary>Reads the 8 MB buffer once: what the steps around a layer would leave in the caches.</summary>
    public void Flush() => _sink += Sum(_big, BigBytes, 1, 1);

    /// <summary>Each probe's time in µs, in <see cref="Names"/>' order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double[] Measure()
    {
        var r = new double[Names.Length];
        long t = Stopwatch.GetTimestamp();
        _sink += Sum(_small, 32 << 10, 32, 1);
        r[0] = Lap(ref t);
        _sink += Sum(_small, 256 << 10, 8, 1);
        r[1] = Lap(ref t);
        _sink += Sum(_big, BigBytes, 1, 1);
        r[2] = Lap(ref t);
        _sink += Sum(_big, BigBytes, 1, 64);
        r[3] = Lap(ref t);
        _sink += Sum(_big, BigBytes, 1, 256);
        r[4] = Lap(ref t);
        int at = 0;
        for (int i = 0; i < 2000; i++) at = _chain[at];
        _sink += at;
        r[5] = Lap(ref t);
        _sink += Fmas(4000);
        r[6] = Lap(ref t);
        _sink += Tile(_small, 32, 160);
        r[7] = Lap(ref t);
        var v = Vector256.Create(_sink);
        for (int n = 0; n < 4; n++)
            for (int i = 0; i < (128 << 10) / 4; i += 8) v.Store(_small + 65536 + i);
        r[8] = Lap(ref t);
        _sink += FmasWithIntegers(4000);
        r[9] = Lap(ref t);
        _sink += ChannelTile(_small, _taps, 96, 60, prefetch: true);
        r[10] = Lap(ref t);
        _sink += ChannelTile(_small, _taps, 96, 60, prefetch: false);
        r[11] = Lap(ref t);
        _sink += ChannelTileUnrolled(_small, _taps, 96, 60);
        r[12] = Lap(ref t);
        return r;
    }

    private static double Lap(ref long t)
    {
        long now = Stopwatch.GetTimestamp();
        double us = (now - t) * 1e6 / Stopwatch.Frequency;
        t = now;
        return us;
    }

    /// <summary>Sums <paramref name="bytes"/> <paramref name="times"/> times, read as <paramref name="streams"/> equal planes, 256 bytes of each in turn.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Sum(float* p, int bytes, int times, int streams)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default, s4 = default, s5 = default, s6 = default, s7 = default;
        int plane = bytes / 4 / streams;
        for (int n = 0; n < times; n++)
            for (int off = 0; off < plane; off += 64)
                for (int k = 0; k < streams; k++)
                {
                    float* q = p + (long)k * plane + off;
                    s0 += Vector256.Load(q); s1 += Vector256.Load(q + 8); s2 += Vector256.Load(q + 16); s3 += Vector256.Load(q + 24);
                    s4 += Vector256.Load(q + 32); s5 += Vector256.Load(q + 40); s6 += Vector256.Load(q + 48); s7 += Vector256.Load(q + 56);
                }
        return (s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7).ToScalar();
    }

    /// <summary>12 independent FMA chains: the FMA units' throughput, nothing from memory.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Fmas(int rounds)
    {
        var m = Vector256.Create(0.999f);
        var a = Vector256.Create(1f);
        Vector256<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        for (int i = 0; i < rounds; i++)
        {
            c0 = Fma.MultiplyAdd(c0, m, a); c1 = Fma.MultiplyAdd(c1, m, a); c2 = Fma.MultiplyAdd(c2, m, a); c3 = Fma.MultiplyAdd(c3, m, a);
            c4 = Fma.MultiplyAdd(c4, m, a); c5 = Fma.MultiplyAdd(c5, m, a); c6 = Fma.MultiplyAdd(c6, m, a); c7 = Fma.MultiplyAdd(c7, m, a);
            c8 = Fma.MultiplyAdd(c8, m, a); c9 = Fma.MultiplyAdd(c9, m, a); c10 = Fma.MultiplyAdd(c10, m, a); c11 = Fma.MultiplyAdd(c11, m, a);
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
    }

    /// <summary>The AVX2 direct-conv register tile (DirectConvTile256, 4 rows × 3 vectors): per tap 3 loads, 4 broadcasts, 12 FMAs, all from L1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Tile(float* src, int taps, int reps)
    {
        var a = Vector256.Create(1f);
        Vector256<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        float* w = src + 32768;
        for (int n = 0; n < reps; n++)
            for (int tap = 0; tap < taps; tap++)
            {
                float* x = src + tap * 32;
                var x0 = Vector256.Load(x);
                var x1 = Vector256.Load(x + 8);
                var x2 = Vector256.Load(x + 16);
                float* ww = w + tap * 4;
                var b = Vector256.Create(ww[0]);
                c0 = Fma.MultiplyAdd(x0, b, c0); c1 = Fma.MultiplyAdd(x1, b, c1); c2 = Fma.MultiplyAdd(x2, b, c2);
                b = Vector256.Create(ww[1]);
                c3 = Fma.MultiplyAdd(x0, b, c3); c4 = Fma.MultiplyAdd(x1, b, c4); c5 = Fma.MultiplyAdd(x2, b, c5);
                b = Vector256.Create(ww[2]);
                c6 = Fma.MultiplyAdd(x0, b, c6); c7 = Fma.MultiplyAdd(x1, b, c7); c8 = Fma.MultiplyAdd(x2, b, c8);
                b = Vector256.Create(ww[3]);
                c9 = Fma.MultiplyAdd(x0, b, c9); c10 = Fma.MultiplyAdd(x1, b, c10); c11 = Fma.MultiplyAdd(x2, b, c11);
            }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar();
    }

    /// <summary><see cref="Fmas"/> with an integer add beside each FMA: as many FMAs, twice the instructions.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float FmasWithIntegers(int rounds)
    {
        var m = Vector256.Create(0.999f);
        var a = Vector256.Create(1f);
        Vector256<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        long i0 = 0, i1 = 1, i2 = 2, i3 = 3;
        for (int i = 0; i < rounds; i++)
        {
            c0 = Fma.MultiplyAdd(c0, m, a); i0 += i; c1 = Fma.MultiplyAdd(c1, m, a); i1 ^= i; c2 = Fma.MultiplyAdd(c2, m, a); i2 += i1; c3 = Fma.MultiplyAdd(c3, m, a); i3 ^= i0;
            c4 = Fma.MultiplyAdd(c4, m, a); i0 += i2; c5 = Fma.MultiplyAdd(c5, m, a); i1 ^= i3; c6 = Fma.MultiplyAdd(c6, m, a); i2 += i; c7 = Fma.MultiplyAdd(c7, m, a); i3 ^= i1;
            c8 = Fma.MultiplyAdd(c8, m, a); i0 += i3; c9 = Fma.MultiplyAdd(c9, m, a); i1 ^= i2; c10 = Fma.MultiplyAdd(c10, m, a); i2 += i0; c11 = Fma.MultiplyAdd(c11, m, a); i3 ^= i;
        }
        return (c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11).ToScalar() + (i0 ^ i1 ^ i2 ^ i3);
    }

    /// <summary>
    /// ChannelTile256's loop before the nineteenth session: 6 pixels × 2 vectors, one tap a trip, per tap a tap offset, 2
    /// weight loads, 6 broadcasts, 12 FMAs (and, with <paramref name="prefetch"/>, a prefetch). Its input stays in L1, so
    /// what the probes of this family differ in is the instructions around the FMAs. (Written with the weights as the FMAs'
    /// memory operands it compiles to the same code: the JIT loads a vector that several FMAs use once.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float ChannelTile(float* src, int* taps, int k, int reps, bool prefetch)
    {
        var z = Vector256<float>.Zero;
        Vector256<float> a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z, a40 = z, a41 = z, a50 = z, a51 = z;
        float* s0 = src, s1 = src + 2, s2 = src + 4, s3 = src + 6, s4 = src + 8, s5 = src + 10;
        float* weights = src + 16384;
        for (int n = 0; n < reps; n++)
        {
            float* w = weights;
            for (int t = 0; t < k; t++, w += 16)
            {
                int o = taps[t];
                if (prefetch) Sse.Prefetch1(s0 + o + 32);
                Tap(s0, s1, s2, s3, s4, s5, o, w, ref a00, ref a01, ref a10, ref a11, ref a20, ref a21, ref a30, ref a31, ref a40, ref a41, ref a50, ref a51);
            }
        }
        return (a00 + a01 + a10 + a11 + a20 + a21 + a30 + a31 + a40 + a41 + a50 + a51).ToScalar();
    }

    /// <summary><see cref="ChannelTile"/> without the prefetch, two taps an iteration.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float ChannelTileUnrolled(float* src, int* taps, int k, int reps)
    {
        var z = Vector256<float>.Zero;
        Vector256<float> a00 = z, a01 = z, a10 = z, a11 = z, a20 = z, a21 = z, a30 = z, a31 = z, a40 = z, a41 = z, a50 = z, a51 = z;
        float* s0 = src, s1 = src + 2, s2 = src + 4, s3 = src + 6, s4 = src + 8, s5 = src + 10;
        float* weights = src + 16384;
        for (int n = 0; n < reps; n++)
        {
            float* w = weights;
            for (int t = 0; t < k; t += 2, w += 32)
            {
                Tap(s0, s1, s2, s3, s4, s5, taps[t], w, ref a00, ref a01, ref a10, ref a11, ref a20, ref a21, ref a30, ref a31, ref a40, ref a41, ref a50, ref a51);
                Tap(s0, s1, s2, s3, s4, s5, taps[t + 1], w + 16, ref a00, ref a01, ref a10, ref a11, ref a20, ref a21, ref a30, ref a31, ref a40, ref a41, ref a50, ref a51);
            }
        }
        return (a00 + a01 + a10 + a11 + a20 + a21 + a30 + a31 + a40 + a41 + a50 + a51).ToScalar();
    }

    /// <summary>One tap of the channel-tile probes: 2 weight loads, 6 broadcasts, 12 FMAs (inlined, as the kernel's).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap(float* s0, float* s1, float* s2, float* s3, float* s4, float* s5, nint o, float* w,
        ref Vector256<float> a00, ref Vector256<float> a01, ref Vector256<float> a10, ref Vector256<float> a11, ref Vector256<float> a20, ref Vector256<float> a21,
        ref Vector256<float> a30, ref Vector256<float> a31, ref Vector256<float> a40, ref Vector256<float> a41, ref Vector256<float> a50, ref Vector256<float> a51)
    {
        var w0 = Vector256.Load(w);
        var w1 = Vector256.Load(w + 8);
        Vector256<float> x;
        x = Vector256.Create(s0[o]); a00 = Fma.MultiplyAdd(x, w0, a00); a01 = Fma.MultiplyAdd(x, w1, a01);
        x = Vector256.Create(s1[o]); a10 = Fma.MultiplyAdd(x, w0, a10); a11 = Fma.MultiplyAdd(x, w1, a11);
        x = Vector256.Create(s2[o]); a20 = Fma.MultiplyAdd(x, w0, a20); a21 = Fma.MultiplyAdd(x, w1, a21);
        x = Vector256.Create(s3[o]); a30 = Fma.MultiplyAdd(x, w0, a30); a31 = Fma.MultiplyAdd(x, w1, a31);
        x = Vector256.Create(s4[o]); a40 = Fma.MultiplyAdd(x, w0, a40); a41 = Fma.MultiplyAdd(x, w1, a41);
        x = Vector256.Create(s5[o]); a50 = Fma.MultiplyAdd(x, w0, a50); a51 = Fma.MultiplyAdd(x, w1, a51);
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_big);
        NativeMemory.AlignedFree(_small);
        NativeMemory.AlignedFree(_chain);
        NativeMemory.AlignedFree(_taps);
        GC.KeepAlive(_sink);
    }
}
