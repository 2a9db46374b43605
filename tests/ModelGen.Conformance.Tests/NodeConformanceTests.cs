using ModelGen.Tests;

namespace ModelGen.Conformance.Tests;

/// <summary>
/// Every ONNX single-operator conformance case in the shared test data (<c>onnx-node/</c>), one
/// test per case folder, compiled by the optimizer and run by the plan executor. Outputs are
/// compared at the ONNX runner's defaults, rtol = 1e-3 and atol = 1e-7 (see
/// <see cref="TensorComparison"/>); shape-like operands fed as inputs are compiled as
/// initializers (see <see cref="ParameterInputs"/>). A case in <c>expected-failures.txt</c> must
/// fail, so the list never goes stale; every other case must pass.
/// </summary>
public class NodeConformanceTests
{
    private const string Folder = "onnx-node";

    public static IEnumerable<TheoryDataRow<string>> Cases()
    {
        string root = Path.Combine(TestData.Root, Folder);
        if (!Directory.Exists(root))
        {
            // One case that reports the missing data (a failure under CI=true, a skip otherwise).
            yield return new TheoryDataRow<string>("") { TestDisplayName = "onnx-node (missing)" };
            yield break;
        }
        foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileName(dir);
            yield return new TheoryDataRow<string>(name) { TestDisplayName = name };
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case(string name)
    {
        string dir = TestData.Require(Path.Combine(Folder, name));
        string? failure = CaseRunner.Run(dir);
        if (ExpectedFailures.All.TryGetValue(name, out var reason))
        {
            Assert.True(failure is not null,
                $"{name} passes now, but expected-failures.txt lists it ({reason}): remove it from expected-failures.txt.");
            return;
        }
        Assert.True(failure is null, $"{name}: {failure}");
    }

    [Fact]
    public void EveryExpectedFailureNamesAnExistingCase()
    {
        string root = TestData.Require(Folder);
        var missing = ExpectedFailures.All.Keys.Where(n => !Directory.Exists(Path.Combine(root, n))).ToList();
        Assert.True(missing.Count == 0, $"expected-failures.txt lists cases that do not exist: {string.Join(", ", missing)}");
    }
}
