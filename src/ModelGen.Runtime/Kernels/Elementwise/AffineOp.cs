using System.Runtime.Intrinsics;

namespace ModelGen.Runtime.Kernels.Elementwise;

/// <summary>x * a + b (BatchNormalization, InstanceNormalization, Mean).</summary>
internal readonly struct AffineOp(float a, float b) : IUnaryOp
{
    public float Invoke(float x) => x * a + b;
    public Vector128<float> Invoke(Vector128<float> x) => x * a + Vector128.Create(b);
    public Vector256<float> Invoke(Vector256<float> x) => x * a + Vector256.Create(b);
    public Vector512<float> Invoke(Vector512<float> x) => x * a + Vector512.Create(b);
}
