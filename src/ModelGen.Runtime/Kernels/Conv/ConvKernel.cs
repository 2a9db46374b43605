using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using ModelGen.Runtime.Kernels.Gemm;
using ModelGen.Runtime.Threading;

namespace ModelGen.Runtime.Kernels.Conv;

/// <summary>
/// ONNX Conv (1-D/2-D/3-D, groups, strides, pads, dilations, auto_pad, optional bias, fused
/// activation) as im2col + the SGEMM core: per image and group, Y_g[M/g, out] = W_g · col_g with
/// the bias and activation applied in the GEMM epilogue. im2col writes straight into the packed-B
/// layout the micro-kernel reads (<see cref="Im2ColPacker"/>: one gather, not two copies); a 1×1, stride-1, unpadded conv packs the input
/// directly. With several (image, group) units, the units are spread over the worker pool, each part
/// with its own packed-B buffer, instead of parallelizing each small GEMM. Weight matrices are packed
/// once here; all scratch is allocated here.
/// </summary>
internal sealed unsafe class ConvKernel : Kernel, IParallelWork
{
    private readonly SgemmJob[] _jobs; // one per part
    private readonly WindowGeometry _g;
    private readonly float* _x;
    private readonly float* _w;
    private readonly float* _y;
    private readonly float* _bias;
    private readonly int _batch, _groups, _cPerGroup, _mPerGroup, _k;
    private readonly bool _direct;
    private readonly bool _packWPerCall;
    private readonly float* _packedW; // all groups, each Sgemm.PackedASize(mPerGroup, k) floats
    private readonly float* _packedB; // one Sgemm.PackedBSize(k, out) buffer per part
    private readonly long _packedBSize;
    private readonly int _parts;
    private readonly Im2ColPacker? _im2col;
    private readonly SubsampledInput? _subsampled; // a strided 1×1 conv's input on the output grid, one buffer per job
    private readonly bool _splitPanels;
    private readonly bool _splitRows;   // split-panel mode, but the parts take row blocks (see the constructor)
    private readonly bool _inPlace;     // whole 64-column groups of a 1×1 conv's input are read in place (AVX-512's wide tiles)
    private readonly int _panelGroup; // column panels packed and multiplied together (see PackAndMultiply)
    private long _unit;        // split-panel mode: the unit being computed
    private float* _prepared;  // split-panel mode: its (padded) input

    /// <summary>
    /// Column panels (of 16 pixels) below which a batch-1 1×1 conv splits its product by rows (see the constructor).
    /// Measured on two cores: 13×13 512→1000 0.77 → 0.56 ms and 14×14 256→1024 0.39 → 0.30 ms with rows; at 28×28
    /// (49 panels) rows lose, 0.59 → 0.64 ms for 512→256, as each part then streams the whole 1.6 MB input.
    /// Without AVX-512 the input cannot be read in place, and each part packs all of it into its own buffer first (the
    /// packing runs on both cores at once, and each core then reads its copy from its own cache); see
    /// <see cref="MinRowsPackingAll"/>.
    /// </summary>
    private const int SplitRowsBelowPanels = 16;

    /// <summary>
    /// Without AVX-512, a 1×1 conv whose output rows are whole 16-float panels (28×28, 56×56: every row of its input starts
    /// on a cache line) reads its input in place as B for those panels (<see cref="Sgemm.UnpackedPanels256"/>), instead of
    /// packing a copy of it every call.
    /// </summary>
    private readonly bool _unpackedPanels;

    /// <summary>
    /// Fewest output channels for which split-row parts that pack all of the input each (no AVX-512) beat split panels: the
    /// packing is the same for every part, so it pays only when each part's rows are many, and only while each part's copy
    /// stays under <see cref="PackedBGroupBytes"/>. Measured on the 2-core AVX2 EPYC: in SqueezeNet (profile, fastest call
    /// of each step, two alternating pairs) its 1×1 512→1000 on 13×13 1130 / 1127 → 1072 / 1039 µs, its 512→64 90 / 88 →
    /// 103 / 102 µs; alone (--layers, three alternating pairs, ONNX Runtime's time over ModelGen's, split panels → split
    /// rows) 512→1000 0.82 / 0.80 / 0.78 → 0.92 / 0.81 / 0.87, and with copies of 832 KB and 512 KB, ResNet-50's 1024→256
    /// on 14×14 0.81 / 1.04 / 1.07 → 0.94 / 0.86 / 0.81 and 2048→512 on 7×7 0.85 / 0.83 / 0.82 → 0.82 / 0.73 / 0.72.
    /// </summary>
    private const int MinRowsPackingAll = 256;

    /// <summary>Target size of one group of packed B panels: about half of a Zen 4/5 or recent Intel core's L2.</summary>
    private const long PackedBGroupBytes = 512 * 1024;

    public ConvKernel(BindContext context)
    {
        var xSlot = context.Input(0);
        var wSlot = context.Input(1);
        var ySlot = context.Output(0);
        int[] xs = xSlot.Shape;
        var shape = ConvShape.Bind(context);
        (_batch, _groups, _cPerGroup, _mPerGroup, _g, _k) =
            (shape.Batch, shape.Groups, shape.CPerGroup, shape.MPerGroup, shape.Geometry, shape.K);
        int m = _groups * _mPerGroup;

        _x = context.FloatInput(0);
        _w = context.FloatInput(1);
        _y = context.FloatOutput(0);
        _bias = ConvShape.FloatBias(context, m);

        bool oneByOne = _g.KernelSize == 1;
        for (int d = 0; d < WindowGeometry.Rank; d++)
        {
            oneByOne &= _g.Stride[d] == 1 && _g.PadBegin[d] == 0 && _g.PadEnd[d] == 0;
        }
        // A strided, unpadded 1×1 conv multiplies its input subsampled onto the output grid the same way.
        bool subsample = !oneByOne && SubsampledInput.Applies(_g);
        _direct = oneByOne || subsample;
        int outSize = _g.OutSize;

        // Units of (image, group) run on the pool when there are enough of them and enough work in total;
        // then each unit's GEMM runs on its part's thread (the pool runs nested calls inline).
        long units = (long)_batch * _groups;
        long work = units * _mPerGroup * outSize * _k;
        // With fewer units than threads (batch 1), each part instead packs and multiplies its own range of
        // column panels: one dispatch per unit covers both im2col and the GEMM, with no barrier between.
        int panels = Sgemm.ColumnPanels(outSize);
        bool parallel = work >= SgemmJob.ParallelThreshold;
        _splitPanels = parallel && units < WorkerPool.Shared.Concurrency && panels >= 2;
        _parts = !parallel ? 1 : _splitPanels ? Math.Min(WorkerPool.Shared.Concurrency, panels) : (int)Math.Min(WorkerPool.Shared.Concurrency, units);
        // A 1×1 conv on a small map (ResNet's 14×14, SqueezeNet's 13×13: 11–13 column panels) splits unevenly by panels
        // (7 + 6 panels, and the parts' in-place 64-column groups differ more), so its parts take row blocks of the
        // weights instead: every part multiplies all columns, read in place; only the columns after the last whole
        // 64-column group are packed, once, before the parts start.
        int rowBlocks = Sgemm.RowBlocks(_mPerGroup);
        _inPlace = Avx512F.IsSupported;
        _unpackedPanels = !_inPlace && _direct && outSize % Sgemm.NR == 0;
        _splitRows = _splitPanels && _direct && panels < SplitRowsBelowPanels && rowBlocks >= 4 * _parts
            && (_inPlace || _mPerGroup >= MinRowsPackingAll && Sgemm.PackedBSize(_k, outSize) * 4 < PackedBGroupBytes);
        if (_splitRows) _parts = Math.Min(WorkerPool.Shared.Concurrency, rowBlocks);

        // A group's packed B ([K, 16·group] floats) should stay in L2 with room for the weights' block: about 512 KB,
        // in whole wide tiles (4 panels), at least one.
        _panelGroup = Math.Max(4, (int)(PackedBGroupBytes / ((long)_k * Sgemm.NR * 4)) / 4 * 4);

        var epilogue = Epilogue.FromStep(context);
        ConvResidual.AddTo(context, ref epilogue, _y);
        int jobs = _splitPanels ? 1 : _parts; // split-panel parts share one packed B
        _jobs = new SgemmJob[jobs];
        _packedBSize = Sgemm.PackedBSize(_k, outSize);
        // Split-row parts that pack all of B each pack their own copy.
        int packedBs = _splitRows && !_inPlace ? _parts : jobs;
        _packedB = (float*)context.Scratch(_packedBSize * packedBs * 4);
        if (subsample) _subsampled = new SubsampledInput(context, _g, _cPerGroup, jobs);
        if (!_direct)
        {
            if (!Im2ColPacker.Fits(_g, _cPerGroup)) throw context.Fail($"the padded input of one group ({_cPerGroup} channels of {BindContext.ShapeText(xs[2..])}) is too large for this kernel (over 2^29 elements); split the model's input");
            _im2col = new Im2ColPacker(context, _g, _cPerGroup, jobs);
        }
        for (int part = 0; part < jobs; part++)
        {
            _jobs[part] = new SgemmJob
            {
                M = _mPerGroup, N = outSize, K = _k, Ldc = outSize, Epilogue = epilogue,
                PackedB = _packedB + part * _packedBSize,
            };
        }

        long packedWBytes = Sgemm.PackedASize(_mPerGroup, _k) * _groups * 4;
        _packWPerCall = wSlot.Storage == SlotStorage.Arena;
        if (_packWPerCall)
        {
            _packedW = (float*)context.Scratch(packedWBytes);
        }
        else
        {
            // Packed weights depend only on the weights, so every executor of the model shares one
            // copy: predictor instances, and the batch sizes of a batched predictor.
            _packedW = (float*)context.Weights.Derived(
                $"conv-packed-w@{wSlot.Offset}:{wSlot.Type}:{_groups}x{_mPerGroup}x{_k}", packedWBytes, target => PackWeights((float*)target));
        }
    }

    private void PackWeights(float* target)
    {
        long packed = Sgemm.PackedASize(_mPerGroup, _k);
        for (int g = 0; g < _groups; g++)
        {
            Sgemm.PackA(_w + (long)g * _mPerGroup * _k, _k, 1, _mPerGroup, _k, target + g * packed);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        if (_packWPerCall) PackWeights(_packedW);
        if (_splitPanels)
        {
            long units = (long)_batch * _groups;
            for (_unit = 0; _unit < units; _unit++)
            {
                float* x = _x + _unit * _cPerGroup * _g.InSize;
                _prepared = _direct ? x : _im2col!.Prepare(x, 0);
                if (_splitRows && _subsampled != null)
                {
                    // Every part multiplies all columns: subsample them all first.
                    _subsampled.Columns(x, _subsampled.Buffer(0), 0, _g.OutSize);
                    _prepared = _subsampled.Buffer(0);
                }
                var job = _jobs[0];
                int g = (int)(_unit % _groups);
                job.PackedA = _packedW + g * Sgemm.PackedASize(_mPerGroup, _k);
                job.C = _y + _unit * _mPerGroup * _g.OutSize;
                job.Epilogue.RowBias = _bias == null ? null : _bias + g * _mPerGroup;
                if (_splitRows && _inPlace) PackRemainder(job, _prepared);
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
        if (_splitRows)
        {
            RowRange(part, parts);
            return;
        }
        if (_splitPanels)
        {
            PanelRange(part, parts);
            return;
        }
        long units = (long)_batch * _groups;
        long begin = WorkerPool.Split(units, part, parts), end = WorkerPool.Split(units, part + 1, parts);
        var job = _jobs[part];
        long packed = Sgemm.PackedASize(_mPerGroup, _k);
        int panels = Sgemm.ColumnPanels(_g.OutSize);
        for (long unit = begin; unit < end; unit++)
        {
            int g = (int)(unit % _groups);
            float* x = _x + unit * _cPerGroup * _g.InSize;
            job.PackedA = _packedW + g * packed;
            job.C = _y + unit * _mPerGroup * _g.OutSize;
            job.Epilogue.RowBias = _bias == null ? null : _bias + g * _mPerGroup;
            PackAndMultiply(job, _direct ? x : _im2col!.Prepare(x, part), 0, panels, _subsampled?.Buffer(part));
        }
    }

    /// <summary>Split-row mode: packs the columns after the last whole 64-column group of the 1×1 conv's input (read in place otherwise).</summary>
    private void PackRemainder(SgemmJob job, float* source)
    {
        int n = _g.OutSize, col0 = n / Sgemm.WideColumns * Sgemm.WideColumns;
        if (col0 < n) Sgemm.PackB(source + col0, n, 1, _k, n - col0, job.PackedB + (long)col0 * _k);
    }

    /// <summary>Split-row mode: this part's row blocks of the current unit, over every column.</summary>
    private void RowRange(int part, int parts)
    {
        var job = _jobs[0];
        int rowBlocks = Sgemm.RowBlocks(_mPerGroup);
        int b0 = (int)WorkerPool.Split(rowBlocks, part, parts), b1 = (int)WorkerPool.Split(rowBlocks, part + 1, parts);
        if (b0 >= b1) return;
        int r0 = b0 * Sgemm.MR, rows = Math.Min(_mPerGroup, b1 * Sgemm.MR) - r0;
        int n = _g.OutSize, groups = _inPlace ? n / Sgemm.WideColumns : 0, panels = Sgemm.ColumnPanels(n);
        float* packedB = job.PackedB;
        // AVX2 reads the whole 16-column panels in place and packs only a last, partial one, into the part's own buffer.
        int unpacked = _unpackedPanels ? n / Sgemm.NR : 0;
        if (!_inPlace)
        {
            packedB = _packedB + part * _packedBSize;
            int col0 = unpacked * Sgemm.NR;
            if (col0 < n) Sgemm.PackB(_prepared + col0, n, 1, _k, n - col0, packedB + (long)col0 * _k);
        }
        // Rows are relative to the part's first row from here on: shift what the epilogue indexes by row.
        var e = job.Epilogue;
        if (e.RowBias != null) e.RowBias += r0;
        float* a = job.PackedA + (long)r0 * _k; // packed A is row-block-major, MR·K floats per block
        float* c = job.C + (long)r0 * n;
        if (groups > 0) Sgemm.UnpackedColumns(a, _prepared, n, c, n, rows, _k, e, 0, groups);
        if (unpacked > 0) Sgemm.UnpackedPanels256(a, _prepared, n, c, n, rows, _k, e, 0, unpacked);
        int packedFrom = groups * Sgemm.WidePanelCount + unpacked;
        if (packedFrom >= panels) return;
        if (Sgemm.UsesBlocking(rows, _k, e)) Sgemm.BlockedPanels(a, packedB, c, n, rows, n, _k, e, packedFrom, panels);
        else
        {
            int blocks = Sgemm.RowBlocks(rows);
            Sgemm.Tiles(a, packedB, c, n, rows, n, _k, e, packedFrom * blocks, panels * blocks);
        }
    }

    /// <summary>Split-panel mode: packs and multiplies this part's column panels of the current unit.</summary>
    private void PanelRange(int part, int parts)
    {
        int panels = Sgemm.ColumnPanels(_g.OutSize);
        int p0 = (int)WorkerPool.Split(panels, part, parts), p1 = (int)WorkerPool.Split(panels, part + 1, parts);
        if (p0 < p1) PackAndMultiply(_jobs[0], _prepared, p0, p1, _subsampled?.Buffer(0));
    }

    /// <summary>
    /// Packs and multiplies column panels [<paramref name="p0"/>, <paramref name="p1"/>) of one unit on this thread,
    /// <see cref="_panelGroup"/> panels at a time, so each group's packed B is multiplied while it is still in L2
    /// instead of the whole unrolled image (for a 3×3 conv on 56×56×64, 7 MB) going out to memory and back.
    /// </summary>
    /// <param name="job">The product's operands and epilogue, for this unit.</param>
    /// <param name="source">The unit's input (or its padded copy, for im2col).</param>
    /// <param name="p0">The first column panel.</param>
    /// <param name="p1">The column panel after the last.</param>
    /// <param name="subsampleInto">For a strided 1×1 conv, where each group's columns of the subsampled input go (and are then read from); else null.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackAndMultiply(SgemmJob job, float* source, int p0, int p1, float* subsampleInto)
    {
        int n = _g.OutSize;
        bool blocked = Sgemm.UsesBlocking(_mPerGroup, _k, job.Epilogue);
        int rowBlocks = Sgemm.RowBlocks(_mPerGroup);
        for (int g0 = p0; g0 < p1; g0 += _panelGroup)
        {
            int g1 = Math.Min(p1, g0 + _panelGroup);
            int packedFrom = g0; // panels [packedFrom, g1) are multiplied from packed B
            if (_direct)
            {
                float* b = source;
                if (subsampleInto != null)
                {
                    _subsampled!.Columns(source, subsampleInto, g0 * Sgemm.NR, Math.Min(n, g1 * Sgemm.NR));
                    b = subsampleInto;
                }
                // 1x1, stride 1, no pads (dilation is irrelevant): B is the input itself (or its subsampled copy), [C/g, spatial].
                // Whole 64-column groups read it in place; the rest is packed.
                int inPlace = _inPlace ? (Math.Min(n, g1 * Sgemm.NR) - g0 * Sgemm.NR) / Sgemm.WideColumns : 0;
                if (inPlace > 0)
                {
                    Sgemm.UnpackedColumns(job.PackedA, b, n, job.C, n, _mPerGroup, _k, job.Epilogue, g0 * Sgemm.NR, inPlace);
                    packedFrom += inPlace * Sgemm.WidePanelCount;
                }
                // AVX2: the group's whole 16-column panels in place; only a last, partial panel is packed.
                int whole = _unpackedPanels ? Math.Min(g1, n / Sgemm.NR) - packedFrom : 0;
                if (whole > 0)
                {
                    Sgemm.UnpackedPanels256(job.PackedA, b, n, job.C, n, _mPerGroup, _k, job.Epilogue, packedFrom * Sgemm.NR, whole);
                    packedFrom += whole;
                }
                if (packedFrom >= g1) continue;
                int col0 = packedFrom * Sgemm.NR;
                Sgemm.PackB(b + col0, n, 1, _k, Math.Min(n, g1 * Sgemm.NR) - col0, job.PackedB + (long)col0 * _k);
            }
            else
            {
                _im2col!.PackPanels(source, job.PackedB, g0, g1);
            }
            if (blocked) Sgemm.BlockedPanels(job.PackedA, job.PackedB, job.C, n, _mPerGroup, n, _k, job.Epilogue, packedFrom, g1);
            else Sgemm.Tiles(job.PackedA, job.PackedB, job.C, n, _mPerGroup, n, _k, job.Epilogue, packedFrom * rowBlocks, g1 * rowBlocks);
        }
    }
}
