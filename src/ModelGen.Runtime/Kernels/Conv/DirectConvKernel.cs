using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels.Gemm;
using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// Conv with stride 1 or 2 along the width, computed directly (no im2col matrix): the input of each
/// (image, group) unit is copied once into a zero-bordered plane, and every tile of R output
/// channels × V·16 output pixels sums its taps as vector loads from that plane
/// (<see cref="DirectConvTile"/>). At width stride 2 each padded row is stored as its even columns
/// then its odd columns (two phases), so a tap's 16 output pixels, which read every other column,
/// are again one contiguous load: column 2j + q is phase q mod 2 at index j + q / 2. For convs with few channels and small maps, im2col + SGEMM
/// spends most of its time gathering the unrolled matrix (K·N scattered reads to feed K·N·M/16 FMAs
/// with M of 10–16) and padding M up to the micro-kernel's rows; here the input is read in place and
/// the rows are split into even blocks (10 = 5 + 5). Groups, dilation, any height/depth stride,
/// pads, auto_pad, bias and the fused activation are supported; the factory picks this kernel by
/// <see cref="Applies"/> and keeps <see cref="ConvKernel"/> for the rest. On AVX2 the tiles are <see cref="DirectConvTile256"/>'s
/// (R up to 4 × V up to 3 vectors of 8), and a vector never spans two output rows.
/// </summary>
internal sealed unsafe class DirectConvKernel : Kernel, IParallelWork
{
    // The shape rule, measured single-shape against im2col + SGEMM (docs/performance.md): the direct kernel
    // wins for every size with up to 256 output channels per group (MaxPaddedFloats), loses above that
    // (MaxOutputChannels) and for 1x1 convs from many channels (MaxOneByOneChannels).

    /// <summary>
    /// Largest padded input of one unit (floats, 64 MB), a bound on the scratch (one buffer per part) and on the int
    /// tap offsets, not a speed limit. Measured on two cores against im2col + SGEMM (mean per call, caches warm, after
    /// the parallel padded copy and the shared-tiles split): direct is faster at every size tried, 3×3 stride 1
    /// 128→128 on 56×56 (430K floats) 3.2 → 2.4 ms, 64→64 on 112×112 4.8 → 2.5 ms, 256→256 on 56×56 (860K) 11.7 → 10.1 ms,
    /// 64→64 on 224×224 (3.3M) 20.3 → 11.4 ms; stride 2 256→256 on 28×28 1.2–1.3 → 0.87–1.0 ms, 128→128 on 56×56
    /// 1.09–1.18 → 0.94–1.0 ms, 64→64 on 112×112 1.54–1.65 → 1.02–1.05 ms, 32→64 on 224×224 4.5 → 2.1 ms. (The limits
    /// were 256K floats at stride 1 and 192K at stride 2 before the split and the parallel copy existed.)
    /// </summary>
    private const long MaxPaddedFloats = 16L * 1024 * 1024;

    /// <summary>
    /// Most output channels per group (each block of up to 8 re-reads the whole padded input). Measured on two cores:
    /// with 512, ResNet-50's 3×3/2 512→512 on 14×14 took 1.9 ms direct against 1.0 ms with im2col + SGEMM.
    /// </summary>
    private const int MaxOutputChannels = 256;

    /// <summary>
    /// Most input channels per group of a 1x1 conv taken here. Measured in SqueezeNet (one thread, against im2col +
    /// SGEMM, which packs no im2col for a 1x1): with 16–64 input channels the direct kernel took 0.55–0.9x the time
    /// (64x16 on 55x55 95 -> 51-54 us, 128x32 on 27x27 59-61 -> 39 us, 256x64 on 13x13 46 -> 33 us), with 128 about
    /// the same, with 256–512 1.1–1.2x.
    /// </summary>
    private const int MaxOneByOneChannels = 64;

    /// <summary>
    /// On AVX2, a 1x1 conv with at most this many output channels per group is taken here from any number of input
    /// channels: SGEMM packs the whole input per call for a few rows of output. Measured in SqueezeNet on the 2-core AVX2
    /// EPYC (profile, fastest call of each step, SGEMM → here): 128→16 on 55×55 139 → 91 µs, 256→32 on 27×27 107 → 92 µs,
    /// 128→32 57 → 44 µs, 512→64 on 13×13 96 → 88 µs, 384→64 73 → 66 µs, 384→48 61 → 51 µs, 256→48 39 → 33 µs.
    /// Not on maps of whole 16-pixel panels, whose input SGEMM reads in place without packing it
    /// (<see cref="Sgemm.UnpackedPanels256"/>): ResNet-50's two 1×1 64←256 on 56×56, one core, fastest call of the pair
    /// 2619 / 2793 µs here against 2222 / 2227 µs on SGEMM (two alternating runs). Its 256←64 stay here: K = 64 is too
    /// short for SGEMM's tile (5008 / 5494 µs here against 5199 / 5197 µs).
    /// </summary>
    private const int MaxOneByOneOutputChannelsAvx2 = 64;

    private readonly WindowGeometry _g;
    private readonly float* _x, _w, _y, _bias;
    private readonly int _batch, _groups, _cPerGroup, _mPerGroup, _k;
    private readonly int _pd, _ph, _pw;
    private readonly int _sw;             // width stride: phases per padded row
    private readonly PaddedPlanes _planes; // the zero-bordered copy's layout; its rows split into sw phases
    private readonly int _rowFloats;      // one padded row, all phases
    private readonly long _paddedFloats;  // one unit's padded input plus read slack
    private readonly float* _padded;      // one buffer per part (units mode) or one shared (tiles mode, copied over the pool); null when each part copies its own rows (into the workspace)
    private readonly int* _taps;          // [k]
    private readonly int* _base, _dest, _lanes; // [vectors]
    private readonly float* _keep;        // [vectors][16] where vectors run across output rows (see the constructor), else null
    private readonly bool _wide;          // AVX-512 tiles (DirectConvTile), else AVX2 (DirectConvTile256)
    private readonly int _width;          // output pixels per vector of those tiles
    private readonly int _vectors, _perTile, _tiles;
    private readonly int _rows, _blocks;  // rows per block (R) and blocks per group
    private readonly int _groupVectorTiles; // vector tiles whose blocks run block by block (see GroupVectorTiles)
    private readonly int _sliceTaps;      // taps one pass over a group's blocks sums (see SliceTaps): all K, or fewer on AVX2
    private readonly delegate*<in DirectConvArgs, void> _full, _tail;
    private readonly bool _packPerCall;
    private readonly float* _packedW;     // [groups][blocks][k][R]
    private readonly float* _packedBias;  // [groups][blocks][R]
    private readonly Epilogue _epilogue;
    private readonly bool _readsInPlace; // the input needs no padded copy (see the constructor)
    private readonly int _parts;
    private readonly bool _splitTiles;    // batch 1: the parts share one unit's tiles
    private readonly bool _copyOwnRows;   // tiles mode with a padded copy of a 2-D input: each part copies the rows its tiles read into planes of its own
    private long _unit;                   // tiles mode: the unit being computed
    private float* _source;               // tiles mode: what its tiles read (see Source)
    private readonly Memory.StepWorkspace? _workspace; // copy-own-rows mode: the parts' padded rows
    private readonly PaddedCopyWork _copy; // tiles mode: a big padded copy split over the pool by channels

    /// <summary>True when the step is a float Conv this kernel computes faster than im2col + SGEMM.</summary>
    public static bool Applies(BindContext context)
    {
        if (FloatIsaSelector.Current == FloatIsa.None || !context.HasInput(1)) return false;
        if (context.Input(0).Type != ElementType.Float) return false;
        int[] xs = context.Input(0).Shape, ws = context.Input(1).Shape;
        if (xs.Length < 3 || xs.Length > 5 || ws.Length != xs.Length) return false;
        long groups = context.Step.GetInt("group", 1);
        if (groups < 1 || xs[1] % groups != 0 || ws[0] % groups != 0 || ws[0] / groups > MaxOutputChannels) return false;
        long[]? strides = context.Step.GetInts("strides");
        if (strides is not null && strides.Length > 0 && strides[^1] != 1 && strides[^1] != 2) return false;
        long kernel = 1;
        for (int d = 2; d < ws.Length; d++) kernel *= ws[d];
        int[] ys = context.Output(0).Shape;
        if (ys.Length != xs.Length) return false;
        // 1x1: SGEMM reads the input as B without any im2col, and wins from about 128 input channels. On AVX2, few outputs
        // stay here unless the map is whole 16-pixel panels, which SGEMM reads in place (see MaxOneByOneOutputChannelsAvx2).
        long outSize = 1;
        for (int d = 2; d < ys.Length; d++) outSize *= ys[d];
        bool fewOutputs = FloatIsaSelector.Current == FloatIsa.Avx2 && ws[0] / groups <= MaxOneByOneOutputChannelsAvx2
            && outSize % Sgemm.NR != 0;
        if (kernel == 1 && xs[1] / groups > MaxOneByOneChannels && !fewOutputs) return false;
        // The padded input of one group: a padded dim covers the input and every window, (out - 1) * stride + reach.
        long[]? dilations = context.Step.GetInts("dilations");
        long padded = xs[1] / groups;
        for (int d = 2; d < xs.Length; d++)
        {
            long stride = strides is not null && strides.Length == xs.Length - 2 ? strides[d - 2] : 1;
            long dilation = dilations is not null && dilations.Length == xs.Length - 2 ? dilations[d - 2] : 1;
            padded *= Math.Max(xs[d], (ys[d] - 1) * stride + (ws[d] - 1) * dilation + 1) + stride;
        }
        return padded <= MaxPaddedFloats;
    }

    public DirectConvKernel(BindContext context)
    {
        var shape = ConvShape.Bind(context);
        (_batch, _groups, _cPerGroup, _mPerGroup, _g, _k) =
            (shape.Batch, shape.Groups, shape.CPerGroup, shape.MPerGroup, shape.Geometry, shape.K);
        var g = _g;
        if (g.Stride[2] != 1 && g.Stride[2] != 2) throw context.Fail("the direct Conv kernel needs stride 1 or 2 along the width");
        _x = context.FloatInput(0);
        _w = context.FloatInput(1);
        _y = context.FloatOutput(0);
        if (_x == _y) throw context.Fail("Conv cannot run in place");
        int m = _groups * _mPerGroup;
        _bias = ConvShape.FloatBias(context, m);
        _epilogue = Epilogue.FromStep(context);
        ConvResidual.AddTo(context, ref _epilogue, _y);

        // Padded extents: the input and its pads, and at least every window's reach.
        _pd = g.PaddedExtent(0);
        _ph = g.PaddedExtent(1);
        _pw = g.PaddedExtent(2);
        _sw = g.Stride[2];
        _wide = FloatIsaSelector.Current == FloatIsa.Avx512;
        _width = _wide ? DirectConvTile.Width : DirectConvTile256.Width;
        _planes = new PaddedPlanes(g, _pd, _ph, _pw, _sw);
        _rowFloats = _planes.RowFloats;
        long plane = _planes.PlaneFloats;
        // No pads and stride 1 along the width (a 1×1 conv, say; stride 2 splits rows into phases): the padded layout is the input's own, so the tiles read
        // the input in place. Their masked-off lanes read up to Width - 1 floats past its end, which every arena and
        // weights buffer has as slack (NativeBuffer.Slack).
        _readsInPlace = _sw == 1 && _pd == g.In[0] && _ph == g.In[1] && _rowFloats == g.In[2];
        // A partial vector's unused lanes read up to Width - 1 floats past the last row.
        _paddedFloats = (_cPerGroup * plane + _width + 15) / 16 * 16;

        _taps = (int*)context.Scratch((long)_k * 4);
        g.TapOffsets(_taps, _cPerGroup, _pd, _ph, _pw, _sw);

        // Output vectors: each output row split into 16-wide pieces, the last one partial. Where the output rows
        // follow the padded rows one for one (stride 1 along height and width, one depth slice), the vectors instead
        // run along the padded rows as one line, p = row · padded width + column, and keep only the lanes whose
        // column is an output column (packed to the front before the store): a 55x55 map is 196 vectors instead of
        // 220 (55 = 16 + 16 + 16 + 7), a 27x27 one 49 instead of 54. For a 1x1 conv at stride 1 the padded map is
        // the output map and every lane is kept.
        int perRow = (g.Out[2] + _width - 1) / _width;
        int rowVectors = g.Out[0] * g.Out[1] * perRow;
        bool lineUp = g.Out[0] == 1 && g.Stride[1] == 1 && g.Stride[2] == 1;
        long linePositions = (long)(g.Out[1] - 1) * _rowFloats + g.Out[2];
        int lineVectors = (int)((linePositions + _width - 1) / _width);
        // Gaps between the output rows need the AVX-512 tile's compress to pack the kept lanes.
        bool line = lineUp && lineVectors < rowVectors && (_wide || _rowFloats == g.Out[2]);
        _vectors = line ? lineVectors : rowVectors;
        _base = (int*)context.Scratch((long)_vectors * 4);
        _dest = (int*)context.Scratch((long)_vectors * 4);
        _lanes = (int*)context.Scratch((long)_vectors * 4);
        if (line)
        {
            bool gaps = _rowFloats != g.Out[2];
            if (gaps) _keep = (float*)context.Scratch((long)_vectors * _width * 4);
            for (int v = 0; v < _vectors; v++)
            {
                int p0 = v * _width;
                _base[v] = p0;
                // Outputs before p0: the whole rows above it and the output columns of its own row.
                _dest[v] = p0 / _rowFloats * g.Out[2] + Math.Min(p0 % _rowFloats, g.Out[2]);
                int kept = 0;
                for (int i = 0; i < _width; i++)
                {
                    int p = p0 + i;
                    bool output = p < linePositions && p % _rowFloats < g.Out[2];
                    if (output) kept++;
                    if (gaps) _keep[(long)v * _width + i] = output ? BitConverter.Int32BitsToSingle(-1) : 0f;
                }
                _lanes[v] = kept;
            }
        }
        else
        {
            int v = 0;
            for (int od = 0; od < g.Out[0]; od++)
            for (int oh = 0; oh < g.Out[1]; oh++)
            for (int ow = 0; ow < g.Out[2]; ow += _width, v++)
            {
                _base[v] = (od * g.Stride[0] * _ph + oh * g.Stride[1]) * _rowFloats + ow;
                _dest[v] = (od * g.Out[1] + oh) * g.Out[2] + ow;
                _lanes[v] = Math.Min(_width, g.Out[2] - ow);
            }
        }

        // Even blocks of at most MaxRows channels (10 = 5 + 5, not 8 + 2), and as many vectors as fit the registers.
        int maxRows = _wide ? DirectConvTile.MaxRows : DirectConvTile256.MaxRows;
        _blocks = (_mPerGroup + maxRows - 1) / maxRows;
        _rows = (_mPerGroup + _blocks - 1) / _blocks;
        _perTile = _wide ? DirectConvTile.VectorsFor(_rows) : DirectConvTile256.VectorsFor(_rows);
        int vectorTiles = (_vectors + _perTile - 1) / _perTile;
        _tiles = vectorTiles * _blocks;
        _groupVectorTiles = GroupVectorTiles(g, _rowFloats, _cPerGroup, _perTile * _width);
        // Not with a residual: it may be the output's own bytes, which a slice's stored sums would overwrite.
        _sliceTaps = _wide || g.KernelSize != 1 || _epilogue.HasResidual ? _k : SliceTaps(_k, _perTile * _width, _groupVectorTiles);
        int last = _vectors - (vectorTiles - 1) * _perTile;
        _full = _wide ? DirectConvTile.For(_rows, _perTile) : DirectConvTile256.For(_rows, _perTile);
        _tail = _wide ? DirectConvTile.For(_rows, last) : DirectConvTile256.For(_rows, last);

        long units = (long)_batch * _groups;
        long work = units * _mPerGroup * g.OutSize * _k;
        int concurrency = WorkerPool.Shared.Concurrency;
        bool parallel = work >= SgemmJob.SplitFrom(_wide);
        _splitTiles = parallel && units < concurrency && _tiles >= 2;
        _parts = !parallel ? 1 : _splitTiles ? Math.Min(concurrency, _tiles) : (int)Math.Min(concurrency, units);
        // Measured on two cores (mean per call, warm / input just written by both cores): 3×3 16→64 on 55×55 216–219 →
        // 177–186 / 275–281 → 213–257 µs, 64→64 on 56×56 725–745 → 698–705 / 771–799 → 722–738 µs, 28×28 and 27×27 the
        // same. At width stride 2 up to 64 channels (the copy by channels split 3 channels 1 : 2): the 7×7/2 stem 3→64 on
        // 224×224 690–700 → 615–630 / 707–753 → 646–649 µs, 3×3/2 3→64 on 224×224 215–231 → 150–153 / 241–272 → 210–255
        // µs, 32→64 on 112×112 583–587 → 443–456 µs, 64→64 on 56×56 292–309 → 250–255 µs. Each part has planes of its
        // own: with one shared copy the rows both parts read were written by both cores, and each read of them could
        // find the line in the other core's cache. Own planes against the shared copy (input just written by both cores,
        // p50): 3×3 128→128 on 28×28 731–794 → 669–673 µs, 64→64 on 56×56 653–760 → 631–664 µs, SqueezeNet's 16→64 on
        // 55×55 187–191 → 150–151 µs and 32→128 on 27×27 182–186 → 143 µs; and with them width stride 2 with 128
        // channels (3×3/2 128→128 on 56×56), which had kept the copy by channels, 752–898 → 669–866 µs (six pairs).
        _copyOwnRows = _splitTiles && !_readsInPlace && _pd == 1 && g.In[0] == 1;
        int buffers = _splitTiles && !_copyOwnRows ? 1 : _parts;
        // Each part's own rows are rewritten on every run, so they live in the executor's shared workspace (warm from the
        // steps before), their borders zeroed before each copy. SqueezeNet, four alternating pairs: 2824 / 2592 / 2620 /
        // 2815 → 2546 / 2526 / 2560 / 2769 µs; profile, 3×3 16→64 on 55×55 371 / 387 → 355 / 368 µs (two convs).
        if (_copyOwnRows)
        {
            _workspace = context.Workspace;
            _workspace.ReserveParts(buffers, _paddedFloats * 4);
        }
        // Otherwise zeroed once: the borders stay zero. None when the tiles read the input in place.
        _padded = _readsInPlace || _copyOwnRows ? null : (float*)context.Scratch(_paddedFloats * buffers * 4);
        _copy = new PaddedCopyWork(_planes, _padded, _cPerGroup);

        long packedFloats = (long)_groups * _blocks * _k * _rows;
        _packedBias = (float*)context.Scratch((long)_groups * _blocks * _rows * 4);
        _packedW = PackedConvWeights.Bind(context, "conv-direct-w", $"{_groups}x{_mPerGroup}x{_k}r{_rows}", packedFloats,
            target => PackWeights((float*)target), out _packPerCall);
        if (!_packPerCall) PackBias();
    }

    /// <summary>Weights as [group][block][tap][row]: a tile reads its R weights of one tap from one place.</summary>
    private void PackWeights(float* target)
    {
        for (int grp = 0; grp < _groups; grp++)
        for (int blk = 0; blk < _blocks; blk++)
        {
            float* dst = target + ((long)grp * _blocks + blk) * _k * _rows;
            for (int p = 0; p < _k; p++)
            for (int r = 0; r < _rows; r++)
            {
                int mm = blk * _rows + r;
                dst[(long)p * _rows + r] = mm < _mPerGroup ? _w[((long)grp * _mPerGroup + mm) * _k + p] : 0f;
            }
        }
    }

    private void PackBias()
    {
        for (int grp = 0; grp < _groups; grp++)
        for (int blk = 0; blk < _blocks; blk++)
        for (int r = 0; r < _rows; r++)
        {
            int mm = blk * _rows + r;
            _packedBias[((long)grp * _blocks + blk) * _rows + r] = _bias != null && mm < _mPerGroup ? _bias[grp * _mPerGroup + mm] : 0f;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        if (_packPerCall)
        {
            PackWeights(_packedW);
            PackBias();
        }
        if (_splitTiles)
        {
            long units = (long)_batch * _groups;
            for (_unit = 0; _unit < units; _unit++)
            {
                if (_copyOwnRows)
                {
                    WorkerPool.Shared.Run(this, _parts);
                    continue;
                }
                // A big padded copy is split over the pool by channels (a second dispatch): serially it took ~5% of a
                // 56×56 3×3 conv's time on two cores while the other core waited.
                int copyParts = !_readsInPlace && (long)_cPerGroup * _g.InSize >= ParallelCopyFloats ? Math.Min(_parts, _cPerGroup) : 1;
                if (copyParts > 1)
                {
                    _copy.Source = _x + _unit * _cPerGroup * _g.InSize;
                    WorkerPool.Shared.Run(_copy, copyParts);
                    _source = _padded;
                }
                else _source = Source(_unit, _padded);
                WorkerPool.Shared.Run(this, _parts);
            }
            return;
        }
        if (_parts > 1) WorkerPool.Shared.Run(this, _parts);
        else Execute(0, 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part, int parts)
    {
        if (_splitTiles)
        {
            int t0 = (int)WorkerPool.Split(_tiles, part, parts), t1 = (int)WorkerPool.Split(_tiles, part + 1, parts);
            if (t0 >= t1) return;
            if (!_copyOwnRows)
            {
                Tiles(_unit, _source, t0, t1);
                return;
            }
            float* own = (float*)_workspace!.Part(part);
            CopyRowsFor(t0, t1, own);
            Tiles(_unit, own, t0, t1);
            return;
        }
        long units = (long)_batch * _groups;
        long begin = WorkerPool.Split(units, part, parts), end = WorkerPool.Split(units, part + 1, parts);
        float* padded = _padded + part * _paddedFloats;
        for (long unit = begin; unit < end; unit++)
        {
            Tiles(unit, Source(unit, padded), 0, _tiles);
        }
    }

    /// <summary>What the tiles of <paramref name="unit"/> read: its input in place, or a padded copy made in <paramref name="padded"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private float* Source(long unit, float* padded)
    {
        float* x = _x + unit * _cPerGroup * _g.InSize;
        if (_readsInPlace) return x;
        _planes.Copy(x, padded, 0, _cPerGroup);
        return padded;
    }

    /// <summary>
    /// Input bytes one group of vector tiles reads at most: an eighth of a Zen 3 core's L2, so that its blocks find it there.
    /// Half of L1 (16 KB) left ResNet-50's stem (7×7/2 from 3 channels: 2.7 KB a padded input row, 7 rows under an output
    /// row) one tile a group, writing 64 output planes 96 bytes at a time; now 32 tiles. Two cores, --layers, fastest chunks
    /// of four alternating pairs: 1969 / 2079 / 2233 / 2054 → 1439 / 1277 / 1574 / 1322 µs (ONNX Runtime's time over
    /// ModelGen's 0.88 / 0.86 / 0.82 / 0.93 → 1.09 / 1.14 / 1.04 / 1.21); ResNet-50's 1×1s on 56×56, SqueezeNet's stem
    /// and its 3×3 16→64 within the noise.
    /// </summary>
    private const int GroupInputBytes = 64 * 1024;

    /// <summary>
    /// Input bytes a group of a 1×1 conv's vector tiles reads at most: half of L1, so that its blocks find the input there
    /// (a 1×1 tile reads one input row per channel, so its groups need no rows above and below, as a 3×3's or the stem's do).
    /// With <see cref="GroupInputBytes"/>, ResNet-50's 64→256 on 56×56 ran groups of 9 vector tiles, 55 KB of input re-read
    /// from L2 by each of its 64 blocks; now 2, 12 KB. One core of the AVX2 EPYC, --layers, three alternating pairs, fastest
    /// chunks: 64→256 on 56×56 1358 / 1360 / 1298 → 1251 / 1234 / 1233 µs, 256→64 on 56×56 1489 / 1346 / 1388 → 1378 / 1331
    /// / 1335 µs (medians 1776 / 1630 / 1853 → 1455 / 1360 / 1386). In the networks' profiles (fastest call of two runs each)
    /// less: ResNet-50's four 64→256 5275 / 5467 → 5214 / 5324 µs; SqueezeNet's 1×1s from 95 to 185 µs 0–6% faster, its
    /// 256→32 3% slower.
    /// </summary>
    private const int OneByOneGroupInputBytes = 16 * 1024;

    /// <summary>Most vector tiles in one group.</summary>
    private const int MaxGroupVectorTiles = 32;

    /// <summary>
    /// How many vector tiles run as a group, all output-channel blocks of the group's first tile, then of its second, and
    /// so on being replaced by block after block over the whole group (<see cref="Tiles"/>): the most whose input rows
    /// fit <see cref="GroupInputBytes"/>, at least 1 (tile after tile, every block). Tile after tile, the stores of one
    /// tile's blocks go to 4·blocks output planes at once, 96 bytes each: SqueezeNet's stem (64 channels on 111×111,
    /// 3.1 MB of output) wrote 64 streams, and in the network, where its output lines were no longer in the caches, each
    /// store's line was fetched from memory first. Block by block over a group, a block writes its 4 planes a group of
    /// vectors (here 216 outputs, 13 lines) long. On one core of the AVX2 EPYC, SqueezeNet's profile, the stem's mean
    /// (fastest) call: 1775 / 1884 (732 / 1069) µs tile after tile, 912 / 1252 (670 / 685) with groups of 8 and 890 / 1048
    /// (656 / 666) with groups of 32.
    /// </summary>
    private static int GroupVectorTiles(WindowGeometry g, int rowFloats, int channels, int tilePixels)
    {
        long rowBytes = (long)rowFloats * channels * 4 * g.Kernel[0];
        long budget = g.KernelSize == 1 ? OneByOneGroupInputBytes : GroupInputBytes;
        for (int group = MaxGroupVectorTiles; group > 1; group--)
        {
            long outRows = ((long)group * tilePixels + g.Out[2] - 1) / g.Out[2];
            long inRows = (outRows - 1) * g.Stride[1] + (long)(g.Kernel[1] - 1) * g.Dilation[1] + 1;
            if (inRows * rowBytes <= budget) return group;
        }
        return 1;
    }

    /// <summary>Input bytes one slice of a 1×1 conv's taps reads for a group of vector tiles: half of a Zen 3 core's L1.</summary>
    private const int SliceInputBytes = 16 * 1024;

    /// <summary>
    /// Taps (input channels) per slice of a 1×1 conv on AVX2 (<paramref name="k"/> when all fit): each block of a group
    /// sums one slice of the taps, storing its sums, before the next slice starts from them (<see cref="DirectConvArgs.Accumulate"/>),
    /// so that the group's input for one slice stays in L1 across the blocks. With all 512 channels of SqueezeNet's
    /// 512→64 on 13×13 a vector tile reads 48 KB of input, and each of its 16 blocks read it again from L2. The sums are
    /// the same floats in the same order: a slice's sums go to memory and back unrounded. On one core of the AVX2 EPYC
    /// (SqueezeNet's profile, fastest call of two alternating runs each): 256→32 on 27×27 175 / 176 → 162 / 163 µs,
    /// 512→64 on 13×13 162 / 163 → 154 / 155 µs, 384→48 92 / 93 → 87 / 89 µs, 384→64 123 / 122 → 120 / 118 µs, 256→48
    /// 62 / 60 → 62 / 64 µs; ResNet-50's 256→64 on 56×56 within the noise (1300–1315 → 1307–1354 µs). Less than the L2
    /// reads it saves would suggest: these layers run at ~55% of the FMA peak either way, against ONNX Runtime's ~70%.
    /// </summary>
    private static int SliceTaps(int k, int tilePixels, int group)
    {
        // Only where one vector tile's input is more than the slice holds; fewer channels take a larger group instead.
        if ((long)k * tilePixels * 4 <= SliceInputBytes) return k;
        int perSlice = Math.Max(MinSliceTaps, SliceInputBytes / (group * tilePixels * 4));
        if (perSlice >= k) return k;
        int slices = (k + perSlice - 1) / perSlice;
        // Even slices, each a whole number of the tile's two-tap trips.
        return ((k + slices - 1) / slices + 1) & ~1;
    }

    /// <summary>Fewest taps a slice has: each slice stores and reloads the tile's sums.</summary>
    private const int MinSliceTaps = 32;

    /// <summary>Input floats of one unit from which its padded copy is made over the pool.</summary>
    private const long ParallelCopyFloats = 64 * 1024;

    /// <summary>
    /// Runs tiles [<paramref name="begin"/>, <paramref name="end"/>) of one unit (tile = vector tile × blocks + block), a
    /// group of vector tiles at a time, block by block (<see cref="GroupVectorTiles"/>), and for a 1×1 conv from many
    /// channels on AVX2 a slice of its taps at a time (<see cref="SliceTaps"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tiles(long unit, float* padded, int begin, int end)
    {
        int grp = (int)(unit % _groups);
        int outSize = _g.OutSize;
        var args = new DirectConvArgs
        {
            Taps = _taps, K = _k, Source = padded, OutSize = outSize, Epilogue = _epilogue,
        };
        float* y = _y + unit * _mPerGroup * outSize;
        int vectorTiles = _tiles / _blocks;
        int vtBegin = begin / _blocks, vtEnd = (end - 1) / _blocks + 1;
        int group = _groupVectorTiles;
        for (int g0 = vtBegin; g0 < vtEnd; g0 += group)
        for (int s0 = 0; s0 < _k; s0 += _sliceTaps)
        {
            int s1 = Math.Min(_k, s0 + _sliceTaps);
            args.Taps = _taps + s0;
            args.K = s1 - s0;
            args.Accumulate = s0 > 0;
            // The epilogue (residual, activation) once the sums are whole.
            args.Epilogue = s1 == _k ? _epilogue : Epilogue.Plain;
            for (int blk = 0; blk < _blocks; blk++)
            {
                // The group's vector tiles whose tile (vt · blocks + blk) is in [begin, end): both bounds round up, from
                // numerators that are never negative (begin ≥ 0, end ≥ 1, blk < blocks).
                int lo = Math.Max(g0, (begin - blk + _blocks - 1) / _blocks);
                int hi = Math.Min(Math.Min(g0 + group, vtEnd), (end - blk + _blocks - 1) / _blocks);
                if (lo >= hi) continue;
                long packed = (long)grp * _blocks + blk;
                args.Weights = _packedW + packed * _k * _rows + (long)s0 * _rows;
                args.Bias = _packedBias + packed * _rows;
                args.Output = y + (long)blk * _rows * outSize;
                args.Rows = Math.Min(_rows, _mPerGroup - blk * _rows);
                // The whole vector tiles before the last: AVX2 runs them in one call (DirectConvArgs.Count; it has no Keep to
                // step), AVX-512 calls its tile once per vector tile. The last vector tile has its own, narrower tile.
                int wholeEnd = Math.Min(hi, vectorTiles - 1);
                if (_wide) for (int vt = lo; vt < wholeEnd; vt++) RunVectorTiles(ref args, _full, vt, 1);
                else if (lo < wholeEnd) RunVectorTiles(ref args, _full, lo, wholeEnd - lo);
                if (hi == vectorTiles) RunVectorTiles(ref args, _tail, vectorTiles - 1, 1);
            }
        }
    }

    /// <summary>Runs <paramref name="count"/> vector tiles from <paramref name="vt"/> of the block <paramref name="args"/> is set for.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void RunVectorTiles(ref DirectConvArgs args, delegate*<in DirectConvArgs, void> tile, int vt, int count)
    {
        int v0 = vt * _perTile;
        args.Base = _base + v0;
        args.Dest = _dest + v0;
        args.Lanes = _lanes + v0;
        args.Keep = _keep == null ? null : _keep + (long)v0 * _width;
        args.Count = count;
        tile(in args);
    }

    /// <summary>
    /// Copies the input rows that tiles [<paramref name="t0"/>, <paramref name="t1"/>) of the current unit read, every
    /// channel, into the part's own padded planes (<paramref name="padded"/>). Each part copies its own rows before its
    /// tiles run, so a part never waits for a copy and reads only what its own core wrote. Before, a small copy ran on one
    /// core while the other waited, and a large one, split by channels, left each part reading half its rows from the
    /// other core's cache.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CopyRowsFor(int t0, int t1, float* padded)
    {
        var g = _g;
        int v0 = t0 / _blocks * _perTile, v1 = Math.Min(_vectors, ((t1 - 1) / _blocks + 1) * _perTile) - 1;
        int r0 = _base[v0] / _rowFloats;
        int r1 = (_base[v1] + _width - 1) / _rowFloats + (g.Kernel[1] - 1) * g.Dilation[1];
        int h0 = Math.Max(0, r0 - g.PadBegin[1]), h1 = Math.Min(g.In[1], r1 - g.PadBegin[1] + 1);
        _planes.ClearRows(padded, 0, _cPerGroup, r0, r1);
        if (h0 < h1) _planes.Copy(_x + _unit * _cPerGroup * g.InSize, padded, 0, _cPerGroup, h0, h1);
    }
}
