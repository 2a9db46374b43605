using System.Globalization;

namespace ModelGen.Benchmarks;

/// <summary>
/// <c>--layers [--filter TEXT] [--seconds S]</c>: single Conv+Relu layers of ResNet-50's and SqueezeNet's shapes, each
/// a model of its own, timed against ONNX Runtime like the quick mode but without ModelGen's input and output copies
/// (both sides compute from an input already in place, as ONNX Runtime's bound buffers are). Says which layer shapes
/// lose in isolation, where the network's profile mixes in what the steps around a layer leave in the caches. The two
/// stems also run with the 3×3/2 max pool after them (<c>-maxpool</c>), which in isolation costs ModelGen far more than
/// ONNX Runtime (its pool reads the conv's 3.1 MB output from L3). ResNet-50's 1×1 256→1024 on 14×14 also runs after its
/// block's 3×3 256→256 (<c>-after3x3</c>): the smallest model in which a step pays the network's penalty, reading an
/// input just written by both cores with the caches holding another step's weights. SqueezeNet's three 3×3/2 max pools
/// also run alone (<c>maxpool-…</c>, no conv). Beside each side's median chunk it prints its fastest chunk: on a host
/// whose speed swings for seconds at a time the medians of two runs of one build differ by 10–20%, the fastest chunks far less.
/// </summary>
internal static class LayerStudy
{
    /// <summary>One conv layer: input channels, map size, output channels, kernel, stride, pad, and which network has it.</summary>
    /// <remarks>A layer with no output channels (<c>M = 0</c>) is the 3×3/2 max pool alone.</remarks>
    private sealed record Layer(string Network, int C, int H, int M, int K, int Stride, int Pad, bool Pool = false, bool After3x3 = false)
    {
        public bool PoolOnly => M == 0;

        public string Name => PoolOnly
            ? $"{Network}-maxpool-c{C}-{H}x{H}-k{K}s{Stride}"
            : $"{Network}-c{C}-{H}x{H}-m{M}-k{K}s{Stride}{(Pool ? "-maxpool" : "")}{(After3x3 ? "-after3x3" : "")}";
    }

    private static readonly Layer[] Layers =
    [
        new("resnet", 3, 224, 64, 7, 2, 3),
        new("resnet", 3, 224, 64, 7, 2, 3, Pool: true),
        new("resnet", 64, 56, 64, 3, 1, 1),
        new("resnet", 64, 56, 256, 1, 1, 0),
        new("resnet", 256, 56, 64, 1, 1, 0),
        new("resnet", 128, 28, 128, 3, 1, 1),
        new("resnet", 128, 28, 512, 1, 1, 0),
        new("resnet", 512, 28, 128, 1, 1, 0),
        new("resnet", 256, 14, 256, 3, 1, 1),
        new("resnet", 256, 14, 1024, 1, 1, 0),
        new("resnet", 256, 14, 1024, 1, 1, 0, After3x3: true),
        new("resnet", 1024, 14, 256, 1, 1, 0),
        new("resnet", 512, 7, 512, 3, 1, 1),
        new("resnet", 512, 7, 2048, 1, 1, 0),
        new("resnet", 2048, 7, 512, 1, 1, 0),
        new("resnet", 256, 56, 512, 1, 2, 0),
        new("resnet", 512, 28, 1024, 1, 2, 0),
        new("resnet", 1024, 14, 2048, 1, 2, 0),
        new("resnet", 128, 56, 128, 3, 2, 1),
        new("resnet", 256, 28, 256, 3, 2, 1),
        new("resnet", 512, 14, 512, 3, 2, 1),
        new("squeezenet", 3, 224, 64, 3, 2, 0),
        new("squeezenet", 3, 224, 64, 3, 2, 0, Pool: true),
        new("squeezenet", 16, 55, 64, 3, 1, 1),
        new("squeezenet", 32, 27, 128, 3, 1, 1),
        new("squeezenet", 64, 13, 256, 3, 1, 1),
        new("squeezenet", 512, 13, 1000, 1, 1, 0),
        new("squeezenet", 64, 55, 16, 1, 1, 0),
        new("squeezenet", 128, 55, 16, 1, 1, 0),
        new("squeezenet", 16, 55, 64, 1, 1, 0),
        new("squeezenet", 256, 27, 32, 1, 1, 0),
        new("squeezenet", 32, 27, 128, 1, 1, 0),
        new("squeezenet", 384, 13, 48, 1, 1, 0),
        new("squeezenet", 48, 13, 192, 1, 1, 0),
        new("squeezenet", 48, 13, 192, 3, 1, 1),
        new("squeezenet", 512, 13, 64, 1, 1, 0),
        new("squeezenet", 64, 13, 256, 1, 1, 0),
        new("squeezenet", 64, 111, 0, 3, 2, 0),
        new("squeezenet", 128, 55, 0, 3, 2, 0),
        new("squeezenet", 256, 27, 0, 3, 2, 0),
    ];

    /// <summary>The layers whose name contains <paramref name="filter"/>, each as a bench case of its own model (also for <see cref="LayerSpreadStudy"/>).</summary>
    public static IEnumerable<(string Name, BenchCase Case)> Cases(string? filter) =>
        Selected(filter).Select(layer => (layer.Name, CaseOf(layer)));

    private static IEnumerable<Layer> Selected(string? filter) =>
        Layers.Where(l => filter is null || l.Name.Contains(filter, StringComparison.OrdinalIgnoreCase));

    private static BenchCase CaseOf(Layer layer) => BenchCatalog.Made(layer.Name, 1, Precision.Fp32,
        () => layer.PoolOnly
            ? BenchModels.MaxPoolLayer(layer.Name, layer.C, layer.H, layer.K, layer.Stride)
            : BenchModels.ConvLayer(layer.Name, layer.C, layer.H, layer.M, layer.K, layer.Stride, layer.Pad, layer.Pool, layer.After3x3));

    public static int Run(double seconds, string? filter)
    {
        var culture = CultureInfo.InvariantCulture;
        Console.WriteLine($"# single Conv+Relu layers, ModelGen's Run() against ONNX Runtime's RunWithBinding, {Environment.ProcessorCount} cores, {seconds:G3} s per pair");
        Console.WriteLine($"{"layer",-36} {"mflop",7} {"modelgen_us",12} {"ort_us",12} {"ratio",7} {"mg_gflops",10} {"ort_gflops",10} {"mg_fast_us",11} {"ort_fast_us",11} {"fast_ratio",10}");
        foreach (var layer in Selected(filter))
        {
            using var pair = PreparedPair.Create(CaseOf(layer));
            int oh = (layer.H + 2 * layer.Pad - layer.K) / layer.Stride + 1;
            // A pool's "flops" are its window's comparisons, one per tap and output.
            double mflop = (layer.PoolOnly ? 1.0 : 2.0 * layer.M) * layer.C * layer.K * layer.K * oh * oh / 1e6;
            var timing = Interleaved.Run(pair.ModelGen.RunOnly, pair.Ort.Invoke, seconds);
            Console.WriteLine(string.Create(culture,
                $"{layer.Name,-36} {mflop,7:F1} {timing.AMicros,12:F1} {timing.BMicros,12:F1} {timing.BMicros / timing.AMicros,7:F2} {mflop / timing.AMicros * 1e3,10:F0} {mflop / timing.BMicros * 1e3,10:F0} {timing.AFastestMicros,11:F1} {timing.BFastestMicros,11:F1} {timing.BFastestMicros / timing.AFastestMicros,10:F2}"));
        }
        return 0;
    }
}
