using System.Diagnostics;
using System.Reflection;
using Digits;

// The data file holds MNIST test images the trainer did not learn from:
// "MGDIGIT1", an int count, then count x (label byte, 784 pixel bytes).
var data = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Data", "digits-test.bin"));
int count = BitConverter.ToInt32(data, 8);
const int pixels = DigitClassifier.PixelsLength;
var images = new float[count][];
var labels = new int[count];
for (int i = 0; i < count; i++)
{
    int offset = 12 + i * (1 + pixels);
    labels[i] = data[offset];
    images[i] = new float[pixels];
    for (int p = 0; p < pixels; p++) images[i][p] = data[offset + 1 + p] / 255f;
}

// The same model twice: as trained (fp32) and quantized to int8 behind the build's accuracy gate.
using var fp32 = new DigitClassifier();
using var int8 = new DigitClassifierInt8();
var output = new float[DigitClassifier.ProbabilitiesLength];
var int8Output = new float[DigitClassifierInt8.ProbabilitiesLength];

int correct = 0, int8Correct = 0, agree = 0;
Console.WriteLine("first predictions (label -> fp32 prediction, confidence | int8 prediction, confidence):");
for (int i = 0; i < count; i++)
{
    fp32.Predict(images[i], output);
    int8.Predict(images[i], int8Output);
    int predicted = ArgMax(output), int8Predicted = ArgMax(int8Output);
    if (predicted == labels[i]) correct++;
    if (int8Predicted == labels[i]) int8Correct++;
    if (predicted == int8Predicted) agree++;
    if (i < 10) Console.WriteLine($"  #{i}: {labels[i]} -> {predicted} ({output[predicted]:P1}) | {int8Predicted} ({int8Output[int8Predicted]:P1})");
}

var (fp32Latency, fp32Allocated) = Measure(fp32.Predict, images[0], output);
var (int8Latency, int8Allocated) = Measure(int8.Predict, images[0], int8Output);
Console.WriteLine();
Console.WriteLine($"{"",-22}{"fp32",16}{"int8",16}");
Console.WriteLine($"{"accuracy",-22}{Percent(correct),16}{Percent(int8Correct),16}");
Console.WriteLine($"{"latency (us/Predict)",-22}{fp32Latency,16:F2}{int8Latency,16:F2}");
Console.WriteLine($"{"allocated (bytes)",-22}{fp32Allocated,16}{int8Allocated,16}");
Console.WriteLine($"{"weights (bytes)",-22}{WeightsBytes(nameof(DigitClassifier)),16:N0}{WeightsBytes(nameof(DigitClassifierInt8)),16:N0}");
Console.WriteLine($"int8 agrees with fp32 on {agree}/{count} images; accuracy {100.0 * (int8Correct - correct) / count:+0.00;-0.00;0.00} pp");
return 0;

string Percent(int right) => $"{100.0 * right / count:F2}%";

static int ArgMax(ReadOnlySpan<float> values)
{
    int best = 0;
    for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
    return best;
}

// Latency: many calls after a warm-up; allocation measured on this thread over the same calls.
static (double Microseconds, long Allocated) Measure(Predictor predict, float[] input, float[] output)
{
    for (int i = 0; i < 1000; i++) predict(input, output);
    const int calls = 20000;
    // Timestamps, not Stopwatch.StartNew: that would allocate a Stopwatch inside the measured span.
    long allocated = GC.GetAllocatedBytesForCurrentThread();
    long start = Stopwatch.GetTimestamp();
    for (int i = 0; i < calls; i++) predict(input, output);
    var elapsed = Stopwatch.GetElapsedTime(start);
    allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
    return (elapsed.TotalMilliseconds * 1000 / calls, allocated);
}

// ModelGen embeds each model's weights as the resource "ModelGen.<Namespace>.<Class>.weights".
static long WeightsBytes(string className)
{
    using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream($"ModelGen.Digits.{className}.weights");
    return stream?.Length ?? -1;
}

/// <summary>The shape of every generated Predict with one input and one output.</summary>
internal delegate void Predictor(ReadOnlySpan<float> input, Span<float> output);
