using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Runtime.Kernels.Elementwise;

/// <summary>Vectorized fp32 reductions over a contiguous run (sum, max, sum of exp(x - shift)).</summary>
internal static unsafe class Reductions
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Sum(float* x, long n)
    {
        long i = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i <= n - 16; i += 16)
            {
                acc0 += Vector256.Load(x + i);
                acc1 += Vector256.Load(x + i + 8);
            }
            for (; i <= n - 8; i += 8) acc0 += Vector256.Load(x + i);
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; i < n; i++) sum += x[i];
        return sum;
    }

    /// <summary>The maximum; NaN if any element is NaN; -inf for an empty run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Max(float* x, long n)
    {
        long i = 0;
        float max = float.NegativeInfinity;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var acc = Vector256.Create(float.NegativeInfinity);
            var nan = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var v = Vector256.Load(x + i);
                acc = Vector256.Max(acc, v);
                nan |= ~Vector256.Equals(v, v).AsSingle();
            }
            if (nan != Vector256<float>.Zero) return float.NaN;
            for (int j = 0; j < 8; j++) max = MathF.Max(max, acc.GetElement(j));
        }
        for (; i < n; i++) max = MathF.Max(max, x[i]);
        return max;
    }

    /// <summary>Σ exp(x[i] - shift), storing nothing (LogSoftmax, where x may be the output buffer).</summary>
    public static float SumExpShifted(float* x, long n, float shift)
    {
        long i = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var s = Vector256.Create(shift);
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8) acc += Vector256.Exp(Vector256.Load(x + i) - s);
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++) sum += MathF.Exp(x[i] - shift);
        return sum;
    }

    /// <summary>y[i] = exp(x[i] - shift); returns the sum of y.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float ExpShifted(float* x, float* y, long n, float shift)
    {
        long i = 0;
        float sum = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var s = Vector256.Create(shift);
            var acc = Vector256<float>.Zero;
            for (; i <= n - 8; i += 8)
            {
                var e = Vector256.Exp(Vector256.Load(x + i) - s);
                e.Store(y + i);
                acc += e;
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < n; i++)
        {
            float e = MathF.Exp(x[i] - shift);
            y[i] = e;
            sum += e;
        }
        return sum;
    }
}
