using System.Diagnostics;
using Digits;

// The data file holds MNIST test images the trainer did not learn from:
// "MGDIGIT1", an int count, then count x (label byte, 784 pixel bytes).
var data = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Data", "digits-test.bin"));
int count = BitConverter.ToInt32(data, 8);
const int pixels = DigitClassifier.PixelsLength;

var input = new float[pixels];
var output = new float[DigitClassifier.ProbabilitiesLength];
using var model = new DigitClassifier();

int correct = 0;
Console.WriteLine("first predictions (label -> predicted, confidence):");
for (int i = 0; i < count; i++)
{
    int offset = 12 + i * (1 + pixels);
    int label = data[offset];
    for (int p = 0; p < pixels; p++) input[p] = data[offset + 1 + p] / 255f;
    model.Predict(input, output);
    int predicted = ArgMax(output);
    if (predicted == label) correct++;
    if (i < 10) Console.WriteLine($"  #{i}: {label} -> {predicted} ({output[predicted]:P1})");
}
Console.WriteLine($"accuracy: {correct}/{count} = {100.0 * correct / count:F2}%");

// Latency: many calls after a warm-up; allocation measured on this thread over the same calls.
for (int i = 0; i < 1000; i++) model.Predict(input, output);
const int calls = 20000;
long allocated = GC.GetAllocatedBytesForCurrentThread();
var clock = Stopwatch.StartNew();
for (int i = 0; i < calls; i++) model.Predict(input, output);
clock.Stop();
allocated = GC.GetAllocatedBytesForCurrentThread() - allocated;
Console.WriteLine($"latency: {clock.Elapsed.TotalMilliseconds * 1000 / calls:F2} us per Predict call ({calls:N0} calls), {allocated} bytes allocated in total");
return 0;

static int ArgMax(ReadOnlySpan<float> values)
{
    int best = 0;
    for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
    return best;
}
