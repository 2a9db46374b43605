using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels.Gemm;
using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// Conv for small output maps with many channels (ResNet-50's 14×14 and 7×7 stages, and its strided 3×3 onto 28×28),
/// computed directly with the output channels along the vector: each <see cref="ChannelTile"/> holds up to 6 pixels × 64
/// channels and reads, per tap, 4 vectors of packed weights and one broadcast input scalar per pixel, straight from the
/// (zero-bordered, where the conv pads) input. The tiles write one channel group's Yᵀ [pixels, 64]; every 16 finished
/// pixels are transposed on into Y, adding a fused residual and applying the activation on the way. On AVX2
/// (<see cref="ChannelTile256"/>) a tile is 6 pixels × 16 channels, 2 vectors of 8, and takes only windowed convs.
/// </summary>
/// <remarks>
/// Why: with pixels along the vector (<see cref="DirectConvKernel"/>, SGEMM with pixels as columns) a 14×14 map fills
/// 87.5% of the lanes at best and a 7×7 one 77%; the pixel-major SGEMM this kernel replaced (Yᵀ = colᵀ·Wᵀ) filled its
/// tiles but packed an im2col copy of the input per call. Here every lane is a real output, the input is read in place
/// (unpadded convs, any stride: each pixel has its own window origin) or copied once per part, and nothing is unrolled. Groups
/// must be 1.
/// <para>
/// Measured on two cores against the kernels it replaced (mean per call, caches warm, ResNet-50 and SqueezeNet shapes):
/// 3×3 256→256 on 14×14 0.75 → 0.67 ms, 3×3 512→512 on 7×7 0.90 → 0.71 ms, 1×1 1024→256 on 14×14 0.36 → 0.30 ms,
/// 1×1 512→2048 on 7×7 0.39 → 0.32 ms, 1×1 2048→512 on 7×7 0.39 → 0.34 ms, 1×1 512→1024 stride 2 onto 14×14 0.81 →
/// 0.63 ms, SqueezeNet's 3×3 64→256 on 13×13 0.21 → 0.18 ms and 1×1 512→1000 0.65 → 0.53 ms; the strided 3×3s onto
/// 14×14 and 7×7 and the 1×1 256→1024 on 14×14 tie.
/// </para>
/// </remarks>
internal sealed unsafe class ChannelTileConvKernel : Kernel, IParallelWork
{
    private readonly WindowGeometry _g;
    private readonly int _lanes;              // output channels per vector: 16 (ChannelTile, AVX-512) or 8 (ChannelTile256, AVX2)
    private readonly int _groupChannels;      // output channels per tile, whole vectors; the weights are packed in groups of this many
    private readonly float* _xInput, _w, _y, _bias;
    private readonly int _batch, _channels, _m, _k, _groups, _mPadded;
    private readonly int _pd, _ph, _pw;       // the (padded) input's extents that the offsets index
    private readonly bool _readsInPlace;      // no pads: the tiles read the input itself
    private readonly float* _padded;          // otherwise its zero-bordered copies, one per part: [parts][channels][plane]
    private readonly PaddedPlanes _planes;    // their layout
    private readonly int* _taps;              // [K]
    private readonly int* _base;              // [pixels]
    private readonly int _tiles;              // pixel tiles of up to ChannelTile.MaxPixels
    private readonly float* _packedW;         // [groups][K][64]
    private readonly float* _packedBias;      // [groups · 64]
    private readonly float* _zeros;           // [64]: where a later slice's sums start
    private readonly bool _packPerCall;
    private readonly Memory.StepWorkspace _workspace; // Yᵀ, per part [pixels][64]: the sums of the group it is on
    private readonly float* _residual;        // like Y, or null
    private readonly Epilogue _epilogue;      // the activation (and the residual) the transpose applies
    private readonly bool _reluInTiles;       // Relu without a residual: applied in registers, the transpose only moves
    private readonly int _parts;
    private readonly bool _splitChannels;     // parts take channel groups (else pixel tiles)
    private readonly delegate*<in ChannelTileArgs, void> _full, _lastPixels, _lastGroup, _lastBoth;
    private float* _x;                        // the current image of the input
    private long _image;

    /// <summary>
    /// Most output pixels per image (14×14). Measured on two cores against the kernels it replaced (mean per call, caches
    /// warm): at 28×28 it only ties (3×3 128→128 0.62–0.66 ms both ways) or loses (1×1 128→512 0.30 → 0.36 ms).
    /// </summary>
    private const int MaxPixels = 196;

    /// <summary>
    /// Most output pixels of a strided conv with a window (3×3/2, say). <see cref="DirectConvKernel"/> runs a strided
    /// conv's output rows as separate vectors (only stride 1 runs them as one line), so a 28-wide row fills 28 of 32 lanes
    /// and a 56-wide one 56 of 64, and each tap reads its row from two phases. Measured on two cores, p50, direct → here:
    /// ResNet-50's 3×3/2 128→128 56×56 → 28×28 742 / 779 → 662 / 663 µs, 3×3/2 64→64 onto 28×28 209 / 181 → 172 / 170
    /// µs, 256→256 onto 28×28 3271 / 3214 → 2754 / 2602 µs, 64→128 112×112 → 56×56 1535 / 1443 → 1464 / 1388 µs. A
    /// strided 1×1 onto 28×28 stays with SGEMM on its subsampled input (256→512: 642 / 667 µs against 704 / 716 here).
    /// </summary>
    private const int MaxStridedWindowPixels = 56 * 56;

    /// <summary>
    /// Most output pixels of a stride-1 conv with a window on the AVX2 path (AVX-512 keeps <see cref="MaxPixels"/>). Measured
    /// on the 2-core AVX2 EPYC (--layers, two alternating runs, ModelGen µs, direct → here):
    /// 3×3 128→128 on 28×28 2487 / 2389 → 2194 / 2224, SqueezeNet's 3×3 32→128 on 27×27 600 / 618 → 556 / 554; on 56×56
    /// and 55×55 the direct conv stays faster (64→64 2242 / 2842 → 2896 / 2903, 16→64 555 / 481 → 638 / 636).
    /// </summary>
    private const int MaxAvx2WindowPixels = 28 * 28;

    /// <summary>Fewest output channels: one whole AVX-512 tile of 4 channel vectors (four AVX2 tiles).</summary>
    private const int MinChannels = ChannelTile.MaxBlocks * ChannelTile.Lanes;

    /// <summary>
    /// Fewest taps (input channels × kernel taps): with fewer, a tile's sums are too short to pay for the transpose.
    /// Measured on SqueezeNet's 1×1 64→256 on 13×13: 16 µs in <see cref="DirectConvKernel"/> against 22 µs here.
    /// </summary>
    private const int MinTaps = 128;

    /// <summary>
    /// True for a float, ungrouped Conv with at most <see cref="MaxPixels"/> output pixels (<see cref="MaxStridedWindowPixels"/>
    /// for a strided window), <see cref="MinChannels"/> output channels and <see cref="MinTaps"/> taps.
    /// </summary>
    public static bool Applies(BindContext context)
    {
        if (FloatIsaSelector.Current == FloatIsa.None || !context.HasInput(1) || context.Input(0).Type != ElementType.Float) return false;
        if (context.Step.GetInt("group", 1) != 1) return false;
        int[] xs = context.Input(0).Shape, ys = context.Output(0).Shape, ws = context.Input(1).Shape;
        if (xs.Length < 3 || xs.Length > 5 || ws.Length != xs.Length || ys.Length != xs.Length) return false;
        if (ws[0] < MinChannels) return false;
        long[]? strides = context.Step.GetInts("strides"), dilations = context.Step.GetInts("dilations");
        long pixels = 1, taps = ws[1], padded = xs[1], window = 1;
        bool strided = false;
        for (int d = 2; d < ys.Length; d++)
        {
            pixels *= ys[d];
            taps *= ws[d];
            window *= ws[d];
            // The padded extent is below the last window's reach plus a stride (the output size rounds down).
            long stride = strides is not null && strides.Length == xs.Length - 2 ? strides[d - 2] : 1;
            long dilation = dilations is not null && dilations.Length == xs.Length - 2 ? dilations[d - 2] : 1;
            padded *= Math.Max(xs[d], (ys[d] - 1) * stride + (ws[d] - 1) * dilation + 1) + stride;
            strided |= stride > 1;
        }
        // With AVX2 a 1×1 stays with SGEMM: measured on the 2-core EPYC (--layers, two alternating runs, ONNX Runtime's time
        // over ModelGen's, SGEMM → here), ResNet-50's 1×1 256→1024 on 14×14 0.65 / 0.65 → 0.61 / 0.57, SqueezeNet's 512→1000 on 13×13 0.75 /
        // 0.59 → 0.58 / 0.56, the others the same within noise; the 3×3s gained (3×3/2 512 onto 7×7 0.46 / 0.43 → 0.65 /
        // 0.65, 3×3 256 on 14×14 0.55 / 0.63 → 0.70 / 0.64).
        if (window == 1 && FloatIsaSelector.Current == FloatIsa.Avx2) return false;
        long maxPixels = strided && window > 1 ? MaxStridedWindowPixels
            : FloatIsaSelector.Current == FloatIsa.Avx2 && window > 1 ? MaxAvx2WindowPixels : MaxPixels;
        // The tap and pixel offsets into the padded input are ints.
        return pixels <= maxPixels && taps >= MinTaps && padded < int.MaxValue;
    }

    public ChannelTileConvKernel(BindContext context)
    {
        var shape = ConvShape.Bind(context);
        if (shape.Groups != 1) throw context.Fail("the channel-tile Conv kernel takes group=1 only");
        (_batch, _channels, _m, _g, _k) = (shape.Batch, shape.CPerGroup, shape.MPerGroup, shape.Geometry, shape.K);
        var g = _g;
        bool wide = FloatIsaSelector.Current == FloatIsa.Avx512;
        _lanes = wide ? ChannelTile.Lanes : ChannelTile256.Lanes;
        _groupChannels = wide ? ChannelTile.MaxBlocks * ChannelTile.Lanes : ChannelTile256.MaxBlocks * ChannelTile256.Lanes;
        _xInput = context.FloatInput(0);
        _w = context.FloatInput(1);
        _y = context.FloatOutput(0);
        if (_xInput == _y) throw context.Fail("Conv cannot run in place");
        _bias = ConvShape.FloatBias(context, _m);
        _epilogue = Epilogue.FromStep(context);
        _residual = ConvResidual.Bind(context);
        _reluInTiles = _residual == null && _epilogue.Activation == ActivationKind.Relu;

        _readsInPlace = true;
        for (int d = 0; d < WindowGeometry.Rank; d++) _readsInPlace &= g.PadBegin[d] == 0 && g.PadEnd[d] == 0;
        _pd = g.PaddedExtent(0);
        _ph = g.PaddedExtent(1);
        _pw = g.PaddedExtent(2);
        _planes = new PaddedPlanes(g, _pd, _ph, _pw, 1);

        _taps = (int*)context.Scratch((long)_k * 4);
        g.TapOffsets(_taps, _channels, _pd, _ph, _pw);
        int pixels = g.OutSize;
        _base = (int*)context.Scratch((long)pixels * 4);
        int i = 0;
        for (int od = 0; od < g.Out[0]; od++)
        for (int oh = 0; oh < g.Out[1]; oh++)
        for (int ow = 0; ow < g.Out[2]; ow++)
        {
            _base[i++] = (int)(((long)od * g.Stride[0] * _ph + oh * g.Stride[1]) * _pw + ow * g.Stride[2]);
        }

        _groups = (_m + _groupChannels - 1) / _groupChannels;
        _mPadded = _groups * _groupChannels;
        _tiles = (pixels + ChannelTile.MaxPixels - 1) / ChannelTile.MaxPixels;
        int lastPixels = pixels - (_tiles - 1) * ChannelTile.MaxPixels;
        int lastBlocks = (_m - (_groups - 1) * _groupChannels + _lanes - 1) / _lanes;
        int maxBlocks = _groupChannels / _lanes;
        delegate*<in ChannelTileArgs, void> For(int pixels, int blocks) => wide ? ChannelTile.For(pixels, blocks) : ChannelTile256.For(pixels, blocks);
        _full = For(ChannelTile.MaxPixels, maxBlocks);
        _lastPixels = For(lastPixels, maxBlocks);
        _lastGroup = For(ChannelTile.MaxPixels, lastBlocks);
        _lastBoth = For(lastPixels, lastBlocks);

        long work = (long)_m * pixels * _k;
        int concurrency = WorkerPool.Shared.Concurrency;
        bool parallel = work >= SgemmJob.ParallelThreshold;
        _splitChannels = _groups >= concurrency && (_groups % concurrency == 0 || _groups >= 4 * concurrency);
        _parts = !parallel ? 1 : Math.Min(concurrency, _splitChannels ? _groups : _tiles);
        // Yᵀ is rewritten on every run, so it lives in the executor's shared workspace, warm from the steps before.
        _workspace = context.Workspace;
        _workspace.ReserveParts(_parts, (long)pixels * _groupChannels * 4);
        // Zeroed once: the borders stay zero, the copies write only the interior.
        if (!_readsInPlace) _padded = (float*)context.Scratch(_parts * _channels * _planes.PlaneFloats * 4);

        _packedBias = (float*)context.Scratch((long)_mPadded * 4);
        _zeros = (float*)context.Scratch(_groupChannels * 4);
        long packedFloats = (long)_groups * _k * _groupChannels;
        _packedW = PackedConvWeights.Bind(context, "conv-channel-tile-w", $"{_m}x{_k}g{_groupChannels}", packedFloats,
            target => PackWeights((float*)target), out _packPerCall);
        if (!_packPerCall) PackBias();
    }

    /// <summary>
    /// Weights as [group][tap][64 channels]: a tile's 4 weight vectors of one tap are one 256-byte run. The last group
    /// holds only its vectors (a tile of B vectors steps B·16 floats per tap), the channels past M zero.
    /// </summary>
    private void PackWeights(float* target)
    {
        for (int grp = 0; grp < _groups; grp++)
        {
            float* dst = target + (long)grp * _k * _groupChannels;
            int width = GroupWidth(grp);
            for (int p = 0; p < _k; p++)
            for (int j = 0; j < width; j++)
            {
                int mm = grp * _groupChannels + j;
                dst[(long)p * width + j] = mm < _m ? _w[(long)mm * _k + p] : 0f;
            }
        }
    }

    /// <summary>Channels of group <paramref name="grp"/> in whole vectors: the group's width (64, or 16 on AVX2), or fewer for the last.</summary>
    private int GroupWidth(int grp) => Math.Min(_groupChannels, (_m - grp * _groupChannels + _lanes - 1) / _lanes * _lanes);

    private void PackBias() => ConvShape.PadBias(_bias, _m, _packedBias, _mPadded);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        if (_packPerCall)
        {
            PackWeights(_packedW);
            PackBias();
        }
        for (_image = 0; _image < _batch; _image++)
        {
            _x = _xInput + _image * _channels * _g.InSize;
            if (_parts > 1) WorkerPool.Shared.Run(this, _parts);
            else Execute(0, 1);
        }
    }

    /// <remarks>
    /// A padded conv's part first copies the whole input into a zero-bordered copy of its own, on its own core, and its
    /// tiles read that. Every part reads every input channel (the parts split the output channels or pixels), so with one
    /// shared copy most of each part's reads were of lines the other core had just written. Measured on two cores, the
    /// input just written by both (as the step before leaves it), p50 of 1 s of calls, one shared copy (split over the
    /// pool from 16K floats, else made by the caller) → a copy per part: SqueezeNet's 3×3 48→192 on 13×13 95–97 → 86–87
    /// µs, 64→256 on 13×13 143 → 133–134 µs; ResNet-50's 3×3 256 on 14×14 659 → 637–640 µs, 3×3/2 256 on 28×28 831–871 →
    /// 635–646 µs, 3×3/2 512 on 14×14 850–856 → 718–721 µs; 3×3 512 on 7×7 622–626 → 627–633 µs (within noise).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part, int parts)
    {
        float* yT = (float*)_workspace.Part(part);
        float* source = _x;
        if (!_readsInPlace)
        {
            source = _padded + part * _channels * _planes.PlaneFloats;
            _planes.Copy(_x, source, 0, _channels);
        }
        if (_splitChannels)
        {
            int g0 = (int)WorkerPool.Split(_groups, part, parts), g1 = (int)WorkerPool.Split(_groups, part + 1, parts);
            if (g0 < g1) Compute(source, yT, g0, g1, 0, _tiles);
        }
        else
        {
            int t0 = (int)WorkerPool.Split(_tiles, part, parts), t1 = (int)WorkerPool.Split(_tiles, part + 1, parts);
            if (t0 < t1) Compute(source, yT, 0, _groups, t0, t1);
        }
    }

    /// <summary>
    /// Taps per slice: a group's weights for one slice (at most 1024 taps × 64 channels, 256 KB) stay in L2 while every
    /// pixel tile reads them. Unsliced, a 3×3 512-channel group (1.2 MB) fell out of L2 and each of a 7×7 map's 9 tiles
    /// streamed it from L3 or memory again.
    /// </summary>
    private const int SliceTaps = 1024;

    /// <summary>
    /// Taps per slice on AVX2, whose groups are 16 channels: a slice's weights (256 taps × 16 channels, 16 KB) and the input
    /// lines its tiles read (a 3×3's 28 channels × 3 rows, about 11 KB) fit L1 together, so that the next tile finds both
    /// there. With <see cref="SliceTaps"/> a 3×3 from 128 channels was 2 slices of 37 KB of weights, which pushed the
    /// input's lines out of L1 on every tile. Measured with the AVX2 tiles' leaner tap loops, against the old loops with
    /// 1024-tap slices (one executor in alternating blocks behind an experiment-only switch, two cores, the geometric mean of the blocks' medians
    /// new over old): ResNet-50 0.958 and 0.944 (21 of 28 and 28 of 34 pairs won), against 1.001 on one core with the leaner
    /// loops alone; single layers, one core, fastest over ONNX Runtime's (1024 → 256): 3×3/2 128 onto 28×28 0.73 / 0.78 → 0.96 /
    /// 0.89, 3×3/2 512 onto 7×7 0.87 / 0.86 → 0.88 / 0.93. Slices of 128 and 512 taps measured within the noise of 256.
    /// </summary>
    private const int SliceTapsAvx2 = 256;

    /// <summary>
    /// Tiles of channel groups [<paramref name="g0"/>, <paramref name="g1"/>) × pixel tiles [<paramref name="t0"/>,
    /// <paramref name="t1"/>), group by group and, within a group, slice by slice of the taps, into the part's Yᵀ
    /// (<paramref name="yT"/>, [pixels][64]); the first slice starts from the bias, the later ones add to Yᵀ, the last
    /// applies Relu, and behind its tiles each whole run of <see cref="StorePixels"/> finished pixels is transposed on
    /// into Y (<see cref="Store"/>).
    /// </summary>
    /// <remarks>
    /// One group's Yᵀ per part, stored as it is finished, instead of a Yᵀ of the whole output written by the tiles and read
    /// back by a pass after them: the scratch is 64 channels' worth per part (100 KB on 14×14 on two cores, against 800 KB
    /// for 1024 channels), and the rows a store reads are in L1. Time measured the same within noise in ResNet-50 (six
    /// alternating profiles on two cores, per-class medians within ±3%).
    /// <para>
    /// In a network the weights come from memory (ResNet-50's are 100 MB): the first tile of a sweep reads its slice at
    /// memory speed while the FMAs wait, and the tiles after it read only L2, leaving the memory idle. So the later tiles
    /// prefetch the next sweep's weights as they go (<see cref="ChannelTileArgs.Prefetch"/>). ResNet-50 profiles on two
    /// cores, without / with, three runs each alternating: 3×3 512 on 7×7 2699–2780 → 2241–2292 µs, 1×1 512→2048 on 7×7
    /// 1304–1365 → 1069–1193 µs, 3×3 256 on 14×14 4442–4571 → 4087–4346 µs. One conv with caches flushed before each
    /// call: 3×3 512 on 7×7 750–903 → 707–850 µs; with the weights in cache the same within noise. (Each tile's share
    /// issued as a burst of prefetches before the tile instead of one per tap measured no better than none.)
    /// </para>
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Compute(float* source, float* yT, int g0, int g1, int t0, int t1)
    {
        var args = new ChannelTileArgs { Source = source, Stride = _groupChannels };
        int perSlice = Sgemm.EqualSlice(_k, _lanes == ChannelTile256.Lanes ? SliceTapsAvx2 : SliceTaps);
        int first = t0 * ChannelTile.MaxPixels, end = Math.Min(_g.OutSize, t1 * ChannelTile.MaxPixels);
        for (int grp = g0; grp < g1; grp++)
        {
            bool lastGroup = grp == _groups - 1;
            int width = GroupWidth(grp);
            int c0 = grp * _groupChannels, c1 = Math.Min(_m, c0 + _groupChannels);
            float* weights = _packedW + (long)grp * _k * _groupChannels;
            for (int k0 = 0; k0 < _k; k0 += perSlice)
            {
                args.K = Math.Min(perSlice, _k - k0);
                args.Taps = _taps + k0;
                args.Weights = weights + (long)k0 * width;
                args.Bias = k0 == 0 ? _packedBias + c0 : _zeros;
                args.Accumulate = k0 > 0;
                bool lastSlice = k0 + args.K == _k;
                args.Relu = _reluInTiles && lastSlice;
                int stored = first;
                // The next sweep's weights (the next slice, or the next group's first) follow this slice's in the packed
                // layout. Tiles after the first bring them into L2, one line per tap, the second tile the first K lines.
                byte* next = (byte*)(args.Weights + (long)args.K * width);
                long nextBytes = k0 + args.K < _k ? (long)Math.Min(perSlice, _k - k0 - args.K) * width * 4
                    : grp + 1 < g1 ? (long)Math.Min(perSlice, _k) * GroupWidth(grp + 1) * 4 : 0;
                for (int tile = t0; tile < t1; tile++)
                {
                    long prefetched = (long)(tile - t0 - 1) * args.K * 64;
                    args.Prefetch = tile > t0 && prefetched < nextBytes ? next + prefetched : null;
                    int p0 = tile * ChannelTile.MaxPixels;
                    args.Base = _base + p0;
                    args.Output = yT + (long)p0 * _groupChannels;
                    bool lastTile = tile == _tiles - 1;
                    var run = lastTile ? (lastGroup ? _lastBoth : _lastPixels) : (lastGroup ? _lastGroup : _full);
                    run(in args);
                    if (!lastSlice) continue;
                    int done = Math.Min(end, p0 + ChannelTile.MaxPixels);
                    for (; stored + StorePixels <= done; stored += StorePixels) Store(yT, c0, c1, stored, stored + StorePixels);
                }
                if (lastSlice && stored < end) Store(yT, c0, c1, stored, end);
            }
        }
    }

    /// <summary>Pixels per store into Y: one 16×16 transpose deep, so the rows it reads were just written and are in L1.</summary>
    private const int StorePixels = 16;

    /// <summary>
    /// Y[c, p] = act(Yᵀ[p, c − c0] (+ residual[c, p])) for channels [<paramref name="c0"/>, <paramref name="c1"/>) (one
    /// group) and pixels [<paramref name="p0"/>, <paramref name="p1"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Store(float* yT, int c0, int c1, int p0, int p1)
    {
        int pixels = _g.OutSize;
        long image = _image * _m * pixels;
        float* y = _y + image;
        float* r = _residual == null ? null : _residual + image;
        bool activate = !_reluInTiles && _epilogue.Activation != ActivationKind.None;
        ChannelMajorStore.Store(yT + (long)p0 * _groupChannels, _groupChannels, y + (long)c0 * pixels + p0, pixels,
            r == null ? null : r + (long)c0 * pixels + p0, p1 - p0, c1 - c0, _epilogue, activate);
    }
}
