using ILGPU;
using ILGPU.Runtime;
using ModelGen.Runtime.Kernels;
using ModelGen.Runtime.Kernels.Conv;
using ModelGen.Runtime.Kernels.Gemm;

namespace ModelGen.Runtime.Devices;

/// <summary>
/// Turns plan steps into device launches over the executor's one device buffer: the arena's
/// bytes first, then the fp32 form of every weight a device step reads (float16 widened, int8
/// weight-only dequantized, with <see cref="BindContext.FloatInput"/>), then values derived at
/// bind time (BatchNormalization's coefficients). A step it cannot run returns false with a
/// reason and runs on the CPU instead (<see cref="DeviceExecutor"/>). With no device it only
/// decides, for <see cref="ModelExecutors.DeviceFallbacks"/>.
/// </summary>
internal sealed unsafe class DeviceBinder
{
    /// <summary>Every op with a device kernel (some attribute or type combinations still fall back).</summary>
    public static readonly IReadOnlySet<string> SupportedOps = new HashSet<string>(StringComparer.Ordinal)
    {
        "Gemm", "MatMul", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
        "BatchNormalization", "Add", "Sub", "Mul", "Div", "Max", "Min", "Sum", "Mean", "Pow", "PRelu",
        "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Elu", "Selu", "Exp", "Log", "Sqrt", "Neg", "Abs",
        "Softplus", "HardSigmoid", "HardSwish", "Reciprocal", "Softmax", "LogSoftmax",
        "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Dropout", "Transpose", "Concat",
    };

    private const int MaxRank = 6;
    private readonly ExecutionPlan _plan;
    private readonly ModelWeights _weights;
    private readonly DeviceContext? _device;
    private readonly Dictionary<int, int> _weightOffsets = new(); // slot id -> float offset
    private readonly List<float[]> _staged = new();
    private long _stagedFloats;
    private BindContext _context = null!;
    private List<DeviceLaunch> _launches = null!;

    public DeviceBinder(ExecutionPlan plan, ModelWeights weights, DeviceContext? device)
    {
        _plan = plan;
        _weights = weights;
        _device = device;
        // The arena, rounded up to 64 bytes, then the staged weights.
        ArenaFloats = (plan.ArenaBytes + 63) / 64 * 16;
    }

    /// <summary>Floats of the device buffer the arena takes.</summary>
    public long ArenaFloats { get; }

    /// <summary>Floats of the whole device buffer.</summary>
    public long TotalFloats => ArenaFloats + _stagedFloats;

    /// <summary>Writes the staged weights, in order, for the upload after the arena.</summary>
    public void CopyStaged(Span<float> target)
    {
        int at = 0;
        foreach (var block in _staged)
        {
            block.CopyTo(target[at..]);
            at += block.Length;
        }
    }

    /// <summary>Binds step <paramref name="index"/>: its launches, or null with why it falls back.</summary>
    public List<DeviceLaunch>? Bind(int index, out string reason)
    {
        _context = new BindContext(_plan, index, null, _weights, []);
        _launches = new List<DeviceLaunch>();
        reason = "";
        var step = _context.Step;
        if (!SupportedOps.Contains(step.Op))
        {
            reason = "no device kernel";
            return null;
        }
        if (step.Find("quant") is not null)
        {
            reason = "int8 compute (the device dequantizes int8 weights, it has no int8 kernels)";
            return null;
        }
        if (step.Find("activation") is not null && step.Op is not ("Conv" or "Gemm" or "MatMul"))
        {
            reason = "a fused activation on an op other than Conv/Gemm/MatMul";
            return null;
        }
        try
        {
            string? why = step.Op switch
            {
                "Gemm" => Gemm(),
                "MatMul" => MatMul(),
                "Conv" => Conv(),
                "MaxPool" or "AveragePool" => Pool(step.Op == "MaxPool"),
                "GlobalAveragePool" or "GlobalMaxPool" => GlobalPool(step.Op == "GlobalMaxPool"),
                "BatchNormalization" => BatchNorm(),
                "Add" => Binary(BinaryCode.Add),
                "Sub" => Binary(BinaryCode.Sub),
                "Mul" => Binary(BinaryCode.Mul),
                "Div" => Binary(BinaryCode.Div),
                "Max" => Binary(BinaryCode.Max),
                "Min" => Binary(BinaryCode.Min),
                "Sum" => Binary(BinaryCode.Add),
                "Mean" => Binary(BinaryCode.Add, mean: true),
                "Pow" => Binary(BinaryCode.Pow),
                "PRelu" => Binary(BinaryCode.PRelu),
                "Softmax" or "LogSoftmax" => Softmax(step.Op == "LogSoftmax"),
                "Reshape" or "Flatten" or "Squeeze" or "Unsqueeze" or "Identity" or "Dropout" => Copy(),
                "Transpose" => Transpose(),
                "Concat" => Concat(),
                _ => Unary(),
            };
            if (why is not null)
            {
                reason = why;
                return null;
            }
        }
        catch (ModelGenException e)
        {
            // The CPU kernel binds it again and reports the same problem, or copes.
            reason = e.Message;
            return null;
        }
        return _launches;
    }

    #region Operands

    private bool IsFloat(TensorSlot slot) =>
        slot.Type == ElementType.Float
        || (slot.Storage == SlotStorage.Weights && slot.Type is ElementType.Float16 or ElementType.Int8);

    private bool FloatInputs(int count, out string? why)
    {
        why = null;
        for (int i = 0; i < count; i++)
        {
            if (!_context.HasInput(i)) continue;
            if (!IsFloat(_context.Input(i)))
            {
                why = $"input {i} is {_context.Input(i).Type.ToOnnxName()} (device kernels are fp32)";
                return false;
            }
        }
        for (int i = 0; i < _context.OutputCount; i++)
        {
            if (_context.HasOutput(i) && _context.Output(i).Type != ElementType.Float)
            {
                why = $"output {i} is {_context.Output(i).Type.ToOnnxName()} (device kernels are fp32)";
                return false;
            }
        }
        return true;
    }

    /// <summary>The float offset of input <paramref name="i"/> in the device buffer (uploading a weight once).</summary>
    private int In(int i)
    {
        var slot = _context.Input(i);
        int id = _context.Step.Inputs[i];
        if (slot.Storage == SlotStorage.Arena) return ArenaOffset(slot);
        if (_weightOffsets.TryGetValue(id, out int offset)) return offset;
        float* source = _context.FloatInput(i);
        var data = new float[slot.ElementCount];
        new ReadOnlySpan<float>(source, data.Length).CopyTo(data);
        offset = Stage(data);
        _weightOffsets[id] = offset;
        return offset;
    }

    private int Out(int i) => ArenaOffset(_context.Output(i));

    private int ArenaOffset(TensorSlot slot)
    {
        if (slot.Offset % 4 != 0) throw _context.Fail($"'{slot.Name}' is not 4-byte aligned in the arena");
        return checked((int)(slot.Offset / 4));
    }

    private int Stage(float[] data)
    {
        int offset = checked((int)(ArenaFloats + _stagedFloats));
        _staged.Add(data);
        _stagedFloats += (data.Length + 15) / 16 * 16;
        if (data.Length % 16 != 0) _staged.Add(new float[(data.Length + 15) / 16 * 16 - data.Length]);
        return offset;
    }

    private void Launch<T>(Action<ArrayView<float>, T> kernel, KernelConfig config, T parameters) where T : unmanaged
    {
        if (_device is null) return;
        _launches.Add(new DeviceLaunch<T>(_device.Kernel(kernel), config, parameters));
    }

    private KernelConfig GridStride(long count) => _device?.GridStride(count) ?? new KernelConfig(1, 1);

    private int Tile => _device?.Tile ?? GemmKernels.MaxTile;

    private KernelConfig Tiled(int columns, int rows, int depth)
    {
        int t = Tile;
        return new KernelConfig(
            new Index3D((columns + t - 1) / t, (rows + t - 1) / t, depth), new Index3D(t, t, 1));
    }

    private static UnaryFn Activation(Epilogue e) => new()
    {
        Code = (int)e.Activation, Alpha = e.ActivationAlpha, Min = e.ActivationMin, Max = e.ActivationMax,
    };

    #endregion

    #region Linear algebra

    private string? Gemm()
    {
        if (!FloatInputs(3, out var why)) return why;
        int[] a = _context.Input(0).Shape, b = _context.Input(1).Shape;
        if (a.Length != 2 || b.Length != 2) return "A and B must be 2-D";
        bool transA = _context.Step.GetInt("transA", 0) != 0, transB = _context.Step.GetInt("transB", 0) != 0;
        int m = transA ? a[1] : a[0], k = transA ? a[0] : a[1];
        int n = transB ? b[0] : b[1], kb = transB ? b[1] : b[0];
        if (k != kb || _context.Output(0).ElementCount != (long)m * n) return "shapes do not match";
        var p = new GemmParams
        {
            M = m, N = n, K = k, Tile = Tile,
            A = In(0), ARow = transA ? 1 : k, ACol = transA ? m : 1,
            B = In(1), BRow = transB ? 1 : n, BCol = transB ? k : 1,
            Y = Out(0), YRow = n,
            Alpha = _context.Step.GetFloat("alpha", 1f), Beta = _context.Step.GetFloat("beta", 1f),
            Act = Activation(Epilogue.FromStep(_context)),
        };
        if (_context.HasInput(2) && p.Beta != 0f)
        {
            int[] c = _context.Input(2).Shape;
            if (_context.Input(2).ElementCount == 1) (p.CRow, p.CCol) = (0, 0);
            else if ((c.Length == 1 && c[0] == n) || (c.Length == 2 && c[0] == 1 && c[1] == n)) (p.CRow, p.CCol) = (0, 1);
            else if (c.Length == 2 && c[0] == m && c[1] == 1) (p.CRow, p.CCol) = (1, 0);
            else if (c.Length == 2 && c[0] == m && c[1] == n) (p.CRow, p.CCol) = (n, 1);
            else return $"C{BindContext.ShapeText(c)} does not broadcast to [{m},{n}]";
            p.HasC = 1;
            p.C = In(2);
        }
        Launch(GemmKernels.Gemm, Tiled(n, m, 1), p);
        return null;
    }

    private string? MatMul()
    {
        if (!FloatInputs(3, out var why)) return why;
        int[] a = _context.Input(0).Shape, b = _context.Input(1).Shape;
        if (a.Length == 0 || b.Length == 0) return "scalar operands";
        int[] a2 = a.Length == 1 ? [1, a[0]] : a;
        int[] b2 = b.Length == 1 ? [b[0], 1] : b;
        int m = a2[^2], k = a2[^1], n = b2[^1];
        if (b2[^2] != k) return "inner dimensions differ";
        int rank = Math.Max(a2.Length, b2.Length) - 2;
        int[] batch = new int[rank];
        bool aAll = true, aNone = true, bAll = true, bNone = true;
        for (int d = 0; d < rank; d++)
        {
            int ia = d - (rank - (a2.Length - 2)), ib = d - (rank - (b2.Length - 2));
            int da = ia >= 0 ? a2[ia] : 1, db = ib >= 0 ? b2[ib] : 1;
            if (da != db && da != 1 && db != 1) return "batch dimensions do not broadcast";
            batch[d] = Math.Max(da, db);
            aAll &= da == batch[d];
            aNone &= da == 1;
            bAll &= db == batch[d];
            bNone &= db == 1;
        }
        // Each operand either has every batch dim or none (the common cases); mixed broadcasting falls back.
        if (!(aAll || aNone) || !(bAll || bNone)) return "mixed broadcasting of batch dims";
        int batches = batch.Aggregate(1, (x, y) => x * y);
        if (_context.Output(0).ElementCount != (long)batches * m * n) return "output size";
        var p = new GemmParams
        {
            M = m, N = n, K = k, Tile = Tile,
            A = In(0), ARow = k, ACol = 1, ABatch = aNone ? 0 : m * k,
            B = In(1), BRow = n, BCol = 1, BBatch = bNone ? 0 : k * n,
            Y = Out(0), YRow = n, YBatch = m * n,
            Alpha = 1f, Beta = 1f, Act = Activation(Epilogue.FromStep(_context)),
        };
        if (_context.HasInput(2))
        {
            if (_context.Input(2).ElementCount != n) return "fused bias length";
            (p.HasC, p.C, p.CRow, p.CCol) = (1, In(2), 0, 1);
        }
        if (bNone && (aAll || batches == 1))
        {
            // A's batches are consecutive [M,K] blocks and Y's [M,N] blocks: one product of batches·M rows.
            p.M = checked(batches * m);
            p.ABatch = p.YBatch = 0;
            batches = 1;
        }
        Launch(GemmKernels.Gemm, Tiled(n, p.M, batches), p);
        return null;
    }

    private string? Conv()
    {
        if (!FloatInputs(_context.Step.Inputs.Length, out var why)) return why;
        var shape = ConvShape.Bind(_context);
        var g = shape.Geometry;
        int m = shape.Groups * shape.MPerGroup;
        if (_context.HasInput(2) && _context.Input(2).ElementCount != m) return "bias length";
        bool residual = ConvResidual.Present(_context);
        int residualInput = ConvResidual.Input(_context);
        if (residual && (!_context.HasInput(residualInput) || !_context.Input(residualInput).Shape.AsSpan().SequenceEqual(_context.Output(0).Shape))) return "residual shape";
        var p = new ConvParams
        {
            CPerGroup = shape.CPerGroup, MPerGroup = shape.MPerGroup, K = shape.K, OutSize = g.OutSize,
            Groups = shape.Groups, Tile = Tile,
            InD = g.In[0], InH = g.In[1], InW = g.In[2], OutH = g.Out[1], OutW = g.Out[2],
            KD = g.Kernel[0], KH = g.Kernel[1], KW = g.Kernel[2],
            SD = g.Stride[0], SH = g.Stride[1], SW = g.Stride[2],
            PD = g.PadBegin[0], PH = g.PadBegin[1], PW = g.PadBegin[2],
            DD = g.Dilation[0], DH = g.Dilation[1], DW = g.Dilation[2],
            X = In(0), W = In(1), Y = Out(0), Bias = _context.HasInput(2) ? In(2) : -1,
            Residual = residual ? In(residualInput) : -1,
            Act = Activation(Epilogue.FromStep(_context)),
        };
        Launch(ConvKernels.Conv, Tiled(g.OutSize, shape.MPerGroup, shape.Batch * shape.Groups), p);
        return null;
    }

    #endregion

    #region Pooling and normalization

    private string? Pool(bool max)
    {
        if (!FloatInputs(1, out var why)) return why;
        if (_context.HasOutput(1)) return "MaxPool's Indices output";
        int[] xs = _context.Input(0).Shape, ys = _context.Output(0).Shape;
        if (xs.Length < 3 || xs.Length > 5 || ys.Length != xs.Length) return "rank";
        long[]? kernel = _context.Step.GetInts("kernel_shape");
        if (kernel is null || _context.Step.GetInt("storage_order", 0) != 0) return "kernel_shape or storage_order";
        bool ceil = _context.Step.GetInt("ceil_mode", 0) != 0;
        var g = WindowGeometry.Create(_context, xs[2..], ys[2..], kernel.Select(k => (int)k).ToArray(), checkOutput: true, ceilMode: ceil);
        var p = new PoolParams
        {
            Count = checked((int)_context.Output(0).ElementCount), Max = max ? 1 : 0,
            CountPad = _context.Step.GetInt("count_include_pad", 0) != 0 ? 1 : 0,
            InD = g.In[0], InH = g.In[1], InW = g.In[2], OutD = g.Out[0], OutH = g.Out[1], OutW = g.Out[2],
            KD = g.Kernel[0], KH = g.Kernel[1], KW = g.Kernel[2],
            SD = g.Stride[0], SH = g.Stride[1], SW = g.Stride[2],
            PD = g.PadBegin[0], PH = g.PadBegin[1], PW = g.PadBegin[2],
            ED = g.PadEnd[0], EH = g.PadEnd[1], EW = g.PadEnd[2],
            DD = g.Dilation[0], DH = g.Dilation[1], DW = g.Dilation[2],
            X = In(0), Y = Out(0),
        };
        Launch(PoolKernels.Pool, GridStride(p.Count), p);
        return null;
    }

    private string? GlobalPool(bool max)
    {
        if (!FloatInputs(1, out var why)) return why;
        int[] xs = _context.Input(0).Shape;
        if (xs.Length < 2) return "rank";
        int planes = xs[0] * xs[1];
        if (planes == 0 || _context.Output(0).ElementCount != planes) return "shape";
        var p = new GlobalPoolParams
        {
            Planes = planes, Size = checked((int)(_context.Input(0).ElementCount / planes)), Max = max ? 1 : 0,
            X = In(0), Y = Out(0),
        };
        Launch(PoolKernels.GlobalPool, GridStride(planes), p);
        return null;
    }

    private string? BatchNorm()
    {
        if (!FloatInputs(5, out var why)) return why;
        if (_context.Step.GetInt("training_mode", 0) != 0) return "training_mode";
        for (int i = 1; i < _context.OutputCount; i++)
        {
            if (_context.HasOutput(i)) return "training outputs";
        }
        int[] xs = _context.Input(0).Shape;
        if (xs.Length < 2) return "rank";
        int channels = xs[1];
        for (int i = 1; i <= 4; i++)
        {
            if (_context.Input(i).Storage != SlotStorage.Weights) return "parameters computed at run time";
            if (_context.Input(i).ElementCount != channels) return "parameter length";
        }
        float epsilon = _context.Step.GetFloat("epsilon", 1e-5f);
        float* scale = _context.FloatInput(1), bias = _context.FloatInput(2);
        float* mean = _context.FloatInput(3), variance = _context.FloatInput(4);
        var a = new float[channels];
        var b = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            a[c] = scale[c] / MathF.Sqrt(variance[c] + epsilon);
            b[c] = bias[c] - mean[c] * a[c];
        }
        long count = _context.Input(0).ElementCount;
        var p = new AffineParams
        {
            Count = checked((int)count), Channels = channels,
            Spatial = (int)(count / Math.Max(1L * xs[0] * channels, 1)),
            X = In(0), Y = Out(0), Scale = Stage(a), Shift = Stage(b),
        };
        Launch(ElementwiseKernels.ChannelAffine, GridStride(count), p);
        return null;
    }

    private string? Softmax(bool log)
    {
        if (!FloatInputs(1, out var why)) return why;
        int[] shape = _context.Input(0).Shape;
        int rank = shape.Length;
        long outer = 1, n = 1, inner = 1;
        if (rank > 0)
        {
            bool legacy = _context.Opset < 13;
            int axis = _context.Axis(_context.Step.GetInt("axis", legacy ? 1 : -1), rank);
            for (int d = 0; d < axis; d++) outer *= shape[d];
            if (legacy)
            {
                for (int d = axis; d < rank; d++) n *= shape[d];
            }
            else
            {
                n = shape[axis];
                for (int d = axis + 1; d < rank; d++) inner *= shape[d];
            }
        }
        var p = new SoftmaxParams
        {
            Outer = (int)outer, N = (int)n, Inner = (int)inner, X = In(0), Y = Out(0), Log = log ? 1 : 0,
        };
        Launch(SoftmaxKernels.Softmax, GridStride(outer * inner), p);
        return null;
    }

    #endregion

    #region Elementwise

    private string? Binary(int op, bool mean = false)
    {
        if (!FloatInputs(_context.InputCount, out var why)) return why;
        int count = _context.InputCount;
        if (count == 0) return "no inputs";
        var y = _context.Output(0);
        if (y.Shape.Length > MaxRank) return $"rank above {MaxRank}";
        for (int i = 2; i < count; i++)
        {
            var slot = _context.Input(i);
            if (slot.Storage == SlotStorage.Arena && slot.Offset < y.Offset + y.ByteLength && y.Offset < slot.Offset + slot.ByteLength)
            {
                return "a later input shares memory with the output";
            }
        }
        int yOffset = Out(0);
        int total = checked((int)y.ElementCount);
        var stages = new List<BinaryParams>();
        if (count == 1)
        {
            var p = Broadcast(_context.Input(0).Shape, _context.Input(0).Shape, y.Shape);
            if (p is null) return "shapes do not broadcast";
            stages.Add(p.Value with { Op = BinaryCode.Max, A = In(0), B = In(0) }); // max(x, x) = x
        }
        else
        {
            var p = Broadcast(_context.Input(0).Shape, _context.Input(1).Shape, y.Shape);
            if (p is null) return "shapes do not broadcast";
            stages.Add(p.Value with { Op = op, A = In(0), B = In(1) });
            for (int i = 2; i < count; i++)
            {
                var q = Broadcast(y.Shape, _context.Input(i).Shape, y.Shape);
                if (q is null) return "shapes do not broadcast";
                stages.Add(q.Value with { Op = op, A = yOffset, B = In(i) });
            }
        }
        foreach (var stage in stages) Launch(ElementwiseKernels.Binary, GridStride(total), stage with { Y = yOffset, Count = total });
        if (mean)
        {
            var scale = new UnaryParams { Count = total, X = yOffset, Y = yOffset, Fn = UnaryFn.Of(UnaryCode.Scale, 1f / count) };
            Launch(ElementwiseKernels.Unary, GridStride(total), scale);
        }
        return null;
    }

    /// <summary>Dims and strides of numpy broadcasting of a and b to y, right-aligned to six dims; null when they do not broadcast.</summary>
    private static BinaryParams? Broadcast(int[] a, int[] b, int[] y)
    {
        if (a.Length > y.Length || b.Length > y.Length || y.Length > MaxRank) return null;
        Span<int> dims = stackalloc int[MaxRank];
        Span<int> sa = stackalloc int[MaxRank];
        Span<int> sb = stackalloc int[MaxRank];
        dims.Fill(1);
        if (!Strides(a, y, sa) || !Strides(b, y, sb)) return null;
        for (int d = 0; d < y.Length; d++) dims[MaxRank - y.Length + d] = y[d];
        return new BinaryParams
        {
            D0 = dims[0], D1 = dims[1], D2 = dims[2], D3 = dims[3], D4 = dims[4], D5 = dims[5],
            A0 = sa[0], A1 = sa[1], A2 = sa[2], A3 = sa[3], A4 = sa[4], A5 = sa[5],
            B0 = sb[0], B1 = sb[1], B2 = sb[2], B3 = sb[3], B4 = sb[4], B5 = sb[5],
        };
    }

    private static bool Strides(int[] s, int[] y, Span<int> strides)
    {
        strides.Clear();
        int stride = 1;
        for (int d = s.Length - 1; d >= 0; d--)
        {
            int yd = y[y.Length - s.Length + d];
            if (s[d] != yd && s[d] != 1) return false;
            strides[MaxRank - s.Length + d] = s[d] == 1 ? 0 : stride;
            stride *= s[d];
        }
        return true;
    }

    private string? Unary()
    {
        if (!FloatInputs(1, out var why)) return why;
        var step = _context.Step;
        UnaryFn fn;
        switch (step.Op)
        {
            case "Relu": fn = UnaryFn.Of(UnaryCode.Relu); break;
            case "LeakyRelu": fn = UnaryFn.Of(UnaryCode.LeakyRelu, step.GetFloat("alpha", 0.01f)); break;
            case "Sigmoid": fn = UnaryFn.Of(UnaryCode.Sigmoid); break;
            case "Tanh": fn = UnaryFn.Of(UnaryCode.Tanh); break;
            case "Elu": fn = UnaryFn.Of(UnaryCode.Elu, step.GetFloat("alpha", 1f)); break;
            case "Selu":
                fn = UnaryFn.Of(UnaryCode.Selu, step.GetFloat("alpha", 1.67326319217681884765625f),
                    step.GetFloat("gamma", 1.05070102214813232421875f));
                break;
            case "Exp": fn = UnaryFn.Of(UnaryCode.Exp); break;
            case "Log": fn = UnaryFn.Of(UnaryCode.Log); break;
            case "Sqrt": fn = UnaryFn.Of(UnaryCode.Sqrt); break;
            case "Neg": fn = UnaryFn.Of(UnaryCode.Neg); break;
            case "Abs": fn = UnaryFn.Of(UnaryCode.Abs); break;
            case "Softplus": fn = UnaryFn.Of(UnaryCode.Softplus); break;
            case "HardSigmoid": fn = UnaryFn.Of(UnaryCode.HardSigmoid, step.GetFloat("alpha", 0.2f), step.GetFloat("beta", 0.5f)); break;
            case "HardSwish": fn = UnaryFn.Of(UnaryCode.HardSwish); break;
            case "Reciprocal": fn = UnaryFn.Of(UnaryCode.Reciprocal); break;
            case "Clip":
            {
                fn = UnaryFn.Of(UnaryCode.Clip);
                if (_context.Opset < 11)
                {
                    fn.Min = step.GetFloat("min", fn.Min);
                    fn.Max = step.GetFloat("max", fn.Max);
                    break;
                }
                for (int i = 1; i <= 2; i++)
                {
                    if (!_context.HasInput(i)) continue;
                    var bound = _context.Input(i);
                    if (bound.ElementCount != 1 || bound.Storage != SlotStorage.Weights) return "Clip bounds computed at run time";
                }
                if (_context.HasInput(1)) fn.Min = *_context.FloatInput(1);
                if (_context.HasInput(2)) fn.Max = *_context.FloatInput(2);
                break;
            }
            default: return "no device kernel";
        }
        long count = _context.Input(0).ElementCount;
        if (_context.Output(0).ElementCount != count) return "output size";
        var p = new UnaryParams { Count = checked((int)count), X = In(0), Y = Out(0), Fn = fn };
        Launch(ElementwiseKernels.Unary, GridStride(count), p);
        return null;
    }

    #endregion

    #region Data movement

    private string? Copy()
    {
        if (_context.Step.Op == "Dropout" && (_context.HasInput(2) || _context.HasOutput(1))) return "Dropout's training_mode input or mask output";
        var x = _context.Input(0);
        var y = _context.Output(0);
        if (x.Type != ElementType.Float || y.Type != ElementType.Float) return "not fp32";
        if (x.ElementCount != y.ElementCount) return "element counts differ";
        int source = In(0), target = Out(0);
        if (source == target) return null; // the planner gave both the same memory: nothing to do
        int count = checked((int)x.ElementCount);
        var p = new BlockCopyParams { Count = count, Block = Math.Max(count, 1), X = source, Y = target, YStride = 0 };
        Launch(TensorKernels.Blocks, GridStride(count), p);
        return null;
    }

    private string? Concat()
    {
        if (!FloatInputs(_context.InputCount, out var why)) return why;
        var y = _context.Output(0);
        int rank = y.Shape.Length;
        if (rank == 0) return "scalars";
        int axis = _context.Axis(_context.Step.GetInt("axis", 0), rank);
        long inner = 1;
        for (int d = axis + 1; d < rank; d++) inner *= y.Shape[d];
        int outBlock = checked((int)(y.Shape[axis] * inner));
        int yOffset = Out(0), at = 0;
        var launches = new List<BlockCopyParams>();
        for (int i = 0; i < _context.InputCount; i++)
        {
            var x = _context.Input(i);
            if (x.Shape.Length != rank) return "ranks differ";
            int block = checked((int)(x.Shape[axis] * inner));
            launches.Add(new BlockCopyParams
            {
                Count = checked((int)x.ElementCount), Block = Math.Max(block, 1), X = In(i), Y = yOffset + at, YStride = outBlock,
            });
            at += block;
        }
        if (at != outBlock) return "sizes along the axis do not add up";
        foreach (var p in launches)
        {
            if (p.Count > 0) Launch(TensorKernels.Blocks, GridStride(p.Count), p);
        }
        return null;
    }

    private string? Transpose()
    {
        if (!FloatInputs(1, out var why)) return why;
        var x = _context.Input(0);
        int rank = x.Shape.Length;
        if (rank > MaxRank) return $"rank above {MaxRank}";
        long[] perm = _context.Step.GetInts("perm") ?? Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        if (perm.Length != rank || perm.Distinct().Count() != rank || perm.Any(q => q < 0 || q >= rank)) return "perm";
        var stride = new int[rank];
        int s = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            stride[d] = s;
            s *= x.Shape[d];
        }
        Span<int> dims = stackalloc int[MaxRank];
        Span<int> strides = stackalloc int[MaxRank];
        dims.Fill(1);
        strides.Clear();
        for (int i = 0; i < rank; i++)
        {
            dims[MaxRank - rank + i] = x.Shape[perm[i]];
            strides[MaxRank - rank + i] = stride[perm[i]];
            if (_context.Output(0).Shape.Length != rank || _context.Output(0).Shape[i] != x.Shape[perm[i]]) return "output shape";
        }
        int source = In(0), target = Out(0);
        if (source == target && x.ElementCount > 1) return "in place";
        var p = new TransposeParams
        {
            Count = checked((int)x.ElementCount), X = source, Y = target,
            D0 = dims[0], D1 = dims[1], D2 = dims[2], D3 = dims[3], D4 = dims[4], D5 = dims[5],
            S0 = strides[0], S1 = strides[1], S2 = strides[2], S3 = strides[3], S4 = strides[4], S5 = strides[5],
        };
        Launch(TensorKernels.Transpose, GridStride(p.Count), p);
        return null;
    }

    #endregion
}
