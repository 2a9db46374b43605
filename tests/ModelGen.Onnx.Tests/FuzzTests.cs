namespace ModelGen.Onnx.Tests;

/// <summary>
/// Damaged bytes must always end in an <see cref="OnnxException"/> (never another exception,
/// never a hang). Seeds are fixed so a failure reproduces.
/// </summary>
public class FuzzTests
{
    private static readonly string[] Codes =
    [
        ErrorCodes.CorruptModel, ErrorCodes.TruncatedModel, ErrorCodes.InvalidGraph, ErrorCodes.TensorDataMismatch,
        ErrorCodes.UnsupportedType, ErrorCodes.BadExternalData,
    ];

    [Fact]
    public void TruncationAtManyOffsets_IsTruncatedOrCorrupt()
    {
        var bytes = File.ReadAllBytes(Models.Real("onnx-mlir-mnist-mlp.onnx"));
        int truncated = 0;
        for (int cut = 1; cut < bytes.Length; cut += 97)
        {
            var e = LoadExpectingFailure(bytes[..cut], out bool loaded);
            if (loaded) continue; // a cut exactly between top-level fields can still be a valid (smaller) message
            Assert.Contains(e!.Code, Codes);
            if (e.Code == ErrorCodes.TruncatedModel) truncated++;
        }
        // Nearly every cut lands inside the graph message, so most must be reported as truncation.
        Assert.True(truncated > bytes.Length / 97 * 9 / 10, $"only {truncated} cuts reported as truncation");
    }

    [Fact]
    public void BitFlips_GiveOnlyOnnxExceptions()
    {
        var original = File.ReadAllBytes(Models.Real("mnist-8.onnx"));
        var random = new Random(1234);
        for (int round = 0; round < 400; round++)
        {
            var bytes = (byte[])original.Clone();
            int flips = 1 + random.Next(8);
            // Bias toward the start, where the structure (not weight data) lives.
            for (int f = 0; f < flips; f++)
            {
                int at = random.Next(2) == 0 ? random.Next(Math.Min(2048, bytes.Length)) : random.Next(bytes.Length);
                bytes[at] ^= (byte)(1 << random.Next(8));
            }
            var e = LoadExpectingFailure(bytes, out _);
            if (e is not null) Assert.Contains(e.Code, Codes);
        }
    }

    [Fact]
    public void RandomBytes_GiveOnlyOnnxExceptions()
    {
        var random = new Random(99);
        for (int round = 0; round < 300; round++)
        {
            var bytes = new byte[random.Next(1, 4096)];
            random.NextBytes(bytes);
            var e = LoadExpectingFailure(bytes, out _);
            if (e is not null) Assert.Contains(e.Code, Codes);
        }
    }

    private static OnnxException? LoadExpectingFailure(byte[] bytes, out bool loaded)
    {
        // Any exception other than OnnxException escapes and fails the test.
        var task = Task.Run(() =>
        {
            try
            {
                OnnxLoader.Load(bytes, null, "fuzz.onnx");
                return null;
            }
            catch (OnnxException e)
            {
                Assert.Equal("fuzz.onnx", e.File);
                return e;
            }
        });
        Assert.True(task.Wait(TimeSpan.FromSeconds(10)), "loading damaged bytes took over 10 s (a hang?)");
        loaded = task.Result is null;
        return task.Result;
    }
}
