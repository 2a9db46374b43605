using ModelGen.Tests;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Runtime;
using static ModelGen.Optimizer.Tests.Evaluation.NpyFixtures;

namespace ModelGen.Optimizer.Tests.Evaluation;

/// <summary>Metrics, budgets and the evaluator on hand-computed examples.</summary>
public class MetricTests
{
    // Three samples of a 3-class output. Candidate argmax: 1, 0, 2; reference argmax: 1, 1, 2; labels 1, 1, 0.
    private static readonly float[][] Candidate = [[0.1f, 0.7f, 0.2f], [0.5f, 0.4f, 0.1f], [0.2f, 0.3f, 0.5f]];
    private static readonly float[][] Reference = [[0.1f, 0.6f, 0.3f], [0.3f, 0.6f, 0.1f], [0.2f, 0.3f, 0.5f]];
    private static readonly int[] Labels = [1, 1, 0];

    [Fact]
    public void Computes_each_metric_as_worked_out_by_hand()
    {
        Assert.Equal(1.0 / 3, Metric.Compute(MetricKind.Top1, Candidate, Reference, Labels), 12);
        Assert.Equal(2.0 / 3, Metric.Compute(MetricKind.Top1, Reference, Reference, Labels), 12);
        Assert.Equal(2.0 / 3, Metric.Compute(MetricKind.Agreement, Candidate, Reference, null), 12);
        // cos = dot / (|c| |r|): sample 0: 0.49 / sqrt(0.54 * 0.46); sample 1: 0.40 / sqrt(0.42 * 0.46); sample 2: identical, 1.
        double cosine = (0.49 / Math.Sqrt(0.54 * 0.46) + 0.40 / Math.Sqrt(0.42 * 0.46) + 1) / 3;
        Assert.Equal(cosine, Metric.Compute(MetricKind.Cosine, Candidate, Reference, null), 6); // float32 inputs: 1e-6
        Assert.Equal(0.2, Metric.Compute(MetricKind.MaxAbsError, Candidate, Reference, null), 6);
        // Squared differences 0.01 + 0.01 + 0.04 + 0.04 over 9 elements.
        Assert.Equal(0.10 / 9, Metric.Compute(MetricKind.Mse, Candidate, Reference, null), 6);
        // Against itself: perfect.
        Assert.Equal(1, Metric.Compute(MetricKind.Agreement, Reference, Reference, null));
        Assert.Equal(1, Metric.Compute(MetricKind.Cosine, Reference, Reference, null), 12);
        Assert.Equal(0, Metric.Compute(MetricKind.MaxAbsError, Reference, Reference, null));
        Assert.Equal(0, Metric.Compute(MetricKind.Mse, Reference, Reference, null));
    }

    [Fact]
    public void Edge_cases_argmax_ties_nan_zero_vectors_and_missing_labels()
    {
        Assert.Equal(1, Metric.ArgMax([0f, 2f, 2f, 1f])); // first of a tie
        Assert.Equal(2, Metric.ArgMax([float.NaN, 1f, 3f])); // NaN never wins
        Assert.Equal(1, Metric.Cosine([0f, 0f], [0f, 0f]));
        Assert.Equal(0, Metric.Cosine([0f, 0f], [1f, 0f]));
        Assert.Equal(-1, Metric.Cosine([1f, 2f], [-1f, -2f]), 12);
        Assert.True(double.IsNaN(Metric.Compute(MetricKind.MaxAbsError, [[float.NaN]], [[0f]], null))); // NaN must not pass as 0
        Assert.Contains("needs labels", Fails(EvaluationErrors.BadLabels, () => Metric.Compute(MetricKind.Top1, Candidate, Reference, null)).Message);
        Fails(ErrorCodes.InternalError, () => Metric.Compute(MetricKind.Mse, [[1f, 2f]], [[1f]], null));
        Assert.Equal(MetricKind.Top1, Metric.Default(hasLabels: true));
        Assert.Equal(MetricKind.Agreement, Metric.Default(hasLabels: false));
    }

    [Theory]
    [InlineData("0.5%", 0.005)]
    [InlineData(" 1 % ", 0.01)]
    [InlineData("0.01", 0.01)]
    [InlineData("0", 0)]
    [InlineData("1e-3", 0.001)]
    [InlineData("2.5", 2.5)]
    public void Parses_budgets(string text, double expected) => Assert.Equal(expected, AccuracyBudget.Parse(text), 15);

    [Theory]
    [InlineData("")]
    [InlineData("%")]
    [InlineData("-1")]
    [InlineData("-0.5%")]
    [InlineData("abc")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("1,5")]
    [InlineData("0.5%%")]
    [InlineData("0.5 pp")]
    public void Rejects_bad_budgets_with_MG1010(string text) =>
        Assert.Contains("MaxAccuracyDrop", Fails(ErrorCodes.BadArguments, () => AccuracyBudget.Parse(text)).Message);

    [Theory]
    [InlineData("top1", MetricKind.Top1)]
    [InlineData("Agreement", MetricKind.Agreement)]
    [InlineData("MSE", MetricKind.Mse)]
    [InlineData(" maxabserror ", MetricKind.MaxAbsError)]
    public void Parses_metric_names(string text, MetricKind expected) => Assert.Equal(expected, Metric.Parse(text));

    [Theory]
    [InlineData("3")]
    [InlineData("top5")]
    [InlineData("Accuracy")]
    [InlineData("Top1,Mse")]
    [InlineData("")]
    public void Rejects_unknown_metric_names_with_MG1028(string text)
    {
        var e = Fails(EvaluationErrors.UnknownMetric, () => Metric.Parse(text));
        Assert.Contains($"unknown accuracy metric '{text}'", e.Message);
        Assert.Contains("Top1, Agreement, Cosine, MaxAbsError, Mse", e.Message);
    }

    [Fact]
    public void Top1_refuses_labels_outside_the_classifiers_classes_with_MG1027()
    {
        using var dir = new TempFolder();
        string path = dir.Combine("v.npz");
        // Three classes, so label 3 (say, 1-based labels) can never be the argmax.
        Npz.Write(path, [("x", NpyArray.FromFloats([3, 1], [0, 1, 2])), ("labels", NpyArray.From<int>(ElementType.Int32, [3], [1, 3, 0]))]);
        var set = ValidationSet.Load(path, [TensorInfo.Static("x", ElementType.Float, 1, 1)]);
        var reference = new ReferenceOutputs(set, Reference, [1, 3], "probs");
        Func<OnnxTensor[], float[][]> candidate = inputs => [Candidate[(int)inputs[0].AsSpan<float>()[0]]];
        var e = Fails(EvaluationErrors.BadLabels, () => AccuracyEvaluator.Evaluate(reference, candidate, MetricKind.Top1));
        Assert.Contains("label 3 of sample 1", e.Message);
        Assert.Contains("has 3 classes", e.Message);
        Assert.Equal(path, e.File);
        // Metrics that do not read the labels do not care.
        Assert.Equal(1, AccuracyEvaluator.Evaluate(reference, candidate, MetricKind.Agreement).ReferenceScore);
    }

    [Fact]
    public void Evaluate_scores_a_candidate_against_cached_reference_outputs()
    {
        using var dir = new TempFolder();
        string path = dir.Combine("v.npz");
        // Sample i's input is [i]: the fake models below look it up to answer.
        Npz.Write(path, [("x", NpyArray.FromFloats([3, 1], [0, 1, 2])), ("labels", NpyArray.From<int>(ElementType.Int32, [3], Labels))]);
        var set = ValidationSet.Load(path, [TensorInfo.Static("x", ElementType.Float, 1, 1)]);
        var reference = new ReferenceOutputs(set, Reference, [1, 3], "probs");
        int calls = 0;
        Func<OnnxTensor[], float[][]> candidate = inputs =>
        {
            calls++;
            return [Candidate[(int)inputs[0].AsSpan<float>()[0]]];
        };

        var top1 = AccuracyEvaluator.Evaluate(reference, candidate, MetricKind.Top1);
        Assert.Equal(3, calls);
        Assert.Equal(2.0 / 3, top1.ReferenceScore, 12);
        Assert.Equal(1.0 / 3, top1.CandidateScore, 12);
        Assert.Equal(1.0 / 3, top1.Drop, 12);
        Assert.Equal(3, top1.Samples);
        Assert.Equal("Top1 66.67% -> 33.33% (drop 33.33 pp) on 3 samples", top1.Summary);
        Assert.False(top1.IsWithin(0.3));
        Assert.True(top1.IsWithin(0.34));

        var mse = AccuracyEvaluator.Evaluate(reference, candidate, MetricKind.Mse);
        Assert.Equal(0, mse.ReferenceScore);
        Assert.Equal(0.10 / 9, mse.Drop, 6); // for error metrics the drop is the increase of the error
        Assert.StartsWith("Mse 0 -> 0.0111 (increase 0.0111) on 3 samples", mse.Summary);

        var same = AccuracyEvaluator.Evaluate(reference, inputs => [Reference[(int)inputs[0].AsSpan<float>()[0]]], MetricKind.Agreement);
        Assert.Equal(0, same.Drop);
        Assert.True(same.IsWithin(0));

        // argmax metrics need a classifier output.
        var grid = new ReferenceOutputs(set, Reference, [1, 3, 1, 3], "map");
        Assert.Contains("use the Cosine", Fails(EvaluationErrors.DataMismatch, () => AccuracyEvaluator.Evaluate(grid, candidate, MetricKind.Agreement)).Message);
    }
}
