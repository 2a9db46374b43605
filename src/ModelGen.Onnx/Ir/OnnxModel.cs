namespace ModelGen.Onnx.Ir;

/// <summary>A loaded model: metadata plus the main graph.</summary>
public sealed class OnnxModel
{
    public long IrVersion { get; set; } = 8;

    public string ProducerName { get; set; } = "";

    public string ProducerVersion { get; set; } = "";

    public string Domain { get; set; } = "";

    public long ModelVersion { get; set; }

    public string Doc { get; set; } = "";

    /// <summary>Opset version per domain ("" is the default ONNX domain).</summary>
    public Dictionary<string, long> Opsets { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> MetadataProps { get; } = new(StringComparer.Ordinal);

    public OnnxGraph Graph { get; set; } = new();

    /// <summary>The default-domain opset version (0 when none is declared).</summary>
    public long DefaultOpset =>
        Opsets.TryGetValue("", out var v) ? v : Opsets.TryGetValue("ai.onnx", out var w) ? w : 0;
}
