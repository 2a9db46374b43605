using System.Runtime.InteropServices;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Tests.Batching;

/// <summary>Runs a one-input, one-output float model over a batch the way a generated <c>Predict(batchSize, ...)</c> does.</summary>
internal static class BatchRun
{
    public static float[] Floats(BatchedExecutor batch, int batchSize, float[] input, int inputLength, int outputLength)
    {
        batch.CheckBatchSize(batchSize);
        var output = new float[batchSize * outputLength];
        for (int done = 0; done < batchSize;)
        {
            var executor = batch.Next(batchSize - done, out int n);
            executor.SetInput(0, MemoryMarshal.AsBytes(input.AsSpan(done * inputLength, n * inputLength)));
            executor.Run();
            executor.GetOutput(0, MemoryMarshal.AsBytes(output.AsSpan(done * outputLength, n * outputLength)));
            done += n;
        }
        return output;
    }
}
