using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels.Gemm;
using ModelGen.Runtime.Memory;
using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// 3×3 stride-1 Conv by Winograd F(2×2, 3×3) (<see cref="WinogradTransforms"/>), or on AVX2 for maps of
/// <see cref="MinTilesF4"/> 4×4 tiles or more F(4×4, 3×3) (<see cref="WinogradF4Transforms256"/>): the output is cut into
/// 2×2 (4×4) tiles, numbered row by row, and the tiles are taken in blocks of up to 48 (24 on AVX2). For each block the kernel
/// <list type="number">
/// <item>transforms the block's input patches, channel by channel through a zero-bordered plane, into V[ξ][c][tile];</item>
/// <item>multiplies, 64 output channels at a time and for each of the 16 (36) points ξ, M[ξ] = U[ξ]·V[ξ] (U = the transformed
/// filters, [M × C], packed once) with <see cref="DirectConvTile"/> as the register tile: 8 output channels × 48 tiles,
/// every lane a tile of the block whatever the map's width (on AVX2 <see cref="DirectConvTile256"/>, 4 channels × 24
/// tiles);</item>
/// <item>transforms those products into the block's 2×2 (4×4) outputs, adding bias and residual and applying the activation.</item>
/// </list>
/// </summary>
/// <remarks>
/// Why: the window sums of a 3×3 conv take 9 multiply-adds per output and input channel; here the products take 4 per
/// output (16 per 2×2 tile), 2.25 times fewer, and the transforms only add. F(4×4, 3×3) takes 2.25 (36 per 4×4 tile),
/// for larger transforms. fp32 error: F(2×2)'s coefficients are 0, ±1 and ±½, and the tests hold it to the direct
/// kernel's tolerance; F(4×4)'s reach 8, and its error scales with the outputs' spread (see the tests' <c>AbsF4</c>).
/// Groups must be 1.
/// <para>
/// Each part works through whole blocks of its own (at least one block per core: 14×14 is 49 tiles, 25 + 24), so V and
/// the products (a block's are 16 × channels × 64 floats) stay in that core's caches, and only the input, U and the output
/// are shared. Three passes over the whole map instead, each split its own way over the pool (input by channels,
/// products by points, output by channels), measured 10–40% slower on two cores: every V and product line written by
/// one core was read by the other (128 → 128 on 28×28, p50: 361–376 µs by blocks against 413–451 µs in passes).
/// </para>
/// <para>
/// Measured on two cores against the kernels it replaces (p50 of 2 s of calls, caches warm): 3×3 128→128 on 28×28 613 /
/// 625 → 361 / 376 µs, 64→64 on 56×56 598 / 614 → 356 / 382 µs, 256→256 on 14×14 614 / 641 → 430 / 450 µs, SqueezeNet's
/// 64→256 on 13×13 124 / 126 → 105 µs. In ResNet-50 (profile, the 13 such convs) 9.72 → 8.26 ms.
/// </para>
/// <para>
/// The class skips the zeroing of locals: the F(4×4) transforms, inlined into its loops, keep their intermediate rows in
/// stack blocks of vectors, which the JIT otherwise cleared (1,152 bytes for the input transform) on every transform.
/// On two cores, ResNet-50's 3×3 64→64 on 56×56 (both parts' times summed, per call, experiment-only timers): input
/// transform 297 → 239 µs, output transform 238 → 193 µs.
/// </para>
/// </remarks>
[SkipLocalsInit]
internal sealed unsafe class WinogradConvKernel : Kernel, IParallelWork
{
    /// <summary>Output channels per register tile with AVX-512 (the <see cref="DirectConvTile"/> rows); AVX2's tile holds <see cref="DirectConvTile256.MaxRows"/>.</summary>
    private const int WideRows = 8;

    /// <summary>
    /// Tile vectors per register tile (8 × 3 = 24 accumulators with AVX-512, 4 × 3 = 12 with AVX2); a block is one register
    /// tile wide, so it holds 3 vectors of tiles: 48 tiles, or 24.
    /// </summary>
    private const int Vectors = 3;

    /// <summary>
    /// Floats added between two points' planes of V and of the products. Without it the planes are a multiple of 4 KB
    /// apart, so the 16 stores of one transform fall into one L1 set, more lines than its 12 ways. 128 × 28×28 on two
    /// cores, p50: 447 / 451 → 424 / 413 µs.
    /// </summary>
    private const int PointSkew = 32;

    /// <summary>
    /// Output channels whose products are made and transformed together: the products of all 256 channels of a block
    /// (16 points, 1 MB) pushed what the steps around the conv use out of L2.
    /// </summary>
    private const int ChunkChannels = 64;

    /// <summary>Floats read past a padded plane's last row by the input transform (34 columns from the last patch's origin, 36 with F(4×4)).</summary>
    private const int PlaneSlack = 48;

    private readonly float* _xInput, _w, _y, _bias;
    private readonly int _batch, _c, _m, _mPadded, _mBlocks;
    private readonly int _h, _wOut, _inH, _inW, _padTop;
    private readonly int _tilesH, _tilesW, _tiles;
    private readonly bool _wide;             // the AVX-512 path (else AVX2)
    private readonly bool _f4;               // F(4×4, 3×3) (AVX2 only), else F(2×2, 3×3)
    private readonly int _tile;              // outputs per side of a tile: 2, or 4 with _f4
    private readonly int _points;            // points per tile: 16, or 36 with _f4
    private readonly int _lanes;             // tiles per vector: 16, or 8
    private readonly int _rows;              // output channels per register tile: 8, or 4
    private readonly int _chunkBlocks;       // register blocks per chunk of ChunkChannels
    private readonly int _blockStride;       // tiles a block's V and products hold per channel (see the constructor)
    private readonly PaddedPlanes _planes;   // one channel's zero-bordered plane (2 · tiles + 2 square)
    private readonly int _planeRow;
    private readonly long _planeFloats, _vPoint, _productPoint, _vPart, _productPart;
    private readonly float* _plane;          // [parts][planeFloats + slack]
    private readonly float* _u;              // [ξ][m block][c][rows]
    private readonly StepWorkspace _workspace; // per part: [ξ][c][blockStride] V, then [ξ][64 channels][blockStride] products
    private readonly int* _taps;             // [c]: c · blockStride
    private readonly int* _offsets;          // [v]: lanes · v, a vector's first tile
    private readonly int* _fullLanes;        // [Vectors]: lanes
    private readonly float* _zeros;          // [rows]: the products start from zero (the bias comes after the output transform)
    private readonly float* _packedBias;     // [m]
    private readonly Epilogue _epilogue;     // residual and activation, applied by the output transform
    private readonly bool _reluOnly;         // no activation or Relu: applied in registers, else after the stores
    private readonly bool _packPerCall;
    private readonly int _parts;
    private readonly bool _splitChannels;    // every part takes all tiles and its own output channels (else its own tiles)
    private readonly delegate*<in DirectConvArgs, void>[] _tileFor;
    private float* _x, _yImage;

    /// <summary>
    /// Fewest input channels with AVX-512. With fewer, the products are short sums and the transforms cost what they save:
    /// two cores, p50, direct against Winograd, SqueezeNet's 32→128 on 27×27 141 / 144 against 141 / 175 µs, 16→64 on
    /// 55×55 147 / 150 against 155 / 183 µs, 48→192 on 13×13 92 against 90–92 µs; 64→256 on 13×13 124–126 against 105 µs.
    /// </summary>
    private const int MinChannels = 64;

    /// <summary>
    /// Fewest input channels with AVX2, where the window sums run at half the width. On the 2-core AVX2 EPYC (--layers,
    /// two alternating pairs, ModelGen µs, the channel-tile conv against Winograd): SqueezeNet's 32→128 on 27×27 544 / 538
    /// against 428 / 400; 16→64 on 55×55 (the direct conv) 528 / 528 against 511 / 504, a tie, so F(2×2) stops at 32
    /// (F(4×4) takes 16: <see cref="MinChannelsF4"/>).
    /// </summary>
    private const int MinChannelsAvx2 = 32;

    /// <summary>
    /// Fewest input channels for F(4×4, 3×3) (AVX2), whose products take a quarter of the window sums' multiply-adds, so
    /// its transforms pay off on shorter sums. On the 2-core AVX2 EPYC (--layers, fastest chunk, two alternating pairs),
    /// SqueezeNet's 16→64 on 55×55 ran 349 / 315 µs as the direct conv, 209 / 210 µs as F(4×4); ONNX Runtime 328–360 µs.
    /// </summary>
    private const int MinChannelsF4 = 16;

    /// <summary>
    /// Tile vectors per part below which an AVX2 map whose vectors do not divide evenly among the parts is split by output
    /// channels instead. A 14×14 or 13×13 map is 49 tiles, 7 vectors of 8: by tiles one core computes 4 vectors and the
    /// other 3. By channels each part transforms the input of all 49 tiles (C × 49 patches, about 1/50 of the products'
    /// work for 256 → 256) and multiplies 7 vectors for half of the channels, reading only its half of U. On the 2-core AVX2
    /// EPYC (--layers, ONNX Runtime's time over ModelGen's) 256→256 on 14×14 ran 0.80 split by tiles, 0.94 / 1.04 / 0.86
    /// split by channels. F(4×4) splits such a map by channels even when its vectors divide evenly: 14×14 and 13×13 are 16
    /// tiles, 2 vectors, and by tiles each part would read all of U (36 points) for 8 tiles. 256→256 on 14×14, one
    /// executor of each in alternating blocks: 1.234 of F(2×2)'s time split by tiles, 0.832 by channels.
    /// </summary>
    private const int SplitChannelsBelowVectors = 4;

    /// <summary>
    /// Fewest 4×4 tiles for F(4×4, 3×3), two AVX2 vectors (13×13 and 14×14 maps); smaller maps keep F(2×2, 3×3). F(4×4)
    /// reads U of 36 points, 2.25 times F(2×2)'s, for a quarter as many tiles, and in a network U comes from memory. On the
    /// 2-core AVX2 EPYC, one executor of each in alternating 0.5 s blocks (geometric mean of the blocks' medians, F(4×4)
    /// from 16 tiles over from 32): SqueezeNet 0.967 and 0.950, ResNet-50 0.981 and 0.983. From 32 tiles over F(2×2)
    /// everywhere: ResNet-50 0.989 (fastest call 44.9 → 44.0 ms), its 64→64 on 56×56 (196 tiles) 763–786 → 583–641 µs and 128→128
    /// on 28×28 (49 tiles) 752–787 → 634–755 µs in its profile. Before the transforms skipped the zeroing of their stack
    /// blocks, the 16-tile maps had measured no gain in either network.
    /// </summary>
    private const int MinTilesF4 = 16;

    /// <summary>Fewest output channels: one register tile's 8 rows at least.</summary>
    private const int MinOutputChannels = 16;

    /// <summary>
    /// Fewest 2×2 tiles (two AVX-512 vectors). A 7×7 map is 16: U (16 × 512 × 512 floats, 16 MB for 3×3 512→512) is read for
    /// 16 tiles only and streams from memory; two cores, p50, direct against Winograd: 622–660 against 650–762 µs with
    /// warm caches, 735 / 785 against 1329 / 1332 µs with the caches flushed between calls.
    /// </summary>
    private const int MinTiles = 32;

    /// <summary>True for a float, ungrouped 2-D Conv with a 3×3 kernel, stride 1 and dilation 1, enough channels and a map of at least <see cref="MinTiles"/> tiles.</summary>
    public static bool Applies(BindContext context)
    {
        if (FloatIsaSelector.Current == FloatIsa.None || !context.HasInput(1) || context.Input(0).Type != ElementType.Float) return false;
        if (context.Step.GetInt("group", 1) != 1) return false;
        int[] xs = context.Input(0).Shape, ws = context.Input(1).Shape, ys = context.Output(0).Shape;
        if (xs.Length != 4 || ws.Length != 4 || ys.Length != 4 || ws[2] != 3 || ws[3] != 3) return false;
        if (!AllOnes(context.Step.GetInts("strides")) || !AllOnes(context.Step.GetInts("dilations"))) return false;
        long tiles = (long)((ys[2] + 1) / 2) * ((ys[3] + 1) / 2);
        int minChannels = FloatIsaSelector.Current == FloatIsa.Avx512 ? MinChannels
            : TakesF4(FloatIsaSelector.Current, ys[2], ys[3]) ? MinChannelsF4 : MinChannelsAvx2;
        return ws[1] >= minChannels && ws[0] >= MinOutputChannels && tiles >= MinTiles;
    }

    /// <summary>
    /// True when a map of <paramref name="h"/> × <paramref name="w"/> outputs runs as F(4×4, 3×3) on <paramref name="isa"/>:
    /// AVX2 only, and only with <see cref="MinTilesF4"/> 4×4 tiles or more.
    /// </summary>
    internal static bool TakesF4(FloatIsa isa, int h, int w) => isa == FloatIsa.Avx2 && (long)((h + 3) / 4) * ((w + 3) / 4) >= MinTilesF4;

    private static bool AllOnes(long[]? values) => values is null || values.All(v => v == 1);

    public WinogradConvKernel(BindContext context)
    {
        var shape = ConvShape.Bind(context);
        if (shape.Groups != 1) throw context.Fail("the Winograd Conv kernel takes group=1 only");
        var g = shape.Geometry;
        if (g.Kernel[1] != 3 || g.Kernel[2] != 3 || g.Stride[1] != 1 || g.Stride[2] != 1 || g.Dilation[1] != 1 || g.Dilation[2] != 1)
        {
            throw context.Fail("the Winograd Conv kernel takes a 3×3 kernel with stride 1 and dilation 1 only");
        }
        (_batch, _c, _m) = (shape.Batch, shape.CPerGroup, shape.MPerGroup);
        (_h, _wOut, _inH, _inW, _padTop) = (g.Out[1], g.Out[2], g.In[1], g.In[2], g.PadBegin[1]);
        _xInput = context.FloatInput(0);
        _w = context.FloatInput(1);
        _y = context.FloatOutput(0);
        if (_xInput == _y) throw context.Fail("Conv cannot run in place");
        _bias = ConvShape.FloatBias(context, _m);
        _epilogue = Epilogue.FromStep(context);
        ConvResidual.AddTo(context, ref _epilogue, _y);
        _reluOnly = _epilogue.Activation is ActivationKind.None or ActivationKind.Relu;

        int concurrency = WorkerPool.Shared.Concurrency;
        _wide = FloatIsaSelector.Current == FloatIsa.Avx512;
        _f4 = TakesF4(FloatIsaSelector.Current, _h, _wOut);
        _tile = _f4 ? WinogradF4Transforms256.Tile : 2;
        _points = _f4 ? WinogradF4Transforms256.Points : WinogradTransforms.Points;
        _tilesH = (_h + _tile - 1) / _tile;
        _tilesW = (_wOut + _tile - 1) / _tile;
        _tiles = _tilesH * _tilesW;
        _lanes = _wide ? Winograd512.Lanes : Winograd256.Lanes;
        _rows = _wide ? WideRows : DirectConvTile256.MaxRows;
        _chunkBlocks = ChunkChannels / _rows;
        // A block's tiles and a vector more, which the input transform of a tile row's last vector writes past the block
        // (its lanes past the row's end are overwritten by the next row, or land here).
        _blockStride = (Vectors + 1) * _lanes;
        _mBlocks = (_m + _rows - 1) / _rows;
        _mPadded = _mBlocks * _rows;

        // The plane covers every patch (tile · tiles + 2 rows and columns), which also holds the input at its pads.
        _planes = new PaddedPlanes(g, 1, _tile * _tilesH + 2, _tile * _tilesW + 2, 1);
        _planeRow = _planes.RowFloats;
        _planeFloats = _planes.PlaneFloats + PlaneSlack;

        long work = (long)_points * _c * _mPadded * _tiles;
        // Every part gets a vector of tiles at least (14×14: 49 tiles, 25 + 24).
        _parts = work < SgemmJob.ParallelThreshold ? 1 : Math.Clamp(_tiles / _lanes, 1, concurrency);
        int tileVectors = (_tiles + _lanes - 1) / _lanes;
        _splitChannels = !_wide && _parts > 1 && (tileVectors % _parts != 0 || _f4) && tileVectors < SplitChannelsBelowVectors * _parts
            && _mBlocks >= _parts * _chunkBlocks;
        _plane = (float*)context.Scratch(_parts * _planeFloats * 4);
        _vPoint = (long)_c * _blockStride + PointSkew;
        _productPoint = (long)Math.Min(_mBlocks, _chunkBlocks) * _rows * _blockStride + PointSkew;
        _vPart = _points * _vPoint;
        _productPart = _points * _productPoint;
        // V and the products live in the executor's shared workspace (rewritten by every run, so nothing is lost there).
        _workspace = context.Workspace;
        _workspace.ReserveParts(_parts, (_vPart + _productPart) * 4);
        _taps = (int*)context.Scratch((long)_c * 4);
        for (int c = 0; c < _c; c++) _taps[c] = c * _blockStride;
        _offsets = (int*)context.Scratch(Vectors * 4);
        _fullLanes = (int*)context.Scratch(Vectors * 4);
        for (int v = 0; v < Vectors; v++)
        {
            _offsets[v] = v * _lanes;
            _fullLanes[v] = _lanes;
        }
        _zeros = (float*)context.Scratch(_rows * 4);
        _packedBias = (float*)context.Scratch((long)_mPadded * 4);
        _tileFor = new delegate*<in DirectConvArgs, void>[Vectors + 1];
        for (int v = 1; v <= Vectors; v++) _tileFor[v] = _wide ? DirectConvTile.For(_rows, v) : DirectConvTile256.For(_rows, v);

        _u = PackedConvWeights.Bind(context, _f4 ? "conv-winograd4-u" : "conv-winograd-u", $"{_m}x{_c}r{_rows}", (long)_points * _mPadded * _c, target => PackFilters((float*)target), out _packPerCall);
        if (!_packPerCall) PackBias();
    }

    /// <summary>U[ξ][m block][c][r] = (G g Gᵀ)[ξ] of the filter of output channel block · rows + r and input channel c (zero past M).</summary>
    private void PackFilters(float* target)
    {
        long pointStride = (long)_mBlocks * _c * _rows;
        for (int m = 0; m < _mPadded; m++)
        for (int c = 0; c < _c; c++)
        {
            float* u = target + ((long)(m / _rows) * _c + c) * _rows + m % _rows;
            float* g = _w + ((long)m * _c + c) * 9;
            if (m >= _m) for (int p = 0; p < _points; p++) u[p * pointStride] = 0f;
            else if (_f4) WinogradF4Transforms256.Filter(g, u, pointStride);
            else WinogradTransforms.Filter(g, u, pointStride);
        }
    }

    private void PackBias() => ConvShape.PadBias(_bias, _m, _packedBias, _mPadded);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        if (_packPerCall)
        {
            PackFilters(_u);
            PackBias();
        }
        for (int image = 0; image < _batch; image++)
        {
            _x = _xInput + (long)image * _c * _inH * _inW;
            _yImage = _y + (long)image * _m * _h * _wOut;
            if (_parts > 1) WorkerPool.Shared.Run(this, _parts);
            else Execute(0, 1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int part, int parts)
    {
        float* v = (float*)_workspace.Part(part);
        float* products = v + _vPart;
        int first = 0, end = _tiles, k0 = 0, k1 = _mBlocks;
        if (_splitChannels)
        {
            k0 = (int)WorkerPool.Split(_mBlocks, part, parts);
            k1 = (int)WorkerPool.Split(_mBlocks, part + 1, parts);
        }
        else
        {
            first = (int)WorkerPool.Split(_tiles, part, parts);
            end = (int)WorkerPool.Split(_tiles, part + 1, parts);
        }
        // The vector width is chosen here once; below it is a type parameter, so each width's loops inline its transforms.
        if (_wide) RunTiles<Winograd512>(part, v, products, first, end, k0, k1);
        else if (_f4) RunTiles<Winograd256F4>(part, v, products, first, end, k0, k1);
        else RunTiles<Winograd256>(part, v, products, first, end, k0, k1);
    }

    /// <summary>
    /// Tiles [<paramref name="first"/>, <paramref name="end"/>) in blocks of whole vectors, for register blocks of output
    /// channels [<paramref name="k0"/>, <paramref name="k1"/>).
    /// </summary>
    /// <remarks>
    /// Equal shares of the tiles, each cut into blocks of whole vectors, as few vectors and as even as they go: 28×28 is 98
    /// tiles a part, 7 vectors in blocks of 2, 2 and 3. Blocks of equal size dealt to the parts left them uneven: 28×28 was
    /// 5 blocks of 39–40 tiles (3 vectors each), 2 for one core and 3 for the other. Two cores, p50, three alternating runs:
    /// 128 on 28×28 478 / 491 / 497 → 381 / 376 / 430 µs, 64 on 56×56 (17 blocks) 426 / 409 / 443 → 398 / 371 / 469 µs.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunTiles<TW>(int part, float* v, float* products, int first, int end, int k0, int k1) where TW : struct, IWinogradWidth
    {
        int lanes = TW.Lanes;
        int vectors = (end - first + lanes - 1) / lanes, blocks = (vectors + Vectors - 1) / Vectors;
        for (int block = 0; block < blocks; block++)
        {
            int t0 = first + vectors * block / blocks * lanes, t1 = Math.Min(end, first + vectors * (block + 1) / blocks * lanes);
            RunBlock<TW>(part, v, products, t0, t1, k0, k1);
        }
    }

    /// <summary>
    /// Tiles [<paramref name="t0"/>, <paramref name="t1"/>), one block: input transform, then products and output transform
    /// of register blocks [<paramref name="kBegin"/>, <paramref name="kEnd"/>) a chunk at a time, in the part's own V and products.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunBlock<TW>(int part, float* v, float* products, int t0, int t1, int kBegin, int kEnd) where TW : struct, IWinogradWidth
    {
        TransformInput<TW>(part, v, t0, t1);
        for (int k0 = kBegin; k0 < kEnd; k0 += _chunkBlocks)
        {
            int k1 = Math.Min(kEnd, k0 + _chunkBlocks);
            Multiply(v, products, t1 - t0, k0, k1);
            int m0 = k0 * _rows, m1 = Math.Min(_m, k1 * _rows);
            TransformOutput<TW>(products, t0, t1, m0, m1);
        }
    }

    /// <summary>
    /// The patches of tiles [<paramref name="t0"/>, <paramref name="t1"/>), every channel, into <paramref name="v"/> (tile t
    /// at t − t0), each channel through the part's padded plane.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TransformInput<TW>(int part, float* v, int t0, int t1) where TW : struct, IWinogradWidth
    {
        float* plane = _plane + part * _planeFloats;
        long inPlane = (long)_inH * _inW;
        int ty0 = t0 / _tilesW, ty1 = (t1 - 1) / _tilesW;
        // The input rows under the block's patches (padded rows tile·ty0 … tile·ty1 + tile + 1); the plane's other rows are not read.
        int tile = TW.Tile;
        int h0 = Math.Max(0, tile * ty0 - _padTop), h1 = Math.Min(_inH, tile * ty1 + tile + 2 - _padTop);
        for (int c = 0; c < _c; c++)
        {
            // The borders and the slack were zeroed with the scratch and are never written.
            if (h0 < h1) _planes.Copy(_x + c * inPlane, plane, 0, 1, h0, h1);
            float* vc = v + (long)c * _blockStride - t0;
            for (int ty = ty0; ty <= ty1; ty++)
            {
                float* row = plane + (long)tile * ty * _planeRow;
                int first = ty * _tilesW;
                int tx0 = Math.Max(t0 - first, 0), tx1 = Math.Min(t1 - first, _tilesW);
                for (int tx = tx0; tx < tx1; tx += TW.Lanes)
                {
                    TW.Input(row + tile * tx, _planeRow, vc + first + tx, _vPoint);
                }
            }
        }
    }

    /// <summary>
    /// M[ξ] = U[ξ]·V[ξ] for the block's <paramref name="tiles"/> tiles and output channel blocks [<paramref name="k0"/>,
    /// <paramref name="k1"/>) (block k at k − k0 in <paramref name="products"/>): one register tile per point and block of 8
    /// output channels, the point's V (C × 48 floats) reused from L1 by every channel block.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Multiply(float* v, float* products, int tiles, int k0, int k1)
    {
        var args = new DirectConvArgs
        {
            Taps = _taps,
            K = _c,
            Base = _offsets,
            Dest = _offsets,
            Lanes = _fullLanes,
            OutSize = _blockStride,
            Rows = _rows,
            Bias = _zeros,
            Epilogue = Epilogue.Plain,
        };
        var run = _tileFor[(tiles + _lanes - 1) / _lanes];
        for (int p = 0; p < _points; p++)
        {
            args.Source = v + p * _vPoint;
            float* u = _u + (long)p * _mBlocks * _c * _rows;
            float* product = products + p * _productPoint;
            for (int k = k0; k < k1; k++)
            {
                args.Weights = u + (long)k * _c * _rows;
                // The next two slices of U (C lines; past U's end at the last tiles, harmlessly). In a network U comes from
                // memory, and one part reads all of it: 14×14 256→256, caches flushed between calls, p50 669 → 494 µs.
                args.Prefetch = (byte*)(args.Weights + (long)_c * _rows);
                args.Output = product + (long)(k - k0) * _rows * _blockStride;
                run(in args);
            }
        }
    }

    /// <summary>
    /// Output channels [<paramref name="m0"/>, <paramref name="m1"/>) (channel m at m − m0 in <paramref name="products"/>)
    /// of tiles [<paramref name="t0"/>, <paramref name="t1"/>): each tile row's run of tiles in the block into its two
    /// output rows, plus bias, residual and activation.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TransformOutput<TW>(float* products, int t0, int t1, int m0, int m1) where TW : struct, IWinogradWidth
    {
        long outPlane = (long)_h * _wOut;
        var e = _epilogue;
        bool relu = e.Activation == ActivationKind.Relu;
        int ty0 = t0 / _tilesW, ty1 = (t1 - 1) / _tilesW;
        int tile = TW.Tile;
        for (int m = m0; m < m1; m++)
        {
            float bias = _packedBias[m];
            float* pm = products + (long)(m - m0) * _blockStride - t0;
            float* y = _yImage + m * outPlane;
            for (int ty = ty0; ty <= ty1; ty++)
            {
                int oh = tile * ty;
                int rows = Math.Min(tile, _h - oh);
                int first = ty * _tilesW;
                int tx0 = Math.Max(t0 - first, 0), tx1 = Math.Min(t1 - first, _tilesW);
                for (int tx = tx0; tx < tx1; tx += TW.Lanes)
                {
                    int cols = Math.Min(tile * (tx1 - tx), _wOut - tile * tx);
                    float* top = y + (long)oh * _wOut + tile * tx;
                    TW.Output(pm + first + tx, _productPoint, bias, top, _wOut, cols, rows, e.HasResidual, e.ResidualOffset, relu);
                    if (!_reluOnly) ActivateStored(top, Math.Min(cols, tile * TW.Lanes), rows);
                }
            }
        }
    }

    /// <summary>The activations other than Relu, applied to stored outputs (inlined above they would spill the tile's vectors around their calls).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private void ActivateStored(float* top, int cols, int rows)
    {
        for (int r = 0; r < rows; r++) _epilogue.ActivateInPlace(top + (long)r * _wOut, cols);
    }
}

