using System.Numerics;
using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels.Tensor;

namespace ModelGen.Runtime.Kernels.Resize;

/// <summary>
/// Resize / opset-10 Resize (fp32): nearest, linear and cubic interpolation (all of ONNX's
/// coordinate transformation and nearest rounding modes, cubic_coeff_a, exclude_outside,
/// antialias, axes, keep_aspect_ratio_policy), from constant scales or sizes. N-D interpolation
/// is separable, so it runs as one 1-D pass per changed axis, innermost axis first (the ONNX
/// reference's order), each output row a weighted sum of a few input rows (SIMD over the
/// inner dimensions). Passes ping-pong between two scratch buffers; the last writes the output.
/// </summary>
internal sealed unsafe class ResizeKernel : Kernel
{
    private readonly float* _x, _y, _bufferA, _bufferB;
    private readonly Pass[] _passes;
    private readonly long _count;
    private readonly float _extrapolation;

    private sealed record Pass(ResizeAxisWeights Weights, long Outer, long InLength, long Inner);

    public ResizeKernel(BindContext c)
    {
        var x = c.Input(0);
        var y = c.Output(0);
        int rank = x.Shape.Length;
        string mode = c.Step.GetString("mode", "nearest");
        if (mode is not ("nearest" or "linear" or "cubic")) throw c.Fail($"mode '{mode}' is not supported (nearest, linear, cubic)");
        string transform = c.Opset < 11 ? "asymmetric" : c.Step.GetString("coordinate_transformation_mode", "half_pixel");
        if (transform is not ("half_pixel" or "half_pixel_symmetric" or "pytorch_half_pixel" or "align_corners" or "asymmetric" or "tf_crop_and_resize"))
        {
            throw c.Fail($"coordinate_transformation_mode '{transform}' is not supported");
        }
        string nearest = c.Step.GetString("nearest_mode", "round_prefer_floor");
        if (nearest is not ("round_prefer_floor" or "round_prefer_ceil" or "floor" or "ceil")) throw c.Fail($"nearest_mode '{nearest}' is not supported");
        var settings = new ResizeAxisWeights.Settings(mode, transform, nearest, c.Step.GetFloat("cubic_coeff_a", -0.75f),
            c.Step.GetInt("exclude_outside", 0) != 0, c.Step.GetInt("antialias", 0) != 0);
        _extrapolation = c.Step.GetFloat("extrapolation_value", 0f);

        int[] axes = (c.Step.GetInts("axes") ?? Enumerable.Range(0, rank).Select(i => (long)i).ToArray())
            .Select(a => c.Axis(a, rank, "axes")).ToArray();
        float[]? roi = c.Opset < 11 ? null : ConstantInputs.Floats(c, 1, "roi");
        float[]? scales = ConstantInputs.Floats(c, c.Opset < 11 ? 1 : 2, "scales");
        long[]? sizes = c.Opset < 11 ? null : ConstantInputs.Int64s(c, 3, "sizes");
        if (scales is { Length: 0 }) scales = null;
        if (sizes is { Length: 0 }) sizes = null;
        if ((scales is null) == (sizes is null)) throw c.Fail("exactly one of scales and sizes must be given");

        var scale = new double[rank];
        Array.Fill(scale, 1.0);
        if (scales is not null)
        {
            if (scales.Length != axes.Length) throw c.Fail($"scales has {scales.Length} values for {axes.Length} axes");
            for (int k = 0; k < axes.Length; k++)
            {
                if (!(scales[k] > 0)) throw c.Fail($"scale {scales[k]} must be positive");
                scale[axes[k]] = scales[k];
            }
        }
        else
        {
            if (sizes!.Length != axes.Length) throw c.Fail($"sizes has {sizes.Length} values for {axes.Length} axes");
            string policy = c.Step.GetString("keep_aspect_ratio_policy", "stretch");
            var ratios = axes.Select((a, k) => (double)sizes[k] / x.Shape[a]).ToArray();
            for (int k = 0; k < axes.Length; k++)
            {
                scale[axes[k]] = policy switch
                {
                    "stretch" => ratios[k],
                    "not_larger" => ratios.Min(),
                    "not_smaller" => ratios.Max(),
                    _ => throw c.Fail($"keep_aspect_ratio_policy '{policy}' is not supported"),
                };
            }
        }
        if (y.Shape.Length != rank) throw c.Fail("output rank differs from the input's");

        // Innermost axis first, as the ONNX reference interpolates.
        var passes = new List<Pass>();
        var shape = x.Shape.ToArray();
        long largest = x.ElementCount;
        for (int d = rank - 1; d >= 0; d--)
        {
            int k = Array.IndexOf(axes, d);
            double start = 0, end = 1;
            if (roi is { Length: > 0 } && k >= 0)
            {
                if (roi.Length != 2 * axes.Length) throw c.Fail($"roi has {roi.Length} values, expected {2 * axes.Length}");
                start = roi[k];
                end = roi[k + axes.Length];
            }
            var weights = ResizeAxisWeights.Create(shape[d], y.Shape[d], scale[d], start, end, settings);
            if (weights.IsIdentity) continue;
            long outer = 1, inner = 1;
            for (int i = 0; i < d; i++) outer *= shape[i];
            for (int i = d + 1; i < rank; i++) inner *= shape[i];
            passes.Add(new Pass(weights, outer, shape[d], inner));
            shape[d] = y.Shape[d];
            largest = Math.Max(largest, shape.Aggregate(1L, (a, b) => a * b));
        }
        if (!shape.SequenceEqual(y.Shape)) throw c.Fail($"output shape {BindContext.ShapeText(y.Shape)} does not match the resized input");
        _passes = passes.ToArray();
        _count = y.ElementCount;
        _x = c.FloatInput(0);
        _y = c.FloatOutput(0);
        if (_passes.Length > 1)
        {
            _bufferA = (float*)c.Scratch(largest * sizeof(float));
            _bufferB = (float*)c.Scratch(largest * sizeof(float));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        if (_passes.Length == 0)
        {
            Buffer.MemoryCopy(_x, _y, _count * sizeof(float), _count * sizeof(float));
            return;
        }
        float* src = _x;
        for (int p = 0; p < _passes.Length; p++)
        {
            float* dst = p == _passes.Length - 1 ? _y : (p % 2 == 0 ? _bufferA : _bufferB);
            Run(_passes[p], src, dst);
            src = dst;
        }
    }

    private void Run(Pass pass, float* src, float* dst)
    {
        var w = pass.Weights;
        long inner = pass.Inner;
        int taps = w.Taps;
        int width = Vector<float>.Count;
        fixed (int* indices = w.Indices)
        fixed (float* weights = w.Weights)
        {
            for (long o = 0; o < pass.Outer; o++)
            {
                float* from = src + o * pass.InLength * inner;
                for (int j = 0; j < w.OutputLength; j++)
                {
                    float* to = dst + (o * w.OutputLength + j) * inner;
                    if (w.Extrapolate[j])
                    {
                        new Span<float>(to, (int)inner).Fill(_extrapolation);
                        continue;
                    }
                    int* idx = indices + j * taps;
                    float* wt = weights + j * taps;
                    long i = 0;
                    for (; i <= inner - width; i += width)
                    {
                        var acc = Vector<float>.Zero;
                        for (int k = 0; k < taps; k++) acc += Vector.Load(from + idx[k] * inner + i) * wt[k];
                        acc.Store(to + i);
                    }
                    for (; i < inner; i++)
                    {
                        float acc = 0;
                        for (int k = 0; k < taps; k++) acc += from[idx[k] * inner + i] * wt[k];
                        to[i] = acc;
                    }
                }
            }
        }
    }
}
