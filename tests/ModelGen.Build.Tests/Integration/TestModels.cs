namespace ModelGen.Build.Tests.Integration;

/// <summary>The models the integration tests compile, with seeded random weights.</summary>
internal static class TestModels
{
    /// <summary>Input [1,1,8,8] → Conv3x3(4)+Relu → MaxPool2 → Conv3x3(8)+Relu → GAP → Flatten → Gemm(3).</summary>
    public static OnnxModelDef SmallCnn(int seed = 1)
    {
        var random = new Random(seed);
        var m = new OnnxModelDef();
        m.Inputs.Add(("x", [1, 1, 8, 8]));
        m.Outputs.Add(("y", [1, 3]));
        m.Initializers.Add(("w1", [4, 1, 3, 3], Random(random, 36, 0.5f)));
        m.Initializers.Add(("b1", [4], Random(random, 4, 0.1f)));
        m.Initializers.Add(("w2", [8, 4, 3, 3], Random(random, 288, 0.3f)));
        m.Initializers.Add(("b2", [8], Random(random, 8, 0.1f)));
        m.Initializers.Add(("w3", [3, 8], Random(random, 24, 0.5f)));
        m.Initializers.Add(("b3", [3], Random(random, 3, 0.1f)));
        OnnxAttr[] conv = [new("kernel_shape", Ints: [3, 3]), new("pads", Ints: [1, 1, 1, 1]), new("strides", Ints: [1, 1])];
        m.Nodes.Add(new("Conv", ["x", "w1", "b1"], ["c1"], conv));
        m.Nodes.Add(new("Relu", ["c1"], ["r1"]));
        m.Nodes.Add(new("MaxPool", ["r1"], ["p1"], new OnnxAttr("kernel_shape", Ints: [2, 2]), new OnnxAttr("strides", Ints: [2, 2])));
        m.Nodes.Add(new("Conv", ["p1", "w2", "b2"], ["c2"], conv));
        m.Nodes.Add(new("Relu", ["c2"], ["r2"]));
        m.Nodes.Add(new("GlobalAveragePool", ["r2"], ["g"]));
        m.Nodes.Add(new("Flatten", ["g"], ["f"], new OnnxAttr("axis", Int: 1)));
        m.Nodes.Add(new("Gemm", ["f", "w3", "b3"], ["y"], new OnnxAttr("transB", Int: 1)));
        return m;
    }

    /// <summary>Input [1,4] → Gemm(5) → Relu: a second, tiny model for default naming.</summary>
    public static OnnxModelDef TinyMlp(int seed = 2)
    {
        var random = new Random(seed);
        var m = new OnnxModelDef();
        m.Inputs.Add(("features", [1, 4]));
        m.Outputs.Add(("scores", [1, 5]));
        m.Initializers.Add(("w", [4, 5], Random(random, 20, 0.5f)));
        m.Initializers.Add(("b", [5], Random(random, 5, 0.1f)));
        m.Nodes.Add(new("Gemm", ["features", "w", "b"], ["h"]));
        m.Nodes.Add(new("Relu", ["h"], ["scores"]));
        return m;
    }

    /// <summary>A Gemm whose weight has K=5 while the input has K=8.</summary>
    public static OnnxModelDef GemmShapeMismatch()
    {
        var m = new OnnxModelDef();
        m.Inputs.Add(("x", [1, 8]));
        m.Outputs.Add(("y", [1, 3]));
        m.Initializers.Add(("w", [5, 3], new float[15]));
        m.Nodes.Add(new("Gemm", ["x", "w"], ["y"]));
        return m;
    }

    /// <summary>A valid ONNX op (Det, opset 11) that the ModelGen runtime does not implement.</summary>
    public static OnnxModelDef UnsupportedOp()
    {
        var m = new OnnxModelDef();
        m.Inputs.Add(("x", [3, 3]));
        m.Outputs.Add(("y", []));
        m.Nodes.Add(new("Det", ["x"], ["y"]));
        return m;
    }

    /// <summary>
    /// Input [1,6] → Gemm(4) → y, and ArgMax(y) → label (int64 [1,1]). ModelGen has no ArgMax
    /// kernel, so the model falls back to ONNX Runtime.
    /// </summary>
    public static OnnxModelDef ArgMaxNet(int seed = 5)
    {
        var random = new Random(seed);
        var m = new OnnxModelDef();
        m.Inputs.Add(("x", [1, 6]));
        m.Outputs.Add(("y", [1, 4]));
        m.Outputs.Add(("label", [1, 1]));
        m.ValueTypes["label"] = 7; // INT64
        m.Initializers.Add(("w", [6, 4], Random(random, 24, 0.5f)));
        m.Initializers.Add(("b", [4], Random(random, 4, 0.1f)));
        m.Nodes.Add(new("Gemm", ["x", "w", "b"], ["y"]));
        m.Nodes.Add(new("ArgMax", ["y"], ["label"], new OnnxAttr("axis", Int: 1), new OnnxAttr("keepdims", Int: 1)));
        return m;
    }

    /// <summary>Input [N,8] (symbolic batch) → Gemm(16)+Relu → Gemm(3) → y [N,3].</summary>
    public static OnnxModelDef BatchMlp(int seed = 6)
    {
        var random = new Random(seed);
        var m = new OnnxModelDef();
        m.Inputs.Add(("x", [-1, 8]));
        m.Outputs.Add(("y", [-1, 3]));
        m.Initializers.Add(("w1", [8, 16], Random(random, 128, 0.5f)));
        m.Initializers.Add(("b1", [16], Random(random, 16, 0.1f)));
        m.Initializers.Add(("w2", [16, 3], Random(random, 48, 0.5f)));
        m.Initializers.Add(("b2", [3], Random(random, 3, 0.1f)));
        m.Nodes.Add(new("Gemm", ["x", "w1", "b1"], ["h"]));
        m.Nodes.Add(new("Relu", ["h"], ["r"]));
        m.Nodes.Add(new("Gemm", ["r", "w2", "b2"], ["y"]));
        return m;
    }

    public static float[] Random(Random random, int count, float scale)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++) values[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        return values;
    }

    /// <summary>
    /// Input [1,64] → Gemm(64)+Relu → Gemm(16), for the accuracy gate. Every output channel of the
    /// first Gemm has one outlier weight (30, on input feature 0) among small ones (±0.3), so its
    /// per-channel int8 scale is ~0.24 and the small weights lose most of their precision: that
    /// layer dominates the quantization error, while the second Gemm's ordinary weights lose
    /// little. Validation data keeps feature 0 near zero (see <see cref="GateNetInputs"/>), so the
    /// outlier does not blow up the activations. Large enough that weights dwarf biases and
    /// scales, so weight-size ratios are close to the element-size ratios.
    /// </summary>
    public static OnnxModelDef GateNet(int seed = 3)
    {
        const int inputs = 64, hidden = 64, outputs = 16;
        var random = new Random(seed);
        var w1 = Random(random, hidden * inputs, 0.3f);
        for (var row = 0; row < hidden; row++) w1[row * inputs] = 30f;
        var m = new OnnxModelDef();
        m.Inputs.Add(("x", [1, inputs]));
        m.Outputs.Add(("y", [1, outputs]));
        m.Initializers.Add(("w1", [hidden, inputs], w1));
        m.Initializers.Add(("b1", [hidden], Random(random, hidden, 0.1f)));
        m.Initializers.Add(("w2", [outputs, hidden], Random(random, outputs * hidden, 0.3f)));
        m.Initializers.Add(("b2", [outputs], Random(random, outputs, 0.1f)));
        m.Nodes.Add(new("Gemm", ["x", "w1", "b1"], ["h"], new OnnxAttr("transB", Int: 1)));
        m.Nodes.Add(new("Relu", ["h"], ["r"]));
        m.Nodes.Add(new("Gemm", ["r", "w2", "b2"], ["y"], new OnnxAttr("transB", Int: 1)));
        return m;
    }

    /// <summary>
    /// <paramref name="samples"/> inputs for <see cref="GateNet"/>, row-major [samples, 64]:
    /// uniform in [-1, 1], except feature 0 in [-0.001, 0.001] (it meets the outlier weights).
    /// </summary>
    public static float[] GateNetInputs(int samples, int seed = 4)
    {
        var values = Random(new Random(seed), samples * 64, 1f);
        for (var s = 0; s < samples; s++) values[s * 64] *= 0.001f;
        return values;
    }
}
