using System.Text.Encodings.Web;
using System.Text.Json;
using ModelGen.Optimizer.Evaluation;

namespace ModelGen.Optimizer.Quantization;

/// <summary>
/// Writes a <see cref="QuantizationReport"/> as <c>Name.report.json</c>, for CI scripts and
/// dashboards (the Markdown is for people). Properties are written by hand, in a fixed order, so
/// the file diffs cleanly between builds; numbers are JSON numbers (culture-invariant by
/// definition), and a score that is not finite (a NaN metric) is written as null because JSON
/// has no NaN. The schema is documented in docs/quantization.md ("The report JSON").
/// </summary>
internal static class QuantizationReportJson
{
    private static readonly JsonWriterOptions s_options = new()
    {
        Indented = true,
        // Layer and file names are shown as written ("conv1/W+b"), not as \u escapes; the file is data, never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <param name="report">What quantization did.</param>
    /// <param name="name">The model's name (the generated class).</param>
    /// <param name="source">The source model's file name (no folder: the report must not depend on where the build ran).</param>
    public static byte[] ToUtf8(QuantizationReport report, string name, string source)
    {
        ArgumentNullException.ThrowIfNull(report);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, s_options))
        {
            w.WriteStartObject();
            w.WriteString("model", name);
            w.WriteString("source", source);
            w.WriteString("quantize", report.Mode.ToString());
            WriteStringOrNull(w, "calibration", report.Calibration?.ToString());
            WriteNumberOrNull(w, "calibrationPercentile", report.Percentile);
            WriteStringOrNull(w, "calibrationData", FileName(report.CalibrationData));
            w.WriteNumber("calibrationSamples", report.CalibrationSamples);
            WriteStringOrNull(w, "validationData", FileName(report.ValidationData));
            w.WriteNumber("weightsBytesBefore", report.WeightsBytesBefore);
            w.WriteNumber("weightsBytesAfter", report.WeightsBytesAfter);
            WriteGate(w, report);
            w.WriteStartObject("seconds");
            w.WriteNumber("calibration", Math.Round(report.CalibrationTime.TotalSeconds, 3));
            w.WriteNumber("evaluation", Math.Round(report.EvaluationTime.TotalSeconds, 3));
            w.WriteEndObject();
            w.WriteStartArray("layers");
            foreach (var l in report.Layers)
            {
                w.WriteStartObject();
                w.WriteString("name", l.Name);
                w.WriteString("op", l.Op);
                w.WriteString("weightBefore", l.WeightBefore);
                w.WriteString("weightAfter", l.WeightAfter);
                WriteStringOrNull(w, "activation", l.Activation);
                WriteStringOrNull(w, "keptFp32", l.KeptFp32);
                w.WriteBoolean("biasCorrected", l.BiasCorrected);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            report.Pruning?.WriteJson(w);
            w.WriteEndObject();
        }
        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static void WriteGate(Utf8JsonWriter w, QuantizationReport report)
    {
        if (report.Gate is not { } g)
        {
            w.WriteNull("gate");
            return;
        }
        w.WriteStartObject("gate");
        w.WriteString("metric", g.Final.Metric.ToString());
        w.WriteBoolean("higherIsBetter", Metric.HigherIsBetter(g.Final.Metric));
        WriteNumberOrNull(w, "referenceScore", g.Final.ReferenceScore);
        WriteNumberOrNull(w, "candidateScore", g.Final.CandidateScore);
        WriteNumberOrNull(w, "drop", g.Final.Drop);
        WriteNumberOrNull(w, "budget", g.Budget);
        w.WriteString("maxAccuracyDrop", report.BudgetText);
        w.WriteNumber("samples", g.Final.Samples);
        WriteNumberOrNull(w, "initialCandidateScore", g.Initial.CandidateScore);
        WriteNumberOrNull(w, "initialDrop", g.Initial.Drop);
        w.WriteStartArray("reverted");
        foreach (var layer in g.Reverted) w.WriteStringValue(layer);
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WriteStringOrNull(Utf8JsonWriter w, string property, string? value)
    {
        if (value is null) w.WriteNull(property);
        else w.WriteString(property, value);
    }

    private static void WriteNumberOrNull(Utf8JsonWriter w, string property, double? value)
    {
        if (value is { } v && double.IsFinite(v)) w.WriteNumber(property, v);
        else w.WriteNull(property);
    }

    private static string? FileName(string? path) => path is null ? null : Path.GetFileName(Path.TrimEndingDirectorySeparator(path));
}
