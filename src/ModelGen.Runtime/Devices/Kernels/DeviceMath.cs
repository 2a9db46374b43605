using ILGPU.Algorithms;

namespace ModelGen.Runtime.Devices;

/// <summary>
/// The unary functions every device kernel shares: the fused activations of Conv/Gemm/MatMul
/// (codes of <see cref="Kernels.Gemm.ActivationKind"/>) and the standalone elementwise ops, with
/// the CPU operators' formulas (Kernels/Elementwise/UnaryOps.cs).
/// </summary>
internal static class UnaryCode
{
    public const int None = 0, Relu = 1, LeakyRelu = 2, Sigmoid = 3, Clip = 4, Tanh = 5;
    public const int Elu = 6, Selu = 7, Exp = 8, Log = 9, Sqrt = 10, Neg = 11, Abs = 12;
    public const int Softplus = 13, HardSigmoid = 14, HardSwish = 15, Reciprocal = 16, Scale = 17;
}

/// <summary>A unary function and its parameters, passed to kernels by value.</summary>
internal struct UnaryFn
{
    public int Code;
    public float Alpha;
    public float Beta;
    public float Min;
    public float Max;

    public static UnaryFn Of(int code, float alpha = 0f, float beta = 0f) =>
        new() { Code = code, Alpha = alpha, Beta = beta, Min = float.NegativeInfinity, Max = float.PositiveInfinity };
}

internal static class DeviceMath
{
    /// <summary>Applies <paramref name="f"/> to <paramref name="x"/> (runs on the device).</summary>
    public static float Apply(float x, UnaryFn f)
    {
        int c = f.Code;
        if (c == UnaryCode.None) return x;
        if (c == UnaryCode.Relu) return x > 0 ? x : 0;
        if (c == UnaryCode.LeakyRelu) return x >= 0 ? x : x * f.Alpha;
        if (c == UnaryCode.Sigmoid) return 1f / (1f + XMath.Exp(-x));
        if (c == UnaryCode.Clip) return XMath.Min(XMath.Max(x, f.Min), f.Max);
        if (c == UnaryCode.Tanh) return XMath.Tanh(x);
        if (c == UnaryCode.Elu) return x > 0 ? x : f.Alpha * (XMath.Exp(x) - 1f);
        if (c == UnaryCode.Selu) return f.Beta * (x > 0 ? x : f.Alpha * (XMath.Exp(x) - 1f));
        if (c == UnaryCode.Exp) return XMath.Exp(x);
        if (c == UnaryCode.Log) return XMath.Log(x);
        if (c == UnaryCode.Sqrt) return XMath.Sqrt(x);
        if (c == UnaryCode.Neg) return -x;
        if (c == UnaryCode.Abs) return XMath.Abs(x);
        if (c == UnaryCode.Softplus) return XMath.Max(x, 0f) + XMath.Log(1f + XMath.Exp(-XMath.Abs(x)));
        if (c == UnaryCode.HardSigmoid) return XMath.Max(0f, XMath.Min(1f, f.Alpha * x + f.Beta));
        if (c == UnaryCode.HardSwish) return x * XMath.Max(0f, XMath.Min(1f, x / 6f + 0.5f));
        if (c == UnaryCode.Reciprocal) return 1f / x;
        return x * f.Alpha; // Scale
    }
}
