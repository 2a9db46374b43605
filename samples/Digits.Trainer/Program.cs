using Digits.Trainer;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Runtime;

// Usage: Digits.Trainer --mnist <folder with the four MNIST idx files> --out <sample folder> [--epochs N]
// Writes <out>/Models/digits.onnx, <out>/Data/digits-test.bin (the first 2,000 test images, which
// the app predicts) and <out>/Data/val.npz (the next 1,000: the Int8 model's accuracy gate data).
string? mnist = null, output = null;
int epochs = 2;
for (int i = 0; i < args.Length - 1; i += 2)
{
    switch (args[i])
    {
        case "--mnist": mnist = args[i + 1]; break;
        case "--out": output = args[i + 1]; break;
        case "--epochs": epochs = int.Parse(args[i + 1]); break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}
if (mnist is null || output is null)
{
    Console.Error.WriteLine("usage: Digits.Trainer --mnist <dir> --out <dir> [--epochs N]");
    return 2;
}

var trainImages = Mnist.ReadImages(Path.Combine(mnist, "train-images-idx3-ubyte"));
var trainLabels = Mnist.ReadLabels(Path.Combine(mnist, "train-labels-idx1-ubyte"));
var testImages = Mnist.ReadImages(Path.Combine(mnist, "t10k-images-idx3-ubyte"));
var testLabels = Mnist.ReadLabels(Path.Combine(mnist, "t10k-labels-idx1-ubyte"));
static float[] Pixels(byte[] image) => Array.ConvertAll(image, b => b / 255f);

var net = new Mlp(seed: 20261123);
var train = trainImages.Select(Pixels).ToArray();
var order = Enumerable.Range(0, train.Length).ToArray();
var rng = new Random(7);
const int batch = 32;
for (int epoch = 0; epoch < epochs; epoch++)
{
    rng.Shuffle(order);
    float lr = epoch == 0 ? 0.1f : 0.03f, loss = 0;
    int batches = 0;
    for (int start = 0; start + batch <= order.Length; start += batch, batches++)
    {
        var idx = order.AsSpan(start, batch).ToArray();
        loss += net.TrainBatch(idx.Select(i => train[i]).ToList(), idx.Select(i => (int)trainLabels[i]).ToList(), lr, 0.9f);
    }
    Console.WriteLine($"epoch {epoch + 1}: mean loss {loss / batches:F4}");
}

int correct = 0;
for (int i = 0; i < testImages.Length; i++)
{
    var p = net.Forward(Pixels(testImages[i]));
    if (Array.IndexOf(p, p.Max()) == testLabels[i]) correct++;
}
Console.WriteLine($"trainer's own accuracy on the 10,000 MNIST test images: {100.0 * correct / testImages.Length:F2}%");

// The model as ONNX: Gemm -> Relu -> Gemm -> Softmax, weights as initializers.
var b = new GraphBuilder("digits", opset: 13);
string x = b.Input("pixels", ElementType.Float, 1, Mlp.Inputs);
string w1 = b.Initializer("fc1.weight", new[] { Mlp.Hidden, Mlp.Inputs }, net.W1);
string b1 = b.Initializer("fc1.bias", new[] { Mlp.Hidden }, net.B1);
string w2 = b.Initializer("fc2.weight", new[] { Mlp.Classes, Mlp.Hidden }, net.W2);
string b2 = b.Initializer("fc2.bias", new[] { Mlp.Classes }, net.B2);
string h = b.Node("Gemm", new[] { x, w1, b1 }, OnnxAttribute.OfInt("transB", 1));
h = b.Node("Relu", new[] { h });
string logits = b.Node("Gemm", new[] { h, w2, b2 }, OnnxAttribute.OfInt("transB", 1));
b.Output(b.NamedNode("Softmax", new[] { logits }, "probabilities", OnnxAttribute.OfInt("axis", 1)));
var model = b.Build();
model.ProducerName = "ModelGen samples/Digits.Trainer";
model.ProducerVersion = "1";
model.Doc = "Handwritten digit classifier (MNIST): 784 pixels in [0,1] -> 10 class probabilities.";

Directory.CreateDirectory(Path.Combine(output, "Models"));
Directory.CreateDirectory(Path.Combine(output, "Data"));
string modelPath = Path.Combine(output, "Models", "digits.onnx");
OnnxWriter.Save(model, modelPath);

// Test slice for the app: "MGDIGIT1", count, then count x (label byte + 784 pixel bytes).
const int testCount = 2000;
string dataPath = Path.Combine(output, "Data", "digits-test.bin");
using (var writer = new BinaryWriter(File.Create(dataPath)))
{
    writer.Write("MGDIGIT1"u8);
    writer.Write(testCount);
    for (int i = 0; i < testCount; i++)
    {
        writer.Write(testLabels[i]);
        writer.Write(testImages[i]);
    }
}
// Validation data for the Int8 model's accuracy gate, disjoint from the images the app predicts:
// the input "pixels" as float32 [1000, 784] (samples along the batch axis) and int64 labels.
const int valCount = 1000;
var valPixels = new float[valCount * Mlp.Inputs];
var valLabels = new long[valCount];
for (int i = 0; i < valCount; i++)
{
    Pixels(testImages[testCount + i]).CopyTo(valPixels, i * Mlp.Inputs);
    valLabels[i] = testLabels[testCount + i];
}
string valPath = Path.Combine(output, "Data", "val.npz");
NpzWriter.Write(valPath,
    NpzWriter.Array.Floats("pixels", new[] { valCount, Mlp.Inputs }, valPixels),
    NpzWriter.Array.Longs("labels", new[] { valCount }, valLabels));
Console.WriteLine($"wrote {modelPath}, {dataPath} and {valPath}");
return 0;
