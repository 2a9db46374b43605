namespace ModelGen.Runtime.Tests;

/// <summary>Straightforward scalar reference implementations, written from the ONNX operator spec.</summary>
internal static class Reference
{
    public static float[] MatMul2D(float[] a, float[] b, int m, int k, int n, bool transA = false, bool transB = false)
    {
        var y = new float[m * n];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double s = 0;
            for (int p = 0; p < k; p++)
            {
                float av = transA ? a[p * m + i] : a[i * k + p];
                float bv = transB ? b[j * k + p] : b[p * n + j];
                s += (double)av * bv;
            }
            y[i * n + j] = (float)s;
        }
        return y;
    }

    /// <summary>Element offset of an output index in an operand broadcast to the output shape (numpy rules).</summary>
    public static int BroadcastOffset(int[] outIndex, int[] shape)
    {
        int offset = 0, stride = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            int o = outIndex[outIndex.Length - shape.Length + d];
            int i = shape[d] == 1 ? 0 : o;
            offset += i * stride;
            stride *= shape[d];
        }
        return offset;
    }

    public static int[] Unravel(int flat, int[] shape)
    {
        var index = new int[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = flat % shape[d];
            flat /= shape[d];
        }
        return index;
    }

    public static float[] Broadcast(float[] a, int[] aShape, float[] b, int[] bShape, int[] yShape, Func<float, float, float> op)
    {
        var y = new float[Data.Count(yShape)];
        for (int i = 0; i < y.Length; i++)
        {
            var index = Unravel(i, yShape);
            y[i] = op(a[BroadcastOffset(index, aShape)], b[BroadcastOffset(index, bShape)]);
        }
        return y;
    }

    /// <summary>Conv over N-d (1..3 spatial dims), from the definition.</summary>
    public static float[] Conv(float[] x, int[] xs, float[] w, int[] ws, float[]? bias, int group,
        int[] strides, int[] pads, int[] dilations, int[] ys)
    {
        int rank = xs.Length - 2;
        int n = xs[0], c = xs[1], m = ws[0], cg = c / group, mg = m / group;
        var y = new float[Data.Count(ys)];
        int outSpatial = Data.Count(ys[2..]);
        int kernelSize = Data.Count(ws[2..]);
        int inSpatial = Data.Count(xs[2..]);
        for (int b = 0; b < n; b++)
        for (int oc = 0; oc < m; oc++)
        for (int o = 0; o < outSpatial; o++)
        {
            var oi = Unravel(o, ys[2..]);
            int g = oc / mg;
            double s = bias?[oc] ?? 0;
            for (int ic = 0; ic < cg; ic++)
            for (int kk = 0; kk < kernelSize; kk++)
            {
                var ki = Unravel(kk, ws[2..]);
                int flat = 0;
                bool inside = true;
                for (int d = 0; d < rank; d++)
                {
                    int pos = oi[d] * strides[d] - pads[d] + ki[d] * dilations[d];
                    if (pos < 0 || pos >= xs[2 + d]) inside = false;
                    flat = flat * xs[2 + d] + pos;
                }
                if (!inside) continue;
                float xv = x[((b * c) + g * cg + ic) * inSpatial + flat];
                float wv = w[(oc * cg + ic) * kernelSize + kk];
                s += (double)xv * wv;
            }
            y[(b * m + oc) * outSpatial + o] = (float)s;
        }
        return y;
    }

    /// <summary>Max/average pooling from the definition; pads = [begins..., ends...].</summary>
    public static float[] Pool(float[] x, int[] xs, int[] kernel, int[] strides, int[] pads, int[] dilations, int[] ys, bool max, bool countIncludePad)
    {
        int rank = xs.Length - 2;
        int planes = xs[0] * xs[1];
        int inSpatial = Data.Count(xs[2..]), outSpatial = Data.Count(ys[2..]), kernelSize = Data.Count(kernel);
        var y = new float[planes * outSpatial];
        for (int p = 0; p < planes; p++)
        for (int o = 0; o < outSpatial; o++)
        {
            var oi = Unravel(o, ys[2..]);
            float acc = max ? float.NegativeInfinity : 0;
            int count = 0, padded = 0;
            for (int kk = 0; kk < kernelSize; kk++)
            {
                var ki = Unravel(kk, kernel);
                int flat = 0;
                bool inside = true, inPad = true;
                for (int d = 0; d < rank; d++)
                {
                    int pos = oi[d] * strides[d] - pads[d] + ki[d] * dilations[d];
                    if (pos < 0 || pos >= xs[2 + d]) inside = false;
                    if (pos >= xs[2 + d] + pads[rank + d]) inPad = false;
                    flat = flat * xs[2 + d] + Math.Clamp(pos, 0, xs[2 + d] - 1);
                }
                if (inPad) padded++;
                if (!inside) continue;
                float v = x[p * inSpatial + flat];
                count++;
                acc = max ? Math.Max(acc, v) : acc + v;
            }
            y[p * outSpatial + o] = max ? acc : acc / (countIncludePad ? padded : count);
        }
        return y;
    }
}
