namespace ModelGen.Generator.Tests;

/// <summary>
/// Hand-written <c>.mgspec</c> texts for the tests, in the format SpecWriter documents.
/// Sizes and offsets are consistent (the reader checks them), so each is a spec the optimizer could write.
/// </summary>
internal static class TestSpecs
{
    private const string Sha = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// <summary>784 -> 16 -> 10 MLP (Gemm with fused Relu, then Gemm). Weights: 784*16*4 + 64 + 160*4 + 40.</summary>
    public static string Mlp =>
        "modelgen-spec 1\n" +
        $"model name=\"Mlp\" source=\"mlp.onnx\" source-sha256=\"{Sha}\" weights-sha256=\"{Sha}\" weights-bytes=50920 arena-bytes=3200 ir-version=7 opset=13 producer=\"pytorch\" producer-version=\"2.1.0\"\n" +
        "doc \"A two-layer perceptron for MNIST.\"\n" +
        "slot id=0 name=\"input\" type=float shape=[1,784] arena=0\n" +
        "slot id=1 name=\"fc1.weight\" type=float shape=[16,784] weights=0\n" +
        "slot id=2 name=\"fc1.bias\" type=float shape=[16] weights=50176\n" +
        "slot id=3 name=\"hidden\" type=float shape=[1,16] arena=3136\n" +
        "slot id=4 name=\"fc2.weight\" type=float shape=[10,16] weights=50240\n" +
        "slot id=5 name=\"fc2.bias\" type=float shape=[10] weights=50880\n" +
        "slot id=6 name=\"logits\" type=float shape=[1,10] arena=0\n" +
        "input name=\"input\" slot=0 doc=\"Flattened 28x28 image, values in [0, 1].\"\n" +
        "output name=\"logits\" slot=6 doc=\"\"\n" +
        "step op=Gemm name=\"fc1\" in=[0,1,2] out=[3] @transB=int:1 @alpha=float:1 @activation=string:\"Relu\"\n" +
        "step op=Gemm name=\"fc2\" in=[3,4,5] out=[6] @transB=int:1 @alpha=float:1\n";

    /// <summary>The MLP with a symbolic batch: every arena slot scales along axis 0, up to 64 samples.</summary>
    public static string BatchedMlp =>
        Mlp.Replace("producer-version=\"2.1.0\"\n", "producer-version=\"2.1.0\" max-batch=64\n")
            .Replace("arena=0\n", "arena=0 batch-axis=0\n")
            .Replace("arena=3136\n", "arena=3136 batch-axis=0\n");

    /// <summary>A model ONNX Runtime runs (it holds TopK): input and output slots only, the weights are the .onnx bytes.</summary>
    public static string OnnxRuntimeTopK =>
        "modelgen-spec 1\n" +
        $"model name=\"TopKNet\" source=\"topk.onnx\" source-sha256=\"{Sha}\" weights-sha256=\"{Sha}\" weights-bytes=731 arena-bytes=128 ir-version=8 opset=13 producer=\"\" producer-version=\"\" engine=onnxruntime max-batch=16\n" +
        "doc \"\"\n" +
        "slot id=0 name=\"x\" type=float shape=[1,10] arena=0 batch-axis=0\n" +
        "slot id=1 name=\"values\" type=float shape=[1,3] arena=64 batch-axis=0\n" +
        "input name=\"x\" slot=0 doc=\"\"\n" +
        "output name=\"values\" slot=1 doc=\"The three largest activations.\"\n";

    /// <summary>A small CNN like mnist-8: Conv+Relu, MaxPool, Reshape, Gemm; every attribute kind.</summary>
    public static string Cnn =>
        "modelgen-spec 1\n" +
        $"model name=\"Cnn\" source=\"models/mnist-8.onnx\" source-sha256=\"{Sha}\" weights-sha256=\"{Sha}\" weights-bytes=126208 arena-bytes=28736 ir-version=3 opset=8 producer=\"CNTK\" producer-version=\"2.5.1\"\n" +
        "doc \"\"\n" +
        "slot id=0 name=\"Input3\" type=float shape=[1,1,28,28] arena=0\n" +
        "slot id=1 name=\"Parameter5\" type=float shape=[8,1,5,5] weights=0\n" +
        "slot id=2 name=\"Parameter6\" type=float shape=[8] weights=832\n" +
        "slot id=3 name=\"ReLU32_Output_0\" type=float shape=[1,8,28,28] arena=3136\n" +
        "slot id=4 name=\"Pooling66_Output_0\" type=float shape=[1,8,14,14] arena=0\n" +
        "slot id=5 name=\"shape\" type=int64 shape=[2] weights=896\n" +
        "slot id=6 name=\"Pooling66_Output_0_reshape0\" type=float shape=[1,1568] arena=6272\n" +
        "slot id=7 name=\"Parameter193\" type=float shape=[1568,10] weights=960\n" +
        "slot id=8 name=\"Parameter194\" type=float shape=[1,10] weights=63744\n" +
        "slot id=9 name=\"Plus214_Output_0\" type=float shape=[1,10] arena=12544\n" +
        "input name=\"Input3\" slot=0 doc=\"\"\n" +
        "output name=\"Plus214_Output_0\" slot=9 doc=\"\"\n" +
        "step op=Conv name=\"Convolution28\" in=[0,1,2] out=[3] @kernel_shape=ints:[5,5] @strides=ints:[1,1] @pads=ints:[2,2,2,2] @dilations=ints:[1,1] @group=int:1 @activation=string:\"Relu\"\n" +
        "step op=MaxPool name=\"Pooling66\" in=[3] out=[4] @kernel_shape=ints:[2,2] @strides=ints:[2,2] @pads=ints:[0,0,0,0]\n" +
        "step op=Reshape name=\"Times212_reshape0\" in=[4,5] out=[6]\n" +
        "step op=Gemm name=\"Times212\" in=[6,7,8] out=[9] @alpha=float:1 @beta=float:1 @activation_params=floats:[0.1,-2.5E-05,inf,-inf,nan] @empty=ints:[]\n";

    /// <summary>Tensor names that need escaping, and docs that try to break out of comments.</summary>
    public static string Names =>
        "modelgen-spec 1\n" +
        "model name=\"Names\" source=\"we\\\"ird <&> */.onnx\" source-sha256=\"\" weights-sha256=\"\" weights-bytes=0 arena-bytes=64 ir-version=8 opset=17 producer=\"\" producer-version=\"\"\n" +
        "doc \"Line one </summary> & <b>\\n*/ line two\\r\\n\\u2028third \\\"quoted\\\"\"\n" +
        "slot id=0 name=\"class\" type=float shape=[1] arena=0\n" +
        "slot id=1 name=\"input.1\" type=float shape=[1] arena=4\n" +
        "slot id=2 name=\"gpu_0/data_0\" type=float shape=[1] arena=8\n" +
        "slot id=3 name=\"0\" type=float shape=[] arena=12\n" +
        "slot id=4 name=\"input_1\" type=float shape=[1] arena=16\n" +
        "slot id=5 name=\"Predict\" type=float shape=[1] arena=20\n" +
        "slot id=6 name=\"///\" type=float shape=[1] arena=24\n" +
        "input name=\"class\" slot=0 doc=\"a keyword\"\n" +
        "input name=\"input.1\" slot=1 doc=\"dots\"\n" +
        "input name=\"gpu_0/data_0\" slot=2 doc=\"slashes\"\n" +
        "input name=\"0\" slot=3 doc=\"a leading digit, scalar\"\n" +
        "input name=\"input_1\" slot=4 doc=\"same identifier as input.1\"\n" +
        "output name=\"Predict\" slot=5 doc=\"</param> tries to close the tag\\n/// and a newline\"\n" +
        "output name=\"///\" slot=6 doc=\"no letters at all\"\n" +
        "step op=Add name=\"a\\\"b\" in=[0,1] out=[5] @note=string:\"x\\\\y \\\"z\\\"\"\n" +
        "step op=Add name=\"\" in=[2,3] out=[6]\n";

    /// <summary>Several inputs and outputs with int64 and bool element types.</summary>
    public static string MultiIo =>
        "modelgen-spec 1\n" +
        "model name=\"Multi\" source=\"multi.onnx\" source-sha256=\"\" weights-sha256=\"\" weights-bytes=0 arena-bytes=256 ir-version=8 opset=17 producer=\"onnx\" producer-version=\"\"\n" +
        "doc \"\"\n" +
        "slot id=0 name=\"tokens\" type=int64 shape=[1,8] arena=0\n" +
        "slot id=1 name=\"mask\" type=bool shape=[1,8] arena=64\n" +
        "slot id=2 name=\"scale\" type=double shape=[1] arena=128\n" +
        "slot id=3 name=\"counts\" type=int32 shape=[1,8] arena=192\n" +
        "slot id=4 name=\"any\" type=bool shape=[1] arena=136\n" +
        "slot id=5 name=\"half\" type=float16 shape=[2] arena=144\n" +
        "slot id=6 name=\"bytes\" type=uint8 shape=[4] arena=148\n" +
        "input name=\"tokens\" slot=0 doc=\"\"\n" +
        "input name=\"mask\" slot=1 doc=\"\"\n" +
        "input name=\"scale\" slot=2 doc=\"\"\n" +
        "output name=\"counts\" slot=3 doc=\"\"\n" +
        "output name=\"any\" slot=4 doc=\"\"\n" +
        "output name=\"half\" slot=5 doc=\"\"\n" +
        "output name=\"bytes\" slot=6 doc=\"\"\n" +
        "step op=Cast name=\"c\" in=[0] out=[3] @to=int:6\n" +
        "step op=ReduceMax name=\"r\" in=[1] out=[4] @keepdims=int:0\n" +
        "step op=Cast name=\"h\" in=[2] out=[5] @to=int:10\n" +
        "step op=Cast name=\"b\" in=[2] out=[6] @to=int:2\n";
}
