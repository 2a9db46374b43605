using System.Runtime.InteropServices;
using ModelGen.Runtime;

namespace ModelGen.Runtime.Tests;

/// <summary>Builds small execution plans by hand: arena slots packed 64-byte aligned, weights collected into one blob.</summary>
internal sealed class TestPlan
{
    private readonly List<TensorSlot> _slots = new();
    private readonly List<PlanStep> _steps = new();
    private readonly List<int> _inputs = new();
    private readonly List<int> _outputs = new();
    private readonly List<byte> _weights = new();
    private long _arena;

    public int Arena(string name, int[] shape, ElementType type = ElementType.Float, int batchAxis = -1)
    {
        var slot = new TensorSlot(name, type, shape, SlotStorage.Arena, _arena, batchAxis);
        _arena += (slot.ByteLength + 63) / 64 * 64;
        _slots.Add(slot);
        return _slots.Count - 1;
    }

    public int Input(string name, int[] shape, ElementType type = ElementType.Float, int batchAxis = -1)
    {
        int id = Arena(name, shape, type, batchAxis);
        _inputs.Add(id);
        return id;
    }

    public int Weight<T>(string name, T[] data, int[] shape, ElementType type = ElementType.Float) where T : unmanaged
    {
        while (_weights.Count % 64 != 0) _weights.Add(0);
        var slot = new TensorSlot(name, type, shape, SlotStorage.Weights, _weights.Count);
        if (slot.ElementCount != data.Length) throw new ArgumentException("data length does not match shape");
        _weights.AddRange(MemoryMarshal.AsBytes(data.AsSpan()).ToArray());
        _slots.Add(slot);
        return _slots.Count - 1;
    }

    public void Output(int id) => _outputs.Add(id);

    public void Step(string op, int[] inputs, int[] outputs, params PlanAttribute[] attributes) =>
        _steps.Add(new PlanStep(op, $"{op.ToLowerInvariant()}_{_steps.Count}", inputs, outputs, attributes));

    public TensorSlot Slot(int id) => _slots[id];

    public ExecutionPlan Plan() =>
        new([.. _slots], [.. _steps], [.. _inputs], [.. _outputs], _arena, _weights.Count);

    public ModelWeights Weights() => ModelWeights.FromBytes(_weights.ToArray());

    public PlanExecutor Executor(out ModelWeights weights)
    {
        weights = Weights();
        return new PlanExecutor(Plan(), weights);
    }

    /// <summary>
    /// Builds, runs once on other data (seeded <paramref name="staleSeed"/>, in [-5, 5)), then on <paramref name="x"/>,
    /// and returns output 0: the second call reuses the kernel's scratch buffers, so stale data left there cannot pass.
    /// </summary>
    public float[] RunAfterStale(float[] x, int staleSeed)
    {
        using var executor = Executor(out var weights);
        using (weights)
        {
            executor.SetInput<float>(0, Data.Random(staleSeed, x.Length, -5f, 5f));
            executor.Run();
            executor.SetInput<float>(0, x);
            executor.Run();
            var y = new float[_slots[_outputs[0]].ElementCount];
            executor.GetOutput<float>(0, y);
            return y;
        }
    }

    /// <summary>Builds, sets float inputs in order, runs once, returns every float output.</summary>
    public float[][] Run(params float[][] inputs)
    {
        using var executor = Executor(out var weights);
        using (weights)
        {
            for (int i = 0; i < inputs.Length; i++) executor.SetInput<float>(i, inputs[i]);
            executor.Run();
            var results = new float[_outputs.Count][];
            for (int i = 0; i < results.Length; i++)
            {
                results[i] = new float[_slots[_outputs[i]].ElementCount];
                executor.GetOutput<float>(i, results[i]);
            }
            return results;
        }
    }
}

/// <summary>Random data, shapes and tolerance checks.</summary>
internal static class Data
{
    public static float[] Random(int seed, long count, float lo = -1f, float hi = 1f)
    {
        var random = new Random(seed);
        var a = new float[count];
        for (long i = 0; i < count; i++) a[i] = lo + (float)random.NextDouble() * (hi - lo);
        return a;
    }

    public static int Count(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    /// <summary>Conv's output shape [N, M, spatial…] (floor rounding, explicit pads: begins, then ends).</summary>
    public static int[] ConvOutputShape(int[] xs, int[] ws, int[] strides, int[] pads, int[] dilations)
    {
        int rank = xs.Length - 2;
        var ys = new int[xs.Length];
        ys[0] = xs[0];
        ys[1] = ws[0];
        for (int d = 0; d < rank; d++)
        {
            ys[2 + d] = (xs[2 + d] + pads[d] + pads[rank + d] - ((ws[2 + d] - 1) * dilations[d] + 1)) / strides[d] + 1;
        }
        return ys;
    }

    /// <summary>|actual - expected| &lt;= abs + rel * |expected| for every element (NaN must match NaN).</summary>
    public static void Close(float[] expected, float[] actual, float rel, float abs, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            float e = expected[i], a = actual[i];
            if (float.IsNaN(e) && float.IsNaN(a)) continue;
            if (e == a) continue;
            float tolerance = abs + rel * MathF.Abs(e);
            if (!(MathF.Abs(a - e) <= tolerance))
            {
                Assert.Fail($"{what} element {i}: expected {e}, got {a} (tolerance {tolerance})");
            }
        }
    }
}
