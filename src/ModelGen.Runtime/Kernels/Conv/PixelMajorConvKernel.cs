using System.Runtime.Intrinsics.X86;
using ModelGen.Runtime.Kernels.Gemm;
using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// Conv for small output maps with many channels (ResNet's 14×14 and 7×7 stages): computes
/// Yᵀ[pixels, M] = colᵀ · Wᵀ, so the output channels, not the pixels, run along the SGEMM's
/// 64-column register tile, then transposes Yᵀ into Y.
/// </summary>
/// <remarks>
/// Why: with pixels as columns, a 7×7 map is 49 columns, i.e. four 16-column panels of which the last
/// holds one pixel (77% of the computed columns are real), and the 64-wide tile never fills. As rows, 49
/// pixels are nine 6-row blocks (91%), and 512–2048 channels fill whole 64-column tiles. The weights are
/// packed as B once (shared through <see cref="ModelWeights.Derived"/>); per call the unrolled input is
/// packed as A (the pixels' im2col rows, or the input itself for a 1×1 conv) and the conv bias becomes the
/// GEMM's column bias. Groups must be 1.
/// <para>
/// The product is split over the pool by whole 64-channel groups, and each part transposes its own
/// channels into Y as soon as it has computed them: a transpose after the product ran on one thread
/// while the other waited (ResNet-50's 7×7 1×1 convs scaled 1.4x on two cores instead of ~1.8x).
/// </para>
/// </remarks>
internal sealed unsafe class PixelMajorConvKernel : Kernel, IParallelWork
{
    /// <summary>Most output pixels per image this kernel takes (14×14); above it the channel-major ConvKernel fills its tiles.</summary>
    private const int MaxPixels = 196;

    /// <summary>
    /// Most output pixels for a 1×1 conv (7×7). Measured on ResNet-50's 14×14 1×1 convs (one thread): 0.64 ms
    /// channel-major against 0.81 ms here, because a 1×1 conv packs no im2col either way while this kernel still
    /// transposes its input and its (up to 1024-channel) output; at 7×7, 1.04 → 0.80 ms and 2.28 → 1.53 ms.
    /// </summary>
    private const int MaxPixelsOneByOne = 64;

    /// <summary>Fewest output channels: the transposed product needs at least one whole 64-column tile.</summary>
    private const int MinChannels = 64;

    private readonly SgemmJob _job = new();
    private readonly WindowGeometry _g;
    private readonly float* _x, _w, _y;
    private readonly int _batch, _channels, _m, _k;
    private readonly bool _direct;
    private readonly Im2ColPacker? _im2col;
    private readonly float* _packedW;  // Wᵀ as packed B: [K, M]
    private readonly float* _packedX;  // colᵀ as packed A: [pixels, K]
    private readonly float* _yT;       // [pixels, M]
    private readonly bool _packWPerCall;
    private readonly MultiplyWork _multiply;
    private readonly float* _residual; // [batch, M, pixels] like Y, or null
    private readonly Epilogue _finish; // with a residual: the activation the transpose applies after adding it
    private float* _prepared;          // the current image's (padded) input, read by the packing parts
    private float* _image;             // the current image's output, written by the multiply parts

    /// <summary>True for a float, ungrouped Conv with at most <see cref="MaxPixels"/> output pixels and at least <see cref="MinChannels"/> output channels.</summary>
    public static bool Applies(BindContext context)
    {
        if (!Avx512F.IsSupported || !context.HasInput(1) || context.Input(0).Type != ElementType.Float) return false;
        if (context.Step.GetInt("group", 1) != 1) return false;
        int[] ys = context.Output(0).Shape, ws = context.Input(1).Shape;
        if (ys.Length < 3 || ws.Length != ys.Length || ws[0] < MinChannels) return false;
        long pixels = 1, taps = 1;
        for (int d = 2; d < ys.Length; d++)
        {
            pixels *= ys[d];
            taps *= ws[d];
        }
        return pixels <= (taps == 1 ? MaxPixelsOneByOne : MaxPixels);
    }

    public PixelMajorConvKernel(BindContext context)
    {
        var shape = ConvShape.Bind(context);
        if (shape.Groups != 1) throw context.Fail("the pixel-major Conv kernel takes group=1 only");
        (_batch, _channels, _m, _g, _k) = (shape.Batch, shape.CPerGroup, shape.MPerGroup, shape.Geometry, shape.K);
        _x = context.FloatInput(0);
        _w = context.FloatInput(1);
        _y = context.FloatOutput(0);
        var epilogue = Epilogue.FromStep(context);
        if (context.HasInput(2))
        {
            if (context.Input(2).ElementCount != _m) throw context.Fail($"bias has {context.Input(2).ElementCount} elements; expected {_m}");
            // In Yᵀ the output channel is the column: the conv bias is a column bias.
            epilogue.ColumnBias = context.FloatInput(2);
        }
        _residual = ConvResidual.Bind(context);
        if (_residual != null)
        {
            // The residual is laid out like Y, not like the product Yᵀ: the transpose adds it, then activates.
            _finish = epilogue;
            epilogue.Activation = ActivationKind.None;
        }

        bool oneByOne = _g.KernelSize == 1;
        for (int d = 0; d < WindowGeometry.Rank; d++) oneByOne &= _g.Stride[d] == 1 && _g.PadBegin[d] == 0 && _g.PadEnd[d] == 0;
        _direct = oneByOne;
        if (!_direct)
        {
            if (!Im2ColPacker.Fits(_g, _channels)) throw context.Fail($"the padded input ({_channels} channels) is too large for this kernel (over 2^29 elements); split the model's input");
            _im2col = new Im2ColPacker(context, _g, _channels, parts: 1);
        }

        int pixels = _g.OutSize;
        _packedX = (float*)context.Scratch(Sgemm.PackedASize(pixels, _k) * 4);
        _yT = (float*)context.Scratch((long)pixels * _m * 4);
        var wSlot = context.Input(1);
        long packedWBytes = Sgemm.PackedBSize(_k, _m) * 4;
        _packWPerCall = wSlot.Storage == SlotStorage.Arena;
        _packedW = _packWPerCall
            ? (float*)context.Scratch(packedWBytes)
            : (float*)context.Weights.Derived($"conv-packed-wt@{wSlot.Offset}:{wSlot.Type}:{_m}x{_k}", packedWBytes, target => PackWeights((float*)target));
        _job.M = pixels;
        _job.N = _m;
        _job.K = _k;
        _job.Ldc = _m;
        _job.PackedA = _packedX;
        _job.PackedB = _packedW;
        _job.C = _yT;
        _job.Epilogue = epilogue;
        _multiply = new MultiplyWork(this);
    }

    // B[p, j] = W[j, p]: W is [M, K] row-major.
    private void PackWeights(float* target) => Sgemm.PackB(_w, 1, _k, _k, _m, target);

    public override void Execute()
    {
        if (_packWPerCall) PackWeights(_packedW);
        int pixels = _g.OutSize;
        int rowBlocks = Sgemm.RowBlocks(pixels);
        for (int image = 0; image < _batch; image++)
        {
            float* x = _x + (long)image * _channels * _g.InSize;
            _prepared = _direct ? x : _im2col!.Prepare(x, 0);
            int parts = Math.Min(WorkerPool.Shared.Concurrency, rowBlocks);
            if (parts > 1 && (long)pixels * _k >= PackParallelElements) WorkerPool.Shared.Run(this, parts);
            else Execute(0, 1);
            _image = _y + (long)image * _m * pixels;
            int groups = ChannelGroups;
            int multiplyParts = (long)pixels * _m * _k >= SgemmJob.ParallelThreshold ? Math.Min(WorkerPool.Shared.Concurrency, groups) : 1;
            if (multiplyParts > 1) WorkerPool.Shared.Run(_multiply, multiplyParts);
            else _multiply.Execute(0, 1);
        }
    }

    /// <summary>Output channels in whole wide tiles (64), the unit the product is split by.</summary>
    private int ChannelGroups => (_m + Sgemm.WideColumns - 1) / Sgemm.WideColumns;

    /// <summary>Multiplies this part's channel groups into Yᵀ, then transposes them into the image's Y.</summary>
    private void MultiplyChannels(int part, int parts)
    {
        int groups = ChannelGroups;
        int g0 = (int)((long)groups * part / parts), g1 = (int)((long)groups * (part + 1) / parts);
        if (g0 >= g1) return;
        int c0 = g0 * Sgemm.WideColumns, c1 = Math.Min(_m, g1 * Sgemm.WideColumns);
        _job.Panels(c0 / Sgemm.NR, Sgemm.ColumnPanels(c1));
        int pixels = _g.OutSize;
        long at = (long)c0 * pixels;
        if (_residual == null) Transpose(_yT + c0, _m, _image + at, pixels, c1 - c0);
        else TransposeAdding(_yT + c0, _m, _image + at, _residual + (_image - _y) + at, pixels, c1 - c0, _finish);
    }

    /// <summary>The product and transpose, split by channel groups; reused across calls.</summary>
    private sealed class MultiplyWork(PixelMajorConvKernel owner) : IParallelWork
    {
        public void Execute(int part, int parts) => owner.MultiplyChannels(part, parts);
    }

    /// <summary>Elements of colᵀ above which packing it is split over the pool (below, waking the pool costs more).</summary>
    private const long PackParallelElements = 64 * 1024;

    /// <summary>Packs this part's row blocks (groups of 6 pixels) of colᵀ.</summary>
    public void Execute(int part, int parts)
    {
        int pixels = _g.OutSize;
        int rowBlocks = Sgemm.RowBlocks(pixels);
        int b0 = (int)((long)rowBlocks * part / parts), b1 = (int)((long)rowBlocks * (part + 1) / parts);
        if (b0 >= b1) return;
        int row0 = b0 * Sgemm.MR, rows = Math.Min(pixels, b1 * Sgemm.MR) - row0;
        float* dst = _packedX + (long)row0 * _k;
        if (_direct)
        {
            // A[i, p] = X[p, i]: the input is [C, pixels].
            Sgemm.PackA(_prepared + row0, 1, pixels, rows, _k, dst);
        }
        else
        {
            _im2col!.PackRowBlocks(_prepared, dst, row0, rows);
        }
    }

    /// <summary><see cref="Transpose"/> that also adds the residual R (laid out like Y) and then applies the activation: Y[j, i] = act(Yᵀ[i, j] + R[j, i]).</summary>
    private static void TransposeAdding(float* source, int sourceStride, float* target, float* residual, int rows, int cols, in Epilogue e)
    {
        for (int i0 = 0; i0 < rows; i0 += 8)
        {
            int i1 = Math.Min(rows, i0 + 8);
            for (int j = 0; j < cols; j++)
            {
                long row = (long)j * rows;
                for (int i = i0; i < i1; i++) target[row + i] = e.Activate(source[(long)i * sourceStride + j] + residual[row + i]);
            }
        }
    }

    /// <summary>
    /// Y[j, i] = Yᵀ[i, j] for <paramref name="rows"/> pixels and <paramref name="cols"/> channels; Yᵀ's rows are
    /// <paramref name="sourceStride"/> floats apart.
    /// </summary>
    private static void Transpose(float* source, int sourceStride, float* target, int rows, int cols)
    {
        // 8 pixels at a time keep 8 target rows' lines hot while the source is read row by row.
        for (int i0 = 0; i0 < rows; i0 += 8)
        {
            int i1 = Math.Min(rows, i0 + 8);
            for (int j = 0; j < cols; j++)
            {
                float* t = target + (long)j * rows;
                for (int i = i0; i < i1; i++) t[i] = source[(long)i * sourceStride + j];
            }
        }
    }
}
