using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ModelGen.Runtime.Kernels.Elementwise;

/// <summary>A binary fp32 operator, TensorPrimitives style (see <see cref="IUnaryOp"/>).</summary>
internal interface IBinaryOp
{
    /// <summary>False when only the scalar form is exact (Pow); the loops then stay scalar.</summary>
    bool Vectorized { get; }
    float Invoke(float a, float b);
    Vector128<float> Invoke(Vector128<float> a, Vector128<float> b);
    Vector256<float> Invoke(Vector256<float> a, Vector256<float> b);
    Vector512<float> Invoke(Vector512<float> a, Vector512<float> b);
}

internal readonly struct AddOp : IBinaryOp
{
    public bool Vectorized => true;
    public float Invoke(float a, float b) => a + b;
    public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a + b;
    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => a + b;
    public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a + b;
}

internal readonly struct SubOp : IBinaryOp
{
    public bool Vectorized => true;
    public float Invoke(float a, float b) => a - b;
    public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a - b;
    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => a - b;
    public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a - b;
}

internal readonly struct MulOp : IBinaryOp
{
    public bool Vectorized => true;
    public float Invoke(float a, float b) => a * b;
    public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a * b;
    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => a * b;
    public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a * b;
}

internal readonly struct DivOp : IBinaryOp
{
    public bool Vectorized => true;
    public float Invoke(float a, float b) => a / b;
    public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => a / b;
    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => a / b;
    public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => a / b;
}

internal readonly struct MaxOp : IBinaryOp
{
    public bool Vectorized => true;
    public float Invoke(float a, float b) => MathF.Max(a, b);
    public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => Vector128.Max(a, b);
    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => Ieee256.Max(a, b);
    public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => Vector512.Max(a, b);
}

internal readonly struct MinOp : IBinaryOp
{
    public bool Vectorized => true;
    public float Invoke(float a, float b) => MathF.Min(a, b);
    public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => Vector128.Min(a, b);
    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => Vector256.Min(a, b);
    public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => Vector512.Min(a, b);
}

internal readonly struct PowOp : IBinaryOp
{
    // exp(b*log(a)) is wrong for negative bases with integral exponents, so Pow stays scalar.
    public bool Vectorized => false;
    public float Invoke(float a, float b) => MathF.Pow(a, b);
    public Vector128<float> Invoke(Vector128<float> a, Vector128<float> b) => throw new NotSupportedException();
    public Vector256<float> Invoke(Vector256<float> a, Vector256<float> b) => throw new NotSupportedException();
    public Vector512<float> Invoke(Vector512<float> a, Vector512<float> b) => throw new NotSupportedException();
}

/// <summary>
/// The loops every binary operator runs through: both operands vectors, or one a broadcast
/// scalar; each goes 512 -> 256 -> 128 bits, then a scalar tail.
/// </summary>
internal static unsafe class BinaryLoop
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void VectorVector<TOp>(TOp op, float* a, float* b, float* y, long n) where TOp : struct, IBinaryOp
    {
        long i = 0;
        if (op.Vectorized)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                for (; i <= n - 16; i += 16) op.Invoke(Vector512.Load(a + i), Vector512.Load(b + i)).Store(y + i);
            }
            if (Vector256.IsHardwareAccelerated)
            {
                for (; i <= n - 8; i += 8) op.Invoke(Vector256.Load(a + i), Vector256.Load(b + i)).Store(y + i);
            }
            if (Vector128.IsHardwareAccelerated)
            {
                for (; i <= n - 4; i += 4) op.Invoke(Vector128.Load(a + i), Vector128.Load(b + i)).Store(y + i);
            }
        }
        for (; i < n; i++) y[i] = op.Invoke(a[i], b[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScalarVector<TOp>(TOp op, float a, float* b, float* y, long n) where TOp : struct, IBinaryOp
    {
        long i = 0;
        if (op.Vectorized)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                var va = Vector512.Create(a);
                for (; i <= n - 16; i += 16) op.Invoke(va, Vector512.Load(b + i)).Store(y + i);
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var va = Vector256.Create(a);
                for (; i <= n - 8; i += 8) op.Invoke(va, Vector256.Load(b + i)).Store(y + i);
            }
            if (Vector128.IsHardwareAccelerated)
            {
                var va = Vector128.Create(a);
                for (; i <= n - 4; i += 4) op.Invoke(va, Vector128.Load(b + i)).Store(y + i);
            }
        }
        for (; i < n; i++) y[i] = op.Invoke(a, b[i]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void VectorScalar<TOp>(TOp op, float* a, float b, float* y, long n) where TOp : struct, IBinaryOp
    {
        long i = 0;
        if (op.Vectorized)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                var vb = Vector512.Create(b);
                for (; i <= n - 16; i += 16) op.Invoke(Vector512.Load(a + i), vb).Store(y + i);
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var vb = Vector256.Create(b);
                for (; i <= n - 8; i += 8) op.Invoke(Vector256.Load(a + i), vb).Store(y + i);
            }
            if (Vector128.IsHardwareAccelerated)
            {
                var vb = Vector128.Create(b);
                for (; i <= n - 4; i += 4) op.Invoke(Vector128.Load(a + i), vb).Store(y + i);
            }
        }
        for (; i < n; i++) y[i] = op.Invoke(a[i], b);
    }
}
