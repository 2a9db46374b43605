using BenchmarkDotNet.Attributes;

namespace ModelGen.Benchmarks;

/// <summary>
/// The BenchmarkDotNet view of the same pairs as the quick mode: per case, ONNX Runtime (the
/// baseline) and ModelGen, with allocations per call from the <see cref="MemoryDiagnoser"/>.
/// Setup optimizes the model and checks the outputs before anything is timed.
/// </summary>
[MemoryDiagnoser]
public class PairBenchmarks
{
    private PreparedPair? _pair;

    /// <summary>The case ids (<c>model/bBATCH/precision</c>).</summary>
    public static IEnumerable<string> Cases => BenchCatalog.All().Select(c => c.Id);

    /// <summary>The case being measured.</summary>
    [ParamsSource(nameof(Cases))]
    public string Case { get; set; } = "";

    /// <summary>Optimizes and loads the case, and checks that both sides agree.</summary>
    [GlobalSetup]
    public void Setup() => _pair = PreparedPair.Create(BenchCatalog.Find(Case));

    /// <summary>Frees both sides and the scratch files.</summary>
    [GlobalCleanup]
    public void Cleanup()
    {
        _pair?.Dispose();
        _pair = null;
        BenchPaths.CleanUp();
    }

    /// <summary>ONNX Runtime: <c>RunWithBinding</c> over pre-bound buffers.</summary>
    [Benchmark(Baseline = true)]
    public void OnnxRuntime() => _pair!.Ort.Invoke();

    /// <summary>ModelGen: what the generated <c>Predict</c> does.</summary>
    [Benchmark]
    public void ModelGen() => _pair!.ModelGen.Invoke();
}
