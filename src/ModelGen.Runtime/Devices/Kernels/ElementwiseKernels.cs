using ILGPU;
using ILGPU.Algorithms;

namespace ModelGen.Runtime.Devices;

/// <summary>Binary operator codes of <see cref="ElementwiseKernels.Binary"/>.</summary>
internal static class BinaryCode
{
    public const int Add = 0, Sub = 1, Mul = 2, Div = 3, Max = 4, Min = 5, Pow = 6, PRelu = 7;
}

/// <summary>
/// Parameters of <see cref="ElementwiseKernels.Binary"/>: the output shape right-aligned to six
/// dims, and each operand's element stride per dim (0 where it broadcasts).
/// </summary>
internal struct BinaryParams
{
    public int Count, Op, A, B, Y;
    public int D0, D1, D2, D3, D4, D5;
    public int A0, A1, A2, A3, A4, A5;
    public int B0, B1, B2, B3, B4, B5;
}

/// <summary>Parameters of <see cref="ElementwiseKernels.Unary"/>.</summary>
internal struct UnaryParams
{
    public int Count, X, Y;
    public UnaryFn Fn;
}

/// <summary>Parameters of <see cref="ElementwiseKernels.ChannelAffine"/> (BatchNormalization).</summary>
internal struct AffineParams
{
    public int Count, Channels, Spatial, X, Y, Scale, Shift;
}

/// <summary>Elementwise kernels, grid-stride: broadcasting binary ops, unary ops, per-channel affine.</summary>
internal static class ElementwiseKernels
{
    /// <summary>Y = op(A, B) with numpy broadcasting.</summary>
    public static void Binary(ArrayView<float> mem, BinaryParams p)
    {
        for (int i = Grid.GlobalIndex.X; i < p.Count; i += Grid.DimX * Group.DimX)
        {
            int r = i, a = p.A, b = p.B, c;
            c = r % p.D5; r /= p.D5; a += c * p.A5; b += c * p.B5;
            c = r % p.D4; r /= p.D4; a += c * p.A4; b += c * p.B4;
            c = r % p.D3; r /= p.D3; a += c * p.A3; b += c * p.B3;
            c = r % p.D2; r /= p.D2; a += c * p.A2; b += c * p.B2;
            c = r % p.D1; r /= p.D1; a += c * p.A1; b += c * p.B1;
            a += r * p.A0; b += r * p.B0;
            mem[p.Y + i] = Apply(p.Op, mem[a], mem[b]);
        }
    }

    private static float Apply(int op, float a, float b)
    {
        if (op == BinaryCode.Add) return a + b;
        if (op == BinaryCode.Sub) return a - b;
        if (op == BinaryCode.Mul) return a * b;
        if (op == BinaryCode.Div) return a / b;
        if (op == BinaryCode.Max) return XMath.IsNaN(a) || XMath.IsNaN(b) ? float.NaN : XMath.Max(a, b);
        if (op == BinaryCode.Min) return XMath.IsNaN(a) || XMath.IsNaN(b) ? float.NaN : XMath.Min(a, b);
        if (op == BinaryCode.Pow) return XMath.Pow(a, b);
        return a >= 0 ? a : a * b; // PRelu
    }

    /// <summary>Y = f(X).</summary>
    public static void Unary(ArrayView<float> mem, UnaryParams p)
    {
        for (int i = Grid.GlobalIndex.X; i < p.Count; i += Grid.DimX * Group.DimX)
        {
            mem[p.Y + i] = DeviceMath.Apply(mem[p.X + i], p.Fn);
        }
    }

    /// <summary>Y = X·scale[c] + shift[c], c the channel (dim 1) of each element.</summary>
    public static void ChannelAffine(ArrayView<float> mem, AffineParams p)
    {
        for (int i = Grid.GlobalIndex.X; i < p.Count; i += Grid.DimX * Group.DimX)
        {
            int c = i / p.Spatial % p.Channels;
            mem[p.Y + i] = mem[p.X + i] * mem[p.Scale + c] + mem[p.Shift + c];
        }
    }
}
