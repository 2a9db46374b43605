using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Runtime.Kernels.Elementwise;

/// <summary>
/// An elementwise fp32 operator in the TensorPrimitives style: one scalar and one method per
/// vector width, all driven by <see cref="UnaryLoop"/>. Instance (not static) methods so that
/// operators with attributes (LeakyRelu's alpha, Clip's bounds) carry them in the struct; the
/// struct is passed by value to a generic method, so the JIT specializes and inlines everything.
/// </summary>
internal interface IUnaryOp
{
    float Invoke(float x);
    Vector128<float> Invoke(Vector128<float> x);
    Vector256<float> Invoke(Vector256<float> x);
    Vector512<float> Invoke(Vector512<float> x);
}

internal readonly struct ReluOp : IUnaryOp
{
    public float Invoke(float x) => x > 0 ? x : 0;
    public Vector128<float> Invoke(Vector128<float> x) => Vector128.Max(x, Vector128<float>.Zero);
    public Vector256<float> Invoke(Vector256<float> x) => Ieee256.Relu(x);
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero);
}

internal readonly struct LeakyReluOp(float alpha) : IUnaryOp
{
    public float Invoke(float x) => x >= 0 ? x : x * alpha;
    public Vector128<float> Invoke(Vector128<float> x) => Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(x, Vector128<float>.Zero), x, x * alpha);
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<float>.Zero), x, x * alpha);
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), x, x * alpha);
}

internal readonly struct ClipOp(float min, float max) : IUnaryOp
{
    // Min-then-max order matches ONNX (min(max(x, lo), hi)); NaN bounds never occur (folded to ±inf).
    public float Invoke(float x) => MathF.Min(MathF.Max(x, min), max);
    public Vector128<float> Invoke(Vector128<float> x) => Vector128.Min(Vector128.Max(x, Vector128.Create(min)), Vector128.Create(max));
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Min(Vector256.Max(x, Vector256.Create(min)), Vector256.Create(max));
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Min(Vector512.Max(x, Vector512.Create(min)), Vector512.Create(max));
}

internal readonly struct ExpOp : IUnaryOp
{
    public float Invoke(float x) => MathF.Exp(x);
    public Vector128<float> Invoke(Vector128<float> x) => Vector128.Exp(x);
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Exp(x);
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Exp(x);
}

internal readonly struct LogOp : IUnaryOp
{
    public float Invoke(float x) => MathF.Log(x);
    public Vector128<float> Invoke(Vector128<float> x) => Vector128.Log(x);
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Log(x);
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Log(x);
}

internal readonly struct SigmoidOp : IUnaryOp
{
    // 1 / (1 + e^-x): e^-x overflows to +inf for very negative x, giving exactly 0, never NaN.
    public float Invoke(float x) => 1f / (1f + MathF.Exp(-x));
    public Vector128<float> Invoke(Vector128<float> x) => Vector128<float>.One / (Vector128<float>.One + Vector128.Exp(-x));
    public Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One / (Vector256<float>.One + Vector256.Exp(-x));
    public Vector512<float> Invoke(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + Vector512.Exp(-x));
}

internal readonly struct TanhOp : IUnaryOp
{
    // tanh|x| = (1 - t) / (1 + t) with t = e^(-2|x|) in (0, 1]: no overflow anywhere; sign restored after.
    public float Invoke(float x) => MathF.Tanh(x);
    public Vector128<float> Invoke(Vector128<float> x)
    {
        var t = Vector128.Exp(Vector128.Abs(x) * -2f);
        var r = (Vector128<float>.One - t) / (Vector128<float>.One + t);
        return Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<float>.Zero), -r, r);
    }
    public Vector256<float> Invoke(Vector256<float> x)
    {
        var t = Vector256.Exp(Vector256.Abs(x) * -2f);
        var r = (Vector256<float>.One - t) / (Vector256<float>.One + t);
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), -r, r);
    }
    public Vector512<float> Invoke(Vector512<float> x)
    {
        var t = Vector512.Exp(Vector512.Abs(x) * -2f);
        var r = (Vector512<float>.One - t) / (Vector512<float>.One + t);
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -r, r);
    }
}

internal readonly struct EluOp(float alpha) : IUnaryOp
{
    public float Invoke(float x) => x > 0 ? x : alpha * (MathF.Exp(x) - 1f);
    public Vector128<float> Invoke(Vector128<float> x) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<float>.Zero), x, (Vector128.Exp(Vector128.Min(x, Vector128<float>.Zero)) - Vector128<float>.One) * alpha);
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<float>.Zero), x, (Vector256.Exp(Vector256.Min(x, Vector256<float>.Zero)) - Vector256<float>.One) * alpha);
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<float>.Zero), x, (Vector512.Exp(Vector512.Min(x, Vector512<float>.Zero)) - Vector512<float>.One) * alpha);
}

internal readonly struct SeluOp(float alpha, float gamma) : IUnaryOp
{
    public float Invoke(float x) => gamma * (x > 0 ? x : alpha * (MathF.Exp(x) - 1f));
    public Vector128<float> Invoke(Vector128<float> x) => new EluOp(alpha).Invoke(x) * gamma;
    public Vector256<float> Invoke(Vector256<float> x) => new EluOp(alpha).Invoke(x) * gamma;
    public Vector512<float> Invoke(Vector512<float> x) => new EluOp(alpha).Invoke(x) * gamma;
}

internal readonly struct SqrtOp : IUnaryOp
{
    public float Invoke(float x) => MathF.Sqrt(x);
    public Vector128<float> Invoke(Vector128<float> x) => Vector128.Sqrt(x);
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Sqrt(x);
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Sqrt(x);
}

internal readonly struct NegOp : IUnaryOp
{
    public float Invoke(float x) => -x;
    public Vector128<float> Invoke(Vector128<float> x) => -x;
    public Vector256<float> Invoke(Vector256<float> x) => -x;
    public Vector512<float> Invoke(Vector512<float> x) => -x;
}

internal readonly struct AbsOp : IUnaryOp
{
    public float Invoke(float x) => MathF.Abs(x);
    public Vector128<float> Invoke(Vector128<float> x) => Vector128.Abs(x);
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Abs(x);
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Abs(x);
}

internal readonly struct SoftplusOp : IUnaryOp
{
    // log(1 + e^x) = max(x, 0) + log(1 + e^-|x|): stable for large |x|.
    public float Invoke(float x) => MathF.Max(x, 0) + MathF.Log(1f + MathF.Exp(-MathF.Abs(x)));
    public Vector128<float> Invoke(Vector128<float> x) => Vector128.Max(x, Vector128<float>.Zero) + Vector128.Log(Vector128<float>.One + Vector128.Exp(-Vector128.Abs(x)));
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Max(x, Vector256<float>.Zero) + Vector256.Log(Vector256<float>.One + Vector256.Exp(-Vector256.Abs(x)));
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Max(x, Vector512<float>.Zero) + Vector512.Log(Vector512<float>.One + Vector512.Exp(-Vector512.Abs(x)));
}

internal readonly struct HardSigmoidOp(float alpha, float beta) : IUnaryOp
{
    public float Invoke(float x) => MathF.Max(0, MathF.Min(1, alpha * x + beta));
    public Vector128<float> Invoke(Vector128<float> x) => Vector128.Max(Vector128<float>.Zero, Vector128.Min(Vector128<float>.One, x * alpha + Vector128.Create(beta)));
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Max(Vector256<float>.Zero, Vector256.Min(Vector256<float>.One, x * alpha + Vector256.Create(beta)));
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Max(Vector512<float>.Zero, Vector512.Min(Vector512<float>.One, x * alpha + Vector512.Create(beta)));
}

internal readonly struct HardSwishOp : IUnaryOp
{
    private static HardSigmoidOp Gate => new(1f / 6f, 0.5f);
    public float Invoke(float x) => x * Gate.Invoke(x);
    public Vector128<float> Invoke(Vector128<float> x) => x * Gate.Invoke(x);
    public Vector256<float> Invoke(Vector256<float> x) => x * Gate.Invoke(x);
    public Vector512<float> Invoke(Vector512<float> x) => x * Gate.Invoke(x);
}

internal readonly struct ErfOp : IUnaryOp
{
    // |x| >= 0.5: Abramowitz & Stegun 7.1.26 (max abs error 1.5e-7), odd extension.
    // |x| <  0.5: Maclaurin series to x^13 (truncation < 2e-9), which keeps the relative error small
    // near 0 where "1 - poly·e^(-x²)" would cancel. Both branches are computed and blended per lane.
    private const float P = 0.3275911f, A1 = 0.254829592f, A2 = -0.284496736f, A3 = 1.421413741f, A4 = -1.453152027f, A5 = 1.061405429f;
    private const float S0 = 1.1283791670955126f, S1 = -0.37612638903183754f, S2 = 0.11283791670955126f,
        S3 = -0.026866170645131252f, S4 = 0.0052239776254421878f, S5 = -0.00085483270234508529f, S6 = 0.00012055332981789664f;
    private const float Split = 0.5f;

    public float Invoke(float x)
    {
        float a = MathF.Abs(x);
        if (a < Split)
        {
            float z = x * x;
            return x * (((((((S6 * z + S5) * z + S4) * z + S3) * z + S2) * z + S1) * z) + S0);
        }
        float t = 1f / (1f + P * a);
        float y = 1f - ((((A5 * t + A4) * t + A3) * t + A2) * t + A1) * t * MathF.Exp(-a * a);
        return x < 0 ? -y : y;
    }

    public Vector128<float> Invoke(Vector128<float> x)
    {
        var a = Vector128.Abs(x);
        var z = x * x;
        var series = x * ((((((z * S6 + Vector128.Create(S5)) * z + Vector128.Create(S4)) * z + Vector128.Create(S3)) * z + Vector128.Create(S2)) * z + Vector128.Create(S1)) * z + Vector128.Create(S0));
        var t = Vector128<float>.One / (Vector128<float>.One + a * P);
        var poly = ((((t * A5 + Vector128.Create(A4)) * t + Vector128.Create(A3)) * t + Vector128.Create(A2)) * t + Vector128.Create(A1)) * t;
        var y = Vector128<float>.One - poly * Vector128.Exp(-z);
        y = Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128<float>.Zero), -y, y);
        return Vector128.ConditionalSelect(Vector128.LessThan(a, Vector128.Create(Split)), series, y);
    }

    public Vector256<float> Invoke(Vector256<float> x)
    {
        var a = Vector256.Abs(x);
        var z = x * x;
        var series = x * ((((((z * S6 + Vector256.Create(S5)) * z + Vector256.Create(S4)) * z + Vector256.Create(S3)) * z + Vector256.Create(S2)) * z + Vector256.Create(S1)) * z + Vector256.Create(S0));
        var t = Vector256<float>.One / (Vector256<float>.One + a * P);
        var poly = ((((t * A5 + Vector256.Create(A4)) * t + Vector256.Create(A3)) * t + Vector256.Create(A2)) * t + Vector256.Create(A1)) * t;
        var y = Vector256<float>.One - poly * Vector256.Exp(-z);
        y = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256<float>.Zero), -y, y);
        return Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(Split)), series, y);
    }

    public Vector512<float> Invoke(Vector512<float> x)
    {
        var a = Vector512.Abs(x);
        var z = x * x;
        var series = x * ((((((z * S6 + Vector512.Create(S5)) * z + Vector512.Create(S4)) * z + Vector512.Create(S3)) * z + Vector512.Create(S2)) * z + Vector512.Create(S1)) * z + Vector512.Create(S0));
        var t = Vector512<float>.One / (Vector512<float>.One + a * P);
        var poly = ((((t * A5 + Vector512.Create(A4)) * t + Vector512.Create(A3)) * t + Vector512.Create(A2)) * t + Vector512.Create(A1)) * t;
        var y = Vector512<float>.One - poly * Vector512.Exp(-z);
        y = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512<float>.Zero), -y, y);
        return Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(Split)), series, y);
    }
}

/// <summary>The one loop every unary operator runs through: 512 -> 256 -> 128 bits, then a scalar tail.</summary>
internal static unsafe class UnaryLoop
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run<TOp>(TOp op, float* x, float* y, long n) where TOp : struct, IUnaryOp
    {
        long i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            for (; i <= n - 16; i += 16) op.Invoke(Vector512.Load(x + i)).Store(y + i);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i <= n - 8; i += 8) op.Invoke(Vector256.Load(x + i)).Store(y + i);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            for (; i <= n - 4; i += 4) op.Invoke(Vector128.Load(x + i)).Store(y + i);
        }
        for (; i < n; i++) y[i] = op.Invoke(x[i]);
    }
}
