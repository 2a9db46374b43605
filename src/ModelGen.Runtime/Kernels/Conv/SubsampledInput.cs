using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// The input of a 1×1, unpadded Conv with a stride above 1 (ResNet's downsampling shortcut), subsampled onto
/// the output grid: [channels, output pixels], so the conv multiplies it like a stride-1 1×1 conv, reading it in
/// place, instead of going through im2col's packed panels and their uneven split.
/// </summary>
/// <remarks>
/// Measured on ResNet-50's 1×1 stride-2 convs (two cores): 512→1024 on 28×28 went from 1.34 ms through im2col;
/// see docs/performance.md for the numbers after. Stride 2 along the width gathers 16 outputs per two vector
/// loads and one permute; other strides copy element by element.
/// </remarks>
internal sealed unsafe class SubsampledInput
{
    private readonly WindowGeometry _g;
    private readonly int _channels;
    private readonly Memory.StepWorkspace _workspace; // the buffers: rewritten on every run, so they live in the shared workspace

    /// <summary>True for a 1×1 conv without pads, with a stride above 1, over at most two spatial dims.</summary>
    public static bool Applies(WindowGeometry g)
    {
        if (g.KernelSize != 1 || g.In[0] != 1 || g.Out[0] != 1) return false;
        bool strided = false;
        for (int d = 0; d < WindowGeometry.Rank; d++)
        {
            if (g.PadBegin[d] != 0 || g.PadEnd[d] != 0) return false;
            strided |= g.Stride[d] > 1;
        }
        return strided;
    }

    /// <summary>Allocates <paramref name="buffers"/> subsampled copies of <paramref name="channels"/> channels.</summary>
    public SubsampledInput(BindContext context, WindowGeometry g, int channels, int buffers)
    {
        _g = g;
        _channels = channels;
        _workspace = context.Workspace;
        _workspace.Reserve((long)buffers * channels * g.OutSize * 4);
    }

    /// <summary>Buffer <paramref name="index"/>: [channels, output pixels], valid during the current run.</summary>
    public float* Buffer(int index) => (float*)_workspace.Pointer + (long)index * _channels * _g.OutSize;

    /// <summary>Writes output pixels [<paramref name="col0"/>, <paramref name="col1"/>) of every channel of <paramref name="x"/> into <paramref name="target"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Columns(float* x, float* target, int col0, int col1)
    {
        int outW = _g.Out[2], inW = _g.In[2], sh = _g.Stride[1], sw = _g.Stride[2], n = _g.OutSize;
        long inPlane = _g.InSize;
        for (int c = 0; c < _channels; c++)
        {
            float* xc = x + c * inPlane, tc = target + (long)c * n;
            for (int p = col0; p < col1;)
            {
                // Output row oh, columns [j0, j1) of it.
                int oh = p / outW, j0 = p % outW, j1 = Math.Min(outW, j0 + (col1 - p));
                float* row = xc + (long)oh * sh * inW;
                if (sw == 2 && Avx512F.IsSupported) EvenColumns(row, inW, tc + (p - j0), j0, j1);
                else for (int j = j0; j < j1; j++) tc[p - j0 + j] = row[j * sw];
                p += j1 - j0;
            }
        }
    }

    /// <summary>target[j] = row[2j] for j in [<paramref name="j0"/>, <paramref name="j1"/>): 32 inputs, one permute, 16 outputs at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EvenColumns(float* row, int inW, float* target, int j0, int j1)
    {
        var even = RowPairs.EvenLanes;
        for (int j = j0; j < j1; j += 16)
        {
            RowPairs.Load(row, 2 * j, inW, out var lo, out var hi);
            var v = Avx512F.PermuteVar16x32x2(lo, even, hi);
            if (j + 16 <= j1) v.Store(target + j);
            else Avx512F.MaskStore(target + j, RowPairs.Mask(j1 - j), v);
        }
    }
}
