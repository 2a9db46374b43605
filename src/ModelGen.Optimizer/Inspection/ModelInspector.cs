using System.Globalization;
using System.Text;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Fallback;
using ModelGen.Runtime;
using ModelGen.Spec;

namespace ModelGen.Optimizer.Inspection;

/// <summary>
/// What <c>modelgen inspect</c> prints: the model's inputs and outputs, one row per op type with
/// its count and whether ModelGen compiles it or ONNX Runtime runs it, and the verdict of a dry
/// run of the optimizer (nothing is written), which also catches ops refused for an attribute.
/// </summary>
public static class ModelInspector
{
    /// <exception cref="OnnxException">The model cannot be loaded (its MG1xxx code and file).</exception>
    public static string Inspect(string modelPath, int maxBatch = 64)
    {
        string path = Path.GetFullPath(modelPath);
        var model = OnnxLoader.Load(path);
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(inv, $"model: {Path.GetFileName(path)} (IR {model.IrVersion}, opset {model.DefaultOpset}");
        if (model.ProducerName.Length > 0) sb.Append(", producer ").Append(model.ProducerName).Append(' ').Append(model.ProducerVersion);
        sb.Append(")\n");
        foreach (var i in model.Graph.Inputs) sb.Append("input:  ").Append(Describe(i)).Append('\n');
        foreach (var o in model.Graph.Outputs) sb.Append("output: ").Append(Describe(o)).Append('\n');

        // Dry run: the same decisions a build makes, so a kernel that refuses an attribute shows too.
        OptimizeResult? result = null;
        string? failure = null;
        try
        {
            result = ModelOptimizer.Optimize(new OptimizeOptions(path, "", "Inspected") { MaxBatch = maxBatch });
        }
        catch (OnnxException e)
        {
            failure = $"{e.Code}: {e.Message}";
        }
        bool onOrt = result?.Compiled.Spec.Engine == ModelSpec.OnnxRuntimeEngine;
        var refused = result?.Warnings.Where(w => w.Code == ErrorCodes.OnnxRuntimeFallback).Select(w => w.Message).ToList() ?? new List<string>();

        var rows = model.Graph.Nodes
            .GroupBy(n => (n.Domain is "" or "ai.onnx" ? "" : n.Domain + ".") + n.OpType)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var node = g.First();
                bool compiled = OpSupport.IsCompiled(node.OpType, node.Domain);
                string status = !compiled ? "falls back to ONNX Runtime"
                    : ModelGen.Runtime.Devices.ModelExecutors.DeviceSupportedOps.Contains(node.OpType) ? "compiled (CPU and device kernels)"
                    : "compiled (CPU kernel; on a device backend it runs on the CPU)";
                if (!compiled) status += node.Domain is "" or "ai.onnx" ? " (no ModelGen kernel)" : $" (domain '{node.Domain}')";
                return (Op: g.Key, Count: g.Count(), Status: status);
            }).ToList();
        int width = Math.Max(2, rows.Count == 0 ? 2 : rows.Max(r => r.Op.Length));
        sb.Append("op".PadRight(width)).Append("  count  status\n");
        foreach (var r in rows)
        {
            sb.Append(r.Op.PadRight(width)).Append("  ").Append(r.Count.ToString(inv).PadLeft(5)).Append("  ").Append(r.Status).Append('\n');
        }

        if (failure is not null)
        {
            sb.Append("verdict: the build fails: ").Append(failure).Append('\n');
        }
        else if (onOrt)
        {
            sb.Append("verdict: ONNX Runtime runs the whole model behind the typed predictor (warning MG1017)");
            if (refused.Count > 0) sb.Append(": ").Append(refused[0]);
            sb.Append('\n');
        }
        else
        {
            sb.Append(inv, $"verdict: compiled by ModelGen: {result!.OriginalNodes} nodes -> {result.Steps} steps\n");
        }
        if (result is not null) sb.Append(result.BackendSummary("model").Replace("ModelGen: model backends", "backends", StringComparison.Ordinal)).Append('\n');
        if (result is not null && result.Compiled.Spec.MaxBatch > 0)
        {
            bool polymorphic = result.Compiled.Spec.Slots.Any(s => s.BatchAxis >= 0);
            sb.Append(inv, $"batch: Predict(int batchSize, ...) for 1..{result.Compiled.Spec.MaxBatch} samples, ")
              .Append(polymorphic ? "one plan for every batch size\n" : "run one sample at a time\n");
        }
        return sb.ToString();
    }

    private static string Describe(TensorInfo info) =>
        $"{info.Name} {info.Type.ToOnnxName()} [{(info.Shape is null ? "?" : string.Join(",", info.Shape.Select(d => d.IsKnown ? d.Value!.Value.ToString(CultureInfo.InvariantCulture) : d.Param ?? "?")))}]";
}
