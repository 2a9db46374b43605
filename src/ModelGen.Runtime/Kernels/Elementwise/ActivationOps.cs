using System.Runtime.Intrinsics;

namespace ModelGen.Runtime.Kernels.Elementwise;

/// <summary>Reciprocal: 1 / x.</summary>
internal readonly struct ReciprocalOp : IUnaryOp
{
    public float Invoke(float x) => 1f / x;
    public Vector128<float> Invoke(Vector128<float> x) => Vector128<float>.One / x;
    public Vector256<float> Invoke(Vector256<float> x) => Vector256<float>.One / x;
    public Vector512<float> Invoke(Vector512<float> x) => Vector512<float>.One / x;
}

/// <summary>Gelu (approximate="none"): x · ½ · (1 + erf(x / √2)), with <see cref="ErfOp"/>'s erf.</summary>
internal readonly struct GeluOp : IUnaryOp
{
    private const float InvSqrt2 = 0.70710678118654752f;

    public float Invoke(float x) => 0.5f * x * (1f + default(ErfOp).Invoke(x * InvSqrt2));
    public Vector128<float> Invoke(Vector128<float> x) => Vector128.Create(0.5f) * x * (Vector128<float>.One + default(ErfOp).Invoke(x * InvSqrt2));
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Create(0.5f) * x * (Vector256<float>.One + default(ErfOp).Invoke(x * InvSqrt2));
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Create(0.5f) * x * (Vector512<float>.One + default(ErfOp).Invoke(x * InvSqrt2));
}

/// <summary>
/// Gelu (approximate="tanh"): ½x(1 + tanh(√(2/π)(x + 0.044715x³))). tanh(u) is written as
/// 1 − 2/(e^{2u} + 1), which saturates correctly at both ends (e^{2u} → ∞ gives 1, → 0 gives −1).
/// </summary>
internal readonly struct GeluTanhOp : IUnaryOp
{
    private const float K = 0.7978845608028654f, C = 0.044715f;

    public float Invoke(float x) => 0.5f * x * (1f + MathF.Tanh(K * (x + C * x * x * x)));

    public Vector128<float> Invoke(Vector128<float> x)
    {
        var u = Vector128.Create(K) * (x + Vector128.Create(C) * x * x * x);
        var t = Vector128<float>.One - Vector128.Create(2f) / (Vector128.Exp(u + u) + Vector128<float>.One);
        return Vector128.Create(0.5f) * x * (Vector128<float>.One + t);
    }

    public Vector256<float> Invoke(Vector256<float> x)
    {
        var u = Vector256.Create(K) * (x + Vector256.Create(C) * x * x * x);
        var t = Vector256<float>.One - Vector256.Create(2f) / (Vector256.Exp(u + u) + Vector256<float>.One);
        return Vector256.Create(0.5f) * x * (Vector256<float>.One + t);
    }

    public Vector512<float> Invoke(Vector512<float> x)
    {
        var u = Vector512.Create(K) * (x + Vector512.Create(C) * x * x * x);
        var t = Vector512<float>.One - Vector512.Create(2f) / (Vector512.Exp(u + u) + Vector512<float>.One);
        return Vector512.Create(0.5f) * x * (Vector512<float>.One + t);
    }
}

/// <summary>PRelu: x where x ≥ 0, slope · x elsewhere (slope broadcasts onto x).</summary>
internal readonly struct PReluOp : IBinaryOp
{
    public bool Vectorized => true;
    public float Invoke(float a, float b) => a >= 0 ? a : a * b;
    public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(a, Vector128<float>.Zero), a, a * b);
    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(a, Vector256<float>.Zero), a, a * b);
    public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(a, Vector512<float>.Zero), a, a * b);
}

/// <summary>Round: to the nearest integer, halves to even (as ONNX and IEEE specify).</summary>
internal readonly struct RoundOp : IUnaryOp
{
    public float Invoke(float x) => MathF.Round(x, MidpointRounding.ToEven);
    public Vector128<float> Invoke(Vector128<float> x) => Vector128.Round(x);
    public Vector256<float> Invoke(Vector256<float> x) => Vector256.Round(x);
    public Vector512<float> Invoke(Vector512<float> x) => Vector512.Round(x);
}
