using System.Runtime.InteropServices;
using ModelGen.Runtime.Kernels.Quantized;

namespace ModelGen.Runtime.Tests.Quantized;

/// <summary>The int8 GEMM core and the activation quantizer against the plain formulas; every instruction path must give the same int32 sums exactly.</summary>
public unsafe class Int8CoreTests
{
    [Fact]
    public void ThisMachineRunsMoreThanTheScalarPath()
    {
        // Otherwise the cross-path tests below compare the scalar path with itself.
        if (!Int8IsaSelector.IsSupported(Int8Isa.Avx2)) Assert.Skip("no AVX2 on this CPU");
        Assert.NotEqual(Int8Isa.Scalar, Int8IsaSelector.Best);
    }

    [Theory]
    [InlineData(1, 1, 1, 0)]
    [InlineData(3, 5, 7, 128)]
    [InlineData(4, 16, 16, 255)]
    [InlineData(5, 33, 17, 3)]
    [InlineData(13, 100, 40, 77)]
    [InlineData(7, 4, 33, 0)]
    [InlineData(160, 520, 100, 131)] // 8.3M multiply-adds: runs on the worker pool
    public void EveryPathGivesTheExactAccumulators(int m, int k, int n, int zeroPoint)
    {
        var random = new Random(m * 1000 + k * 10 + n);
        var a = new byte[m * k];
        var b = new sbyte[k * n];
        random.NextBytes(a);
        for (int i = 0; i < b.Length; i++) b[i] = (sbyte)random.Next(-128, 128);
        // Extremes in the first row/column: the widest products (255 · -128) must not saturate anywhere.
        for (int p = 0; p < k; p++)
        {
            a[p] = 255;
            b[p * n] = -128;
        }
        var expected = Int8Reference.Accumulate(a, b, m, k, n, zeroPoint);
        foreach (var isa in Int8Reference.SupportedIsas())
        {
            var actual = Run(isa, a, b, m, k, n, zeroPoint);
            for (int i = 0; i < expected.Length; i++)
            {
                if (actual[i] != expected[i]) Assert.Fail($"{isa}: accumulator {i / n},{i % n} is {actual[i]}, expected {expected[i]}");
            }
        }
    }

    private static int[] Run(Int8Isa isa, byte[] a, sbyte[] b, int m, int k, int n, int zeroPoint)
    {
        int kp = Int8Packing.PaddedK(k);
        var rows = new byte[m * kp + 64];
        for (int i = 0; i < m; i++) Array.Copy(a, i * k, rows, i * kp, k);
        var packed = new sbyte[Int8Packing.PackedBytes(k, n)];
        var sums = new int[Int8Packing.PaddedN(n)];
        var acc = new int[m * n];
        fixed (byte* pa = rows)
        fixed (sbyte* pb = b, pp = packed)
        fixed (int* ps = sums, py = acc)
        {
            Int8Packing.PackB(pb, n, 1, k, n, pp, ps);
            var job = new Int8GemmJob
            {
                A = pa, Lda = kp, PackedB = pp, M = m, N = n, Kp = kp, Isa = isa,
                Epilogue = new Int8Epilogue { ColumnSums = ps, ZeroPoint = zeroPoint, Accumulators = py, RowStride = n, ColStride = 1 },
            };
            job.Run();
        }
        return acc;
    }

    [Fact]
    public void PackingTransposedWeightsGivesTheSameLayout()
    {
        const int k = 9, n = 21;
        var b = new sbyte[k * n];
        new Random(3).NextBytes(MemoryMarshal.AsBytes(b.AsSpan()));
        var bt = new sbyte[n * k];
        for (int p = 0; p < k; p++)
        for (int j = 0; j < n; j++) bt[j * k + p] = b[p * n + j];
        var packed = new sbyte[Int8Packing.PackedBytes(k, n)];
        var packedT = new sbyte[packed.Length];
        var sums = new int[Int8Packing.PaddedN(n)];
        var sumsT = new int[sums.Length];
        fixed (sbyte* pb = b, pbt = bt, pp = packed, ppt = packedT)
        fixed (int* ps = sums, pst = sumsT)
        {
            Int8Packing.PackB(pb, n, 1, k, n, pp, ps);
            Int8Packing.PackB(pbt, 1, k, k, n, ppt, pst);
        }
        Assert.Equal(packed, packedT);
        Assert.Equal(sums, sumsT);
        for (int j = 0; j < n; j++) Assert.Equal(Enumerable.Range(0, k).Sum(p => b[p * n + j]), sums[j]);
    }

    [Fact]
    public void VectorQuantizerMatchesTheFormula()
    {
        // Ties (x/s = k + 0.5 round to even), values far outside the range, zero, and random values.
        const float scale = 0.5f;
        var x = new List<float> { 0f, 0.25f, 0.75f, 1.25f, -0.25f, -0.75f, 1e30f, -1e30f, 63.75f, -63.25f, 127.5f, -64f };
        x.AddRange(Data.Random(9, 200, -70f, 70f));
        var input = x.ToArray();
        foreach (int zeroPoint in new[] { 0, 1, 128, 255 })
        {
            var actual = new byte[input.Length];
            fixed (float* px = input)
            fixed (byte* pq = actual)
            {
                ActivationQuantizer.Contiguous(px, input.Length, scale, zeroPoint, pq);
            }
            for (int i = 0; i < input.Length; i++)
            {
                Assert.True(Int8Reference.QuantizeActivation(input[i], scale, zeroPoint) == actual[i], $"x={input[i]} zp={zeroPoint}: got {actual[i]}");
            }
        }
    }

    [Theory]
    [InlineData(-1f, 3f)]
    [InlineData(0.5f, 2f)]   // all positive: range widened to include 0, zp = 0
    [InlineData(-4f, -1f)]   // all negative: zp = 255
    [InlineData(0f, 0f)]     // all zero: scale 1
    public void DynamicParametersFollowTheFormula(float lo, float hi)
    {
        var x = Data.Random(4, 333, lo, hi);
        var (scale, zeroPoint) = Int8Reference.DynamicParameters(x);
        fixed (float* px = x)
        {
            ActivationQuantizer.Range(px, x.Length, out float min, out float max);
            Assert.Equal(x.Min(), min);
            Assert.Equal(x.Max(), max);
            ActivationQuantizer.Parameters(min, max, out float s, out int z);
            Assert.Equal(scale, s);
            Assert.Equal(zeroPoint, z);
        }
    }
}
