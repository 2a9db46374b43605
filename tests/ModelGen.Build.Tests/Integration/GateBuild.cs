using ModelGen.Tests;
using System.Globalization;
using ModelGen.Optimizer;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Gate;
using ModelGen.Optimizer.Quantization;

namespace ModelGen.Build.Tests.Integration;

/// <summary>
/// One real <c>dotnet build</c> of a solution of four consumer projects that reference the packed
/// ModelGen package, shared by every <see cref="GateTests"/> case (each build costs 15–30 s on
/// CI's two cores, and MSBuild keeps building the other projects of a solution when one fails):
/// <list type="bullet">
/// <item><c>gates</c> builds: <c>Base</c> (fp32), <c>Half</c> (Fp16), <c>WeightsOnly</c> (Int8Weights),
/// <c>Dynamic</c> (Int8Dynamic), <c>Pass</c> (Int8 within its budget) and <c>Fallback</c> (Int8, a
/// budget that only fits after the fallback);</item>
/// <item><c>strict</c> fails: Int8 with MaxAccuracyDrop 0 and no fallback (MG1032);</item>
/// <item><c>nofallback</c> fails: <c>Fallback</c>'s model and budget without the fallback (MG1032);</item>
/// <item><c>nodata</c> fails: Int8 with a ValidationData file that does not exist (MG1020).</item>
/// </list>
/// The budgets are learnt first by running the optimizer in process on the same model and data
/// (the same code the package ships), so they sit between "all layers int8" and "the worst layer
/// back in fp32" whatever the exact quantization error turns out to be.
/// </summary>
public sealed class GateBuild : IDisposable
{
    /// <summary>Validation samples: enough for stable MaxAbsError, small enough to evaluate in milliseconds.</summary>
    public const int Samples = 64;

    private static readonly TimeSpan Timeout = TimeSpan.Parse(ConsumerProject.BuildTimeout);
    private readonly TempFolder _temp = new("mg-gate-");

    public GateBuild()
    {
        Root = _temp.Path;
        var package = PackedPackage.Get();
        var data = Path.Combine(Root, "shared");
        Directory.CreateDirectory(data);
        ModelPath = Path.Combine(data, "gate.onnx");
        File.WriteAllBytes(ModelPath, TestModels.GateNet().Encode());
        DataPath = Path.Combine(data, "val.npz");
        Npz.Write(DataPath, [("x", NpyArray.FromFloats([Samples, 64], TestModels.GateNetInputs(Samples)))]);

        // What the gate sees for this model: the drop with every layer int8, and which layers the
        // fallback returns to fp32 to get under half of it (and the drop it ends at).
        AllInt8 = InProcess(budget: "1000", fallback: false).Initial;
        var fallback = InProcess(budget: Format(AllInt8.Drop / 2), fallback: true);
        Assert.NotEmpty(fallback.Reverted);
        AfterFallback = fallback.Final;
        ExpectedReverted = fallback.Reverted;
        FallbackBudget = Format((AllInt8.Drop + AfterFallback.Drop) / 2);
        PassBudget = Format(AllInt8.Drop * 2);

        ConsumerProject.WriteNugetConfig(Root, package.Feed);
        Project("gates", $"""
                <OptimizedModel Include="../shared/gate.onnx" ClassName="Base" />
                <OptimizedModel Include="../shared/gate.onnx" ClassName="Half" Quantize="Fp16" AllowUngated="true" />
                <OptimizedModel Include="../shared/gate.onnx" ClassName="WeightsOnly" Quantize="Int8Weights" AllowUngated="true" />
                <OptimizedModel Include="../shared/gate.onnx" ClassName="Dynamic" Quantize="Int8Dynamic"
                                ValidationData="../shared/val.npz" Metric="MaxAbsError" MaxAccuracyDrop="{PassBudget}" />
                <OptimizedModel Include="../shared/gate.onnx" ClassName="Pass" Quantize="Int8"
                                ValidationData="../shared/val.npz" Metric="MaxAbsError" MaxAccuracyDrop="{PassBudget}" AccuracyFallback="false" />
                <OptimizedModel Include="../shared/gate.onnx" ClassName="Fallback" Quantize="Int8"
                                ValidationData="../shared/val.npz" Metric="MaxAbsError" MaxAccuracyDrop="{FallbackBudget}" AccuracyFallback="true" />
            """);
        CopyModel("strict");
        Project("strict", """
                <OptimizedModel Include="strict.onnx" ClassName="Strict" Quantize="Int8"
                                ValidationData="../shared/val.npz" Metric="MaxAbsError" MaxAccuracyDrop="0" AccuracyFallback="false" />
            """);
        CopyModel("nofallback");
        Project("nofallback", $"""
                <OptimizedModel Include="nofallback.onnx" ClassName="NoFallback" Quantize="Int8"
                                ValidationData="../shared/val.npz" Metric="MaxAbsError" MaxAccuracyDrop="{FallbackBudget}" AccuracyFallback="false" />
            """);
        Project("nodata", """
                <OptimizedModel Include="../shared/gate.onnx" ClassName="NoData" Quantize="Int8" ValidationData="missing-val.npz" />
            """);
        File.WriteAllText(Path.Combine(Root, "gate.slnx"), """
            <Solution>
              <Project Path="gates/gates.csproj" />
              <Project Path="strict/strict.csproj" />
              <Project Path="nofallback/nofallback.csproj" />
              <Project Path="nodata/nodata.csproj" />
            </Solution>
            """);

        Result = DotnetCli.Run(Root, package.Environment, Timeout, "build", "gate.slnx", "-nologo", "-v:n");
    }

    /// <summary>The temp folder holding the solution.</summary>
    internal string Root { get; }

    /// <summary>The model every item compiles.</summary>
    internal string ModelPath { get; }

    /// <summary>The validation data (input <c>x</c>, no labels).</summary>
    internal string DataPath { get; }

    /// <summary>The gate's score with every layer int8 (in process).</summary>
    internal EvaluationResult AllInt8 { get; }

    /// <summary>The score after the fallback reverted <see cref="ExpectedReverted"/> (in process).</summary>
    internal EvaluationResult AfterFallback { get; }

    /// <summary>The layers the fallback returns to fp32 (in process).</summary>
    internal IReadOnlyList<string> ExpectedReverted { get; }

    /// <summary>Between <see cref="AfterFallback"/>'s drop and <see cref="AllInt8"/>'s: fits only with the fallback.</summary>
    internal string FallbackBudget { get; }

    /// <summary>Twice the all-int8 drop: fits without the fallback.</summary>
    internal string PassBudget { get; }

    /// <summary>The one build of the solution.</summary>
    internal CliResult Result { get; }

    /// <summary>Where <paramref name="project"/>'s outputs for class <paramref name="name"/> go.</summary>
    internal string Output(string project, string name, string extension) =>
        Path.Combine(Root, project, "obj", "Debug", "net10.0", "modelgen", name + extension);

    public void Dispose() => _temp.Dispose();

    private GateResult InProcess(string budget, bool fallback)
    {
        var result = ModelOptimizer.Optimize(new OptimizeOptions(ModelPath, "", "Probe")
        {
            Quantize = QuantizeMode.Int8,
            ValidationData = DataPath,
            Metric = MetricKind.MaxAbsError,
            MaxAccuracyDrop = budget,
            AccuracyFallback = fallback,
        });
        return result.Quantization?.Gate ?? throw new InvalidOperationException("the in-process optimizer ran no accuracy gate");
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private void CopyModel(string project)
    {
        Directory.CreateDirectory(Path.Combine(Root, project));
        File.Copy(ModelPath, Path.Combine(Root, project, project + ".onnx"));
    }

    private void Project(string name, string items)
    {
        var folder = Path.Combine(Root, name);
        ConsumerProject.Write(folder, name, $"""
              <ItemGroup>
                <PackageReference Include="ModelGen" Version="0.1.0" />
            {items}
              </ItemGroup>
            """);
        File.WriteAllText(Path.Combine(folder, "Program.cs"), "System.Console.WriteLine();");
    }
}
