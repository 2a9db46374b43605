using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using ModelGen.Benchmarks;

// `--ratio [--seconds S] [--filter TEXT] [--no-gemm]`: the quick interleaved table.
// `--gpu [--seconds S] [--small]`: the best device backend against the CPU one (GpuBench).
// `--profile [--filter TEXT] [--seconds S] [--cpu-time]`: time per step of each case's plan (StepProfile).
// `--ort-profile [--filter TEXT] [--seconds S]`: ONNX Runtime's own per-node profile of each case (OrtProfile).
// `--layers [--filter TEXT] [--seconds S]`: single conv layers of the networks against ONNX Runtime (LayerStudy).
// `--spin-study [--filter TEXT|gemm]`: ONNX Runtime's threads after its last call (SpinStudy).
// `--spread [--filter TEXT] [--seconds S] [--alone]`: single calls of both sides alternating (or, with --alone, each side
// alone in turns), and how widely each spreads (SpreadStudy).
// `--slow-calls [--filter TEXT] [--seconds S]`: which of ModelGen's steps grow in its slowest calls (SlowCallStudy).
// `--twin [--filter TEXT] [--seconds S]`, with DOTNET_PROCESSOR_COUNT=1: one single-threaded instance of each engine alone,
// then two at once (TwinStudy).
// `--host-probe [--filter TEXT] [--seconds S]`: which probes of the core and memory slow down with ModelGen's slow calls (HostProbeStudy).
// `--layer-spread [--filter TEXT] [--seconds S] [--no-flush]`: single layers' growth in the host's slow windows, both engines (LayerSpreadStudy).
// `--balance-ab [--filter TEXT] [--seconds S]`: the worker pool's balanced splits against equal ones, in alternating blocks (BalanceStudy).
// Anything else goes to BenchmarkDotNet (e.g. `--filter '*' --job short`).
if (args.Contains("--gpu"))
{
    int at = Array.IndexOf(args, "--seconds");
    double seconds = 3;
    if (at >= 0 && !(at + 1 < args.Length && double.TryParse(args[at + 1], CultureInfo.InvariantCulture, out seconds) && seconds > 0))
    {
        Console.Error.WriteLine("--seconds needs a positive number (the timing budget per row), e.g. --seconds 2");
        return 2;
    }
    try
    {
        return GpuBench.Run(seconds, small: args.Contains("--small"));
    }
    catch (Exception e) when (e is InvalidOperationException or ModelGen.Onnx.OnnxException or ModelGen.Runtime.ModelGenException)
    {
        Console.Error.WriteLine($"benchmark failed: {e.Message}");
        return 1;
    }
    finally
    {
        BenchPaths.CleanUp();
    }
}
// The study modes: --filter and --seconds (default 2) as they read them, the temporary folders removed after.
if (args.Contains("--balance-ab")) return Study((filter, seconds) => BalanceStudy.Run(seconds, filter));
if (args.Contains("--layer-spread")) return Study((filter, seconds) => LayerSpreadStudy.Run(seconds, filter, flush: !args.Contains("--no-flush")));
if (args.Contains("--host-probe")) return Study((filter, seconds) => HostProbeStudy.Run(seconds, filter));
if (args.Contains("--twin")) return Study((filter, seconds) => TwinStudy.Run(seconds, filter));
if (args.Contains("--slow-calls")) return Study((filter, seconds) => SlowCallStudy.Run(seconds, filter));
if (args.Contains("--spread")) return Study((filter, seconds) => SpreadStudy.Run(seconds, filter, alone: args.Contains("--alone")));
if (args.Contains("--layers")) return Study((filter, seconds) => LayerStudy.Run(seconds, filter));
if (args.Contains("--spin-study")) return Study((filter, _) => SpinStudy.Run(filter));
if (args.Contains("--ort-profile")) return Study((filter, seconds) => OrtProfile.Run(seconds, filter));
if (args.Contains("--profile")) return Study((filter, seconds) => StepProfile.Run(seconds, filter, cpuTime: args.Contains("--cpu-time")));
if (args.Contains("--ratio"))
{
    double seconds = 3;
    string? filter = null;
    for (int i = 0; i < args.Length; i++)
    {
        if (args[i] == "--seconds" && i + 1 < args.Length && double.TryParse(args[i + 1], CultureInfo.InvariantCulture, out var s) && s > 0) seconds = s;
        else if (args[i] == "--seconds")
        {
            Console.Error.WriteLine("--seconds needs a positive number (the timing budget per pair), e.g. --seconds 2");
            return 2;
        }
        if (args[i] == "--filter" && i + 1 < args.Length) filter = args[i + 1];
    }
    try
    {
        return QuickRatio.Run(seconds, filter, gemm: !args.Contains("--no-gemm"));
    }
    catch (Exception e) when (e is InvalidOperationException or ModelGen.Onnx.OnnxException)
    {
        Console.Error.WriteLine($"benchmark failed: {e.Message}");
        return 1;
    }
    finally
    {
        BenchPaths.CleanUp();
    }
}
// Case ids are long ("mlp-784-512-512-10/b32/int8"): show them whole in the summary table.
var config = DefaultConfig.Instance.WithSummaryStyle(SummaryStyle.Default.WithMaxParameterColumnWidth(40));
BenchmarkSwitcher.FromAssembly(typeof(PairBenchmarks).Assembly).Run(args, config);
return 0;

int Study(Func<string?, double, int> run)
{
    int fi = Array.IndexOf(args, "--filter");
    int si = Array.IndexOf(args, "--seconds");
    double seconds = si >= 0 && si + 1 < args.Length && double.TryParse(args[si + 1], CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 2;
    try
    {
        return run(fi >= 0 && fi + 1 < args.Length ? args[fi + 1] : null, seconds);
    }
    finally
    {
        BenchPaths.CleanUp();
    }
}
