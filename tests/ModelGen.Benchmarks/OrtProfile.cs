using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace ModelGen.Benchmarks;

/// <summary>
/// <c>--ort-profile</c>: ONNX Runtime's own per-node profile of each case (its <c>EnableProfiling</c> JSON),
/// the counterpart of <see cref="StepProfile"/>: where ONNX Runtime spends its time, node by node, with each
/// node's output shape, so a ModelGen step can be set beside the ONNX Runtime node that does the same work.
/// ONNX Runtime renames the nodes it rewrites (NCHWc convs become <c>r…_nchwc</c>), hence the shapes. Times
/// are its kernel times, which include its profiler's overhead.
/// </summary>
internal static class OrtProfile
{
    private static readonly int TopNodes = int.TryParse(Environment.GetEnvironmentVariable("MODELGEN_PROFILE_TOP"), out int top) ? top : 16;

    public static int Run(double seconds, string? filter)
    {
        var inv = CultureInfo.InvariantCulture;
        var cases = BenchCatalog.Matching(filter);
        if (cases.Count == 0) return 2;
        foreach (var benchCase in cases)
        {
            using var pair = PreparedPair.Create(benchCase);
            pair.Ort.Dispose();
            var mg = pair.ModelGen;
            string prefix = Path.Combine(BenchPaths.WorkFolder("ort-profile"), benchCase.Id.Replace('/', '_'));
            using var ort = new OrtRunner(pair.OrtModel, mg.InputSlots.Select((s, i) => (s.Name, s.Shape, mg.Inputs[i])).ToArray(),
                mg.OutputSlots.Select(s => (s.Name, s.Shape)).ToArray(), prefix);
            // Warm-up calls are profiled too, so run long enough that they hardly move the mean.
            long calls = 0;
            var timer = Stopwatch.StartNew();
            while (calls < 3 || timer.Elapsed.TotalSeconds < seconds)
            {
                ort.Invoke();
                calls++;
            }
            string file = ort.EndProfiling();
            var nodes = Read(file);
            File.Delete(file);
            double total = nodes.Sum(n => n.Micros);
            Console.WriteLine($"## {benchCase.Id} (ONNX Runtime): {total.ToString("F1", inv)} us of kernel time per call in {nodes.Count} nodes ({calls} calls)");
            Console.WriteLine("op type              us/call   share  nodes");
            foreach (var g in nodes.GroupBy(n => n.Op).OrderByDescending(g => g.Sum(n => n.Micros)))
            {
                double t = g.Sum(n => n.Micros);
                Console.WriteLine($"{g.Key,-18} {t,9:F1} {100 * t / total,6:F1}%  {g.Count(),5}");
            }
            Console.WriteLine("slowest nodes (mean, share, fastest call; op, name, output shape):");
            foreach (var n in nodes.OrderByDescending(n => n.Micros).Take(TopNodes))
            {
                Console.WriteLine($"  {n.Micros,9:F1} us {100 * n.Micros / total,5:F1}%  {n.Fastest,9:F1} us  {n.Op} '{n.Name}' {n.Shape}");
            }
            Console.WriteLine();
        }
        return 0;
    }

    /// <summary>A node's mean kernel time per call and its fastest call, which the host's noise moves far less than the mean.</summary>
    private sealed record Node(string Name, string Op, string Shape, double Micros, double Fastest);

    /// <summary>Mean and fastest kernel time per node over every profiled call, from ONNX Runtime's profile JSON.</summary>
    private static List<Node> Read(string file)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(file));
        var sums = new Dictionary<string, (string Op, string Shape, double Sum, int Count, double Min)>(StringComparer.Ordinal);
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            if (e.GetProperty("cat").GetString() != "Node") continue;
            string name = e.GetProperty("name").GetString() ?? "";
            const string suffix = "_kernel_time";
            if (!name.EndsWith(suffix, StringComparison.Ordinal)) continue;
            name = name[..^suffix.Length];
            var args = e.GetProperty("args");
            string op = args.TryGetProperty("op_name", out var o) ? o.GetString() ?? "" : "";
            string shape = args.TryGetProperty("output_type_shape", out var s) ? Shape(s, 0) : "";
            // A conv's weight (its second input) tells a 3×3 from a 1×1 with the same output; NCHWc weights are reordered, 16 channels a block.
            if (op == "Conv" && args.TryGetProperty("input_type_shape", out var ins)) shape += " w" + Shape(ins, 1);
            double dur = e.GetProperty("dur").GetDouble();
            sums[name] = sums.TryGetValue(name, out var v) ? (op, shape, v.Sum + dur, v.Count + 1, Math.Min(v.Min, dur)) : (op, shape, dur, 1, dur);
        }
        return sums.Select(kv => new Node(kv.Key, kv.Value.Op, kv.Value.Shape, kv.Value.Sum / kv.Value.Count, kv.Value.Min)).ToList();
    }

    /// <summary>Shape <paramref name="index"/> of a list like <c>[{"float": [1, 64, 56, 56]}]</c>.</summary>
    private static string Shape(JsonElement list, int index)
    {
        if (list.ValueKind != JsonValueKind.Array || list.GetArrayLength() <= index) return "";
        foreach (var p in list[index].EnumerateObject())
        {
            return "[" + string.Join(",", p.Value.EnumerateArray().Select(d => d.GetInt64())) + "]";
        }
        return "";
    }
}
