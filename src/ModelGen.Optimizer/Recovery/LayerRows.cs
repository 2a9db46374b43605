using ModelGen.Onnx.Ir;

namespace ModelGen.Optimizer.Recovery;

/// <summary>
/// Turns one sample of a layer's input into the rows its weight matrix multiplies: the feature
/// vectors of a Gemm/MatMul input, or the im2col patches (channel × kernel tap, zero-padded) of a
/// 2-D Conv input. For a Conv, only every <see cref="PositionStride"/>-th output position is used,
/// which keeps the least-squares statistics cheap on large feature maps.
/// </summary>
internal sealed class LayerRows
{
    private readonly bool _conv;
    private readonly int _channels, _h, _w, _kh, _kw, _sh, _sw, _dh, _dw, _pt, _pl, _oh, _ow;
    private readonly int _features;

    private LayerRows(bool conv, int features, int channels = 0, int h = 0, int w = 0, int kh = 0, int kw = 0, int sh = 1, int sw = 1,
        int dh = 1, int dw = 1, int pt = 0, int pl = 0, int oh = 0, int ow = 0)
    {
        _conv = conv;
        _features = features;
        _channels = channels;
        (_h, _w, _kh, _kw, _sh, _sw, _dh, _dw, _pt, _pl, _oh, _ow) = (h, w, kh, kw, sh, sw, dh, dw, pt, pl, oh, ow);
    }

    /// <summary>Length of a row.</summary>
    public int Features => _conv ? _channels * _kh * _kw : _features;

    /// <summary>Use every this-many-th output position of a Conv.</summary>
    public int PositionStride { get; set; } = 1;

    /// <summary>Output positions per sample (before the stride).</summary>
    public int Positions => _conv ? _oh * _ow : -1;

    /// <summary>The rows of <paramref name="node"/>'s input; null (with the reason) for a form not covered.</summary>
    public static LayerRows? For(OnnxGraph graph, OnnxNode node, out string? why)
    {
        why = null;
        var x = graph.Info(node.Inputs[0])?.StaticShape();
        var y = graph.Info(node.Outputs[0])?.StaticShape();
        if (x is null || y is null)
        {
            why = "its input or output shape is not known";
            return null;
        }
        if (node.OpType != "Conv") return new LayerRows(false, x[^1]);
        if (x.Length != 4 || x[0] != 1)
        {
            why = "recovery covers 2-D Conv with batch 1 only";
            return null;
        }
        var w = graph.Initializers[node.Inputs[1]].Shape;
        int kh = w[2], kw = w[3];
        var strides = node.GetInts("strides") ?? [1, 1];
        var dil = node.GetInts("dilations") ?? [1, 1];
        var pads = node.GetInts("pads") ?? [0, 0, 0, 0];
        string autoPad = node.GetString("auto_pad", "NOTSET");
        int pt = (int)pads[0], pl = (int)pads[1];
        if (autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            int th = Math.Max(0, (y[2] - 1) * (int)strides[0] + (kh - 1) * (int)dil[0] + 1 - x[2]);
            int tw = Math.Max(0, (y[3] - 1) * (int)strides[1] + (kw - 1) * (int)dil[1] + 1 - x[3]);
            pt = autoPad == "SAME_UPPER" ? th / 2 : th - th / 2;
            pl = autoPad == "SAME_UPPER" ? tw / 2 : tw - tw / 2;
        }
        else if (autoPad == "VALID")
        {
            pt = pl = 0;
        }
        return new LayerRows(true, 0, x[1], x[2], x[3], kh, kw, (int)strides[0], (int)strides[1], (int)dil[0], (int)dil[1], pt, pl, y[2], y[3]);
    }

    /// <summary>The rows of one sample, in a fixed order (one buffer, overwritten by the next row: read each before moving on).</summary>
    public IEnumerable<double[]> Rows(float[] sample)
    {
        if (!_conv)
        {
            var row = new double[_features];
            for (int r = 0; r + _features <= sample.Length; r += _features)
            {
                for (int i = 0; i < _features; i++) row[i] = sample[r + i];
                yield return row;
            }
            yield break;
        }
        var patch = new double[Features];
        for (int p = 0; p < _oh * _ow; p += PositionStride)
        {
            int oy = p / _ow, ox = p % _ow, f = 0;
            for (int c = 0; c < _channels; c++)
            {
                for (int ky = 0; ky < _kh; ky++)
                {
                    int iy = oy * _sh - _pt + ky * _dh;
                    for (int kx = 0; kx < _kw; kx++, f++)
                    {
                        int ix = ox * _sw - _pl + kx * _dw;
                        patch[f] = iy < 0 || iy >= _h || ix < 0 || ix >= _w ? 0 : sample[(c * _h + iy) * _w + ix];
                    }
                }
            }
            yield return patch;
        }
    }
}
