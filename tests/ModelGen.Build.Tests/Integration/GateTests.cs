using System.Globalization;
using System.Text.Json;

namespace ModelGen.Build.Tests.Integration;

/// <summary>
/// The accuracy gate as a user meets it: real <c>dotnet build</c>s of projects that reference the
/// packed package (one shared build, see <see cref="GateBuild"/>). A lossy model that misses its
/// budget fails the build with MG1032 and the numbers; one that meets it builds and reports the
/// numbers; the fallback turns a failure into a pass; every Quantize mode shrinks the weights.
/// </summary>
[Collection(IntegrationCollection.Name)]
public sealed class GateTests(GateBuild build) : IClassFixture<GateBuild>
{
    [Fact]
    public void ImpossibleBudgetFailsTheBuildWithTheNumbersAndLeavesNothingBehind()
    {
        var r = build.Result;
        Assert.NotEqual(0, r.ExitCode);
        Assert.False(r.HasStackTrace, r.ToString());
        Assert.DoesNotContain("MG1099", r.Output);

        // MSBuild repeats each error in its closing summary, hence First, not Single.
        var line = ErrorLine("MG1032", "strict.onnx");
        // The reference (ONNX Runtime against itself) has no error, so the candidate's error is the drop.
        var drop = build.AllInt8.Drop.ToString("G4", CultureInfo.InvariantCulture);
        Assert.True(line.Contains($"MaxAbsError rose {drop}", StringComparison.Ordinal), $"expected the drop {drop} in:\n{line}");
        Assert.Contains($"on {GateBuild.Samples} samples", line);
        Assert.Contains("MaxAccuracyDrop 0", line);
        Assert.Contains("AccuracyFallback is off", line);
        Assert.True(build.AllInt8.Drop > 0, "int8 must change this model's outputs, or the case proves nothing");

        foreach (var ext in new[] { ".mgspec", ".weights", ".onnx", ".report.md", ".report.json" })
        {
            Assert.False(File.Exists(build.Output("strict", "Strict", ext)), $"a failed gate left Strict{ext} behind");
        }
    }

    [Fact]
    public void MetBudgetBuildsAndTheReportHoldsTheGateNumbers()
    {
        Assert.True(File.Exists(build.Output("gates", "Pass", ".mgspec")), build.Result.ToString());
        using var report = ReadReport("Pass");
        var root = report.RootElement;
        Assert.Equal("Int8", root.GetProperty("quantize").GetString());
        Assert.EndsWith("gate.onnx", root.GetProperty("source").GetString());
        var gate = root.GetProperty("gate");
        Assert.Equal("MaxAbsError", gate.GetProperty("metric").GetString());
        Assert.Equal(GateBuild.Samples, gate.GetProperty("samples").GetInt32());
        double drop = gate.GetProperty("drop").GetDouble(), budget = gate.GetProperty("budget").GetDouble();
        Assert.True(drop <= budget, $"drop {drop} > budget {budget}");
        Assert.Equal(double.Parse(build.PassBudget, CultureInfo.InvariantCulture), budget, 12);
        // The shipped kernels are deterministic, so the build measures what the in-process run did.
        Assert.Equal(build.AllInt8.Drop, drop, 9);
        Assert.Equal(0, gate.GetProperty("referenceScore").GetDouble());
        Assert.Equal(drop, gate.GetProperty("candidateScore").GetDouble() - gate.GetProperty("referenceScore").GetDouble(), 9);
        Assert.Empty(gate.GetProperty("reverted").EnumerateArray());
        long before = root.GetProperty("weightsBytesBefore").GetInt64(), after = root.GetProperty("weightsBytesAfter").GetInt64();
        Assert.True(after < before, $"weights {before} -> {after}");
        Assert.Equal(new FileInfo(build.Output("gates", "Pass", ".weights")).Length, after);
        var layers = root.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(2, layers.Count);
        Assert.All(layers, l => Assert.Equal("Gemm", l.GetProperty("op").GetString()));
        Assert.All(layers, l => Assert.False(IsKeptFp32(l), l.ToString()));
    }

    [Fact]
    public void FallbackTurnsAFailedGateIntoAPassAndNamesTheFp32Layers()
    {
        // Without the fallback, the same model, data and budget fail.
        var line = ErrorLine("MG1032", "nofallback.onnx");
        Assert.Contains($"MaxAccuracyDrop {build.FallbackBudget}", line);
        Assert.False(File.Exists(build.Output("nofallback", "NoFallback", ".mgspec")));

        // With it, the build passes after returning the most harmful layer(s) to fp32.
        Assert.True(File.Exists(build.Output("gates", "Fallback", ".mgspec")), build.Result.ToString());
        using var report = ReadReport("Fallback");
        var gate = report.RootElement.GetProperty("gate");
        double budget = gate.GetProperty("budget").GetDouble();
        Assert.True(gate.GetProperty("initialDrop").GetDouble() > budget, "all-int8 already fitted: the case proves nothing");
        Assert.True(gate.GetProperty("drop").GetDouble() <= budget);
        var reverted = gate.GetProperty("reverted").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.NotEmpty(reverted);
        // GateNet's first Gemm (node "Gemm_0", with the outlier weights) is the one built to dominate the error.
        Assert.Equal("Gemm_0", reverted[0]);
        // The fallback returns layers in sensitivity order, so it stops at a prefix of the order
        // the in-process run (with a tighter budget) followed.
        Assert.Equal(build.ExpectedReverted.Take(reverted.Count), reverted);
        var kept = report.RootElement.GetProperty("layers").EnumerateArray()
            .Where(IsKeptFp32)
            .Select(l => l.GetProperty("name").GetString()!);
        Assert.Equal(reverted.Order(), kept.Order());
    }

    [Fact]
    public void EveryQuantizeModeBuildsAndShrinksTheWeights()
    {
        Assert.True(File.Exists(build.Output("gates", "Base", ".mgspec")), build.Result.ToString());
        double fp32 = new FileInfo(build.Output("gates", "Base", ".weights")).Length;
        double Ratio(string name) => new FileInfo(build.Output("gates", name, ".weights")).Length / fp32;

        // Fp16 halves every weight of 16 or more elements; the 16-element output bias stays fp32.
        Assert.InRange(Ratio("Half"), 0.45, 0.56);
        // Int8 quarters the weights; per-channel scales and fp32 biases add ~2.5% of the fp32 size.
        Assert.InRange(Ratio("WeightsOnly"), 0.20, 0.32);
        Assert.InRange(Ratio("Dynamic"), 0.20, 0.32);

        // The ungated ones say so, naming the model.
        var warnings = build.Result.Output.Split('\n').Where(l => l.Contains("warning MG1031", StringComparison.Ordinal)).ToList();
        Assert.True(warnings.Count >= 2, build.Result.ToString());
        Assert.All(warnings, w => Assert.Contains("gate.onnx", w));
        using var dynamic = ReadReport("Dynamic");
        Assert.Equal("Int8Dynamic", dynamic.RootElement.GetProperty("quantize").GetString());
    }

    [Fact]
    public void MissingValidationDataFileFailsTheBuildWithMG1020()
    {
        ErrorLine("MG1020", "missing-val.npz");
        Assert.False(File.Exists(build.Output("nodata", "NoData", ".mgspec")));
        // The three failing projects fail for their own reasons only.
        Assert.Equal(["MG1020", "MG1032"], build.Result.ErrorCodes.Order());
    }

    /// <summary>The first "error CODE" line that names <paramref name="file"/> (fails when there is none).</summary>
    private string ErrorLine(string code, string file)
    {
        var line = build.Result.ErrorLines(code).FirstOrDefault(l => l.Contains(file, StringComparison.Ordinal));
        Assert.True(line is not null, $"no error {code} naming {file}:\n{build.Result}");
        return line;
    }

    /// <summary>A layer's keptFp32 holds the reason it stayed fp32; null (or absent) when it was quantized.</summary>
    private static bool IsKeptFp32(JsonElement layer) =>
        layer.TryGetProperty("keptFp32", out var kept) && kept.ValueKind is not (JsonValueKind.Null or JsonValueKind.False);

    private JsonDocument ReadReport(string name)
    {
        var path = build.Output("gates", name, ".report.json");
        Assert.True(File.Exists(path), $"{path} is missing:\n{build.Result}");
        return JsonDocument.Parse(File.ReadAllText(path));
    }
}
