using ILGPU;
using ILGPU.Algorithms;

namespace ModelGen.Runtime.Devices;

/// <summary>Parameters of <see cref="SoftmaxKernels.Softmax"/>: outer × n × inner, reduced over n.</summary>
internal struct SoftmaxParams
{
    public int Outer, N, Inner, X, Y, Log;
}

/// <summary>Softmax and LogSoftmax, shifted by the max like the CPU kernel.</summary>
internal static class SoftmaxKernels
{
    /// <summary>One (outer, inner) run per iteration.</summary>
    public static void Softmax(ArrayView<float> mem, SoftmaxParams p)
    {
        int runs = p.Outer * p.Inner;
        for (int i = Grid.GlobalIndex.X; i < runs; i += Grid.DimX * Group.DimX)
        {
            int o = i / p.Inner, j = i % p.Inner;
            int x = p.X + o * p.N * p.Inner + j, y = p.Y + o * p.N * p.Inner + j;
            float max = float.NegativeInfinity;
            for (int k = 0; k < p.N; k++)
            {
                float v = mem[x + k * p.Inner];
                if (v > max || XMath.IsNaN(v)) max = v;
            }
            float sum = 0f;
            for (int k = 0; k < p.N; k++) sum += XMath.Exp(mem[x + k * p.Inner] - max);
            if (p.Log != 0)
            {
                float shift = max + XMath.Log(sum);
                for (int k = 0; k < p.N; k++) mem[y + k * p.Inner] = mem[x + k * p.Inner] - shift;
            }
            else
            {
                float scale = 1f / sum;
                for (int k = 0; k < p.N; k++) mem[y + k * p.Inner] = XMath.Exp(mem[x + k * p.Inner] - max) * scale;
            }
        }
    }
}
