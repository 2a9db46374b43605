using ModelGen.Runtime;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// Elementwise operators against scalar double-precision formulas. Tolerance: rel 1e-6, abs 1e-6 for
/// exact ops; rel 2e-6 / abs 1e-6 for exp-based ones (vector exp is accurate to ~1 ulp); Erf abs 3e-7
/// (A&S 7.1.26 max error 1.5e-7 plus float rounding, series near 0).
/// </summary>
public class ElementwiseTests
{
    public static TheoryData<string, int> UnaryCases()
    {
        var data = new TheoryData<string, int>();
        foreach (var op in new[] { "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Elu", "Selu", "Exp", "Log", "Sqrt", "Neg", "Abs", "Erf", "Softplus", "HardSigmoid", "HardSwish" })
        {
            foreach (int n in new[] { 1, 3, 17, 33, 100, 300_001 }) data.Add(op, n);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void UnaryMatchesFormula(string op, int n)
    {
        bool positive = op is "Log" or "Sqrt";
        var x = Data.Random(n, n, positive ? 0.01f : -6f, 6f);
        x[0] = positive ? 1f : 0f; // the exact kink/zero of most ops
        var attributes = op switch
        {
            "LeakyRelu" => new[] { PlanAttribute.Float("alpha", 0.1f) },
            "Clip" => [PlanAttribute.Int("opset", 6), PlanAttribute.Float("min", -1f), PlanAttribute.Float("max", 2f)],
            "Elu" => [PlanAttribute.Float("alpha", 0.7f)],
            "HardSigmoid" => [PlanAttribute.Float("alpha", 0.3f), PlanAttribute.Float("beta", 0.4f)],
            _ => [],
        };
        Func<double, double> f = op switch
        {
            "Relu" => v => Math.Max(v, 0),
            "LeakyRelu" => v => v >= 0 ? v : 0.1 * v,
            "Sigmoid" => v => 1 / (1 + Math.Exp(-v)),
            "Tanh" => Math.Tanh,
            "Clip" => v => Math.Clamp(v, -1, 2),
            "Elu" => v => v > 0 ? v : 0.7 * (Math.Exp(v) - 1),
            "Selu" => v => 1.0507009873554804934193349852946 * (v > 0 ? v : 1.6732632423543772848170429916717 * (Math.Exp(v) - 1)),
            "Exp" => Math.Exp,
            "Log" => Math.Log,
            "Sqrt" => Math.Sqrt,
            "Neg" => v => -v,
            "Abs" => Math.Abs,
            "Erf" => Erf,
            "Softplus" => v => Math.Log(1 + Math.Exp(v)),
            "HardSigmoid" => v => Math.Clamp(0.3 * v + 0.4, 0, 1),
            _ => v => v * Math.Clamp(v / 6 + 0.5, 0, 1),
        };
        var plan = new TestPlan();
        int ix = plan.Input("X", [n]);
        int iy = plan.Arena("Y", [n]);
        plan.Output(iy);
        plan.Step(op, [ix], [iy], attributes);
        var y = plan.Run(x)[0];
        var expected = x.Select(v => (float)f(v)).ToArray();
        bool transcendental = op is "Sigmoid" or "Tanh" or "Elu" or "Selu" or "Exp" or "Log" or "Softplus";
        Data.Close(expected, y, transcendental ? 2e-6f : 1e-6f, op == "Erf" ? 3e-7f : 1e-6f, op);
    }

    public static TheoryData<string, int[], int[], int[]> BinaryCases()
    {
        var data = new TheoryData<string, int[], int[], int[]>();
        var shapes = new (int[] A, int[] B, int[] Y)[]
        {
            ([33], [33], [33]),
            ([1], [3, 17], [3, 17]),
            ([2, 3, 17], [], [2, 3, 17]),
            ([2, 8, 5, 5], [8, 1, 1], [2, 8, 5, 5]),
            ([4, 1], [1, 33], [4, 33]),
            ([2, 1, 3], [5, 1], [2, 5, 3]),
            ([100], [3, 1, 100], [3, 1, 100]),
            ([600, 1000], [1000], [600, 1000]),  // 600k elements: worker pool
        };
        foreach (var op in new[] { "Add", "Sub", "Mul", "Div", "Max", "Min", "Pow" })
        {
            foreach (var s in shapes) data.Add(op, s.A, s.B, s.Y);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void BinaryBroadcastsLikeNumpy(string op, int[] aShape, int[] bShape, int[] yShape)
    {
        var a = Data.Random(1, Data.Count(aShape), op == "Pow" ? 0.1f : -2f, 2f);
        var b = Data.Random(2, Data.Count(bShape), op == "Div" ? 0.5f : -2f, 2f);
        Func<float, float, float> f = op switch
        {
            "Add" => (x, y) => x + y,
            "Sub" => (x, y) => x - y,
            "Mul" => (x, y) => x * y,
            "Div" => (x, y) => x / y,
            "Max" => Math.Max,
            "Min" => Math.Min,
            _ => MathF.Pow,
        };
        var plan = new TestPlan();
        int ia = plan.Input("A", aShape);
        int ib = plan.Input("B", bShape);
        int iy = plan.Arena("Y", yShape);
        plan.Output(iy);
        plan.Step(op, [ia, ib], [iy]);
        var y = plan.Run(a, b)[0];
        Data.Close(Reference.Broadcast(a, aShape, b, bShape, yShape, f), y, 1e-6f, 1e-6f, op);
    }

    [Theory]
    [InlineData("Sum")]
    [InlineData("Max")]
    [InlineData("Min")]
    [InlineData("Mean")]
    public void VariadicOpsFoldAllInputs(string op)
    {
        int[] s0 = [3, 1], s1 = [3, 5], s2 = [5];
        var x0 = Data.Random(1, 3);
        var x1 = Data.Random(2, 15);
        var x2 = Data.Random(3, 5);
        var plan = new TestPlan();
        int i0 = plan.Input("x0", s0), i1 = plan.Input("x1", s1), i2 = plan.Input("x2", s2);
        int iy = plan.Arena("Y", [3, 5]);
        plan.Output(iy);
        plan.Step(op, [i0, i1, i2], [iy]);
        var y = plan.Run(x0, x1, x2)[0];
        var expected = new float[15];
        for (int i = 0; i < 3; i++)
        for (int j = 0; j < 5; j++)
        {
            float a = x0[i], b = x1[i * 5 + j], c = x2[j];
            expected[i * 5 + j] = op switch
            {
                "Sum" => a + b + c,
                "Max" => Math.Max(a, Math.Max(b, c)),
                "Min" => Math.Min(a, Math.Min(b, c)),
                _ => (a + b + c) / 3,
            };
        }
        Data.Close(expected, y, 1e-6f, 1e-6f);
    }

    [Fact]
    public void ClipReadsBoundsFromInputs()
    {
        var x = Data.Random(3, 50, -3, 3);
        var plan = new TestPlan();
        int ix = plan.Input("X", [50]);
        int ilo = plan.Input("lo", []);
        int ihi = plan.Weight("hi", new[] { 1.5f }, []);
        int iy = plan.Arena("Y", [50]);
        plan.Output(iy);
        plan.Step("Clip", [ix, ilo, ihi], [iy], PlanAttribute.Int("opset", 13));
        var y = plan.Run(x, [-0.25f])[0];
        Data.Close(x.Select(v => Math.Clamp(v, -0.25f, 1.5f)).ToArray(), y, 0, 0);
    }

    [Fact]
    public void IntegerAddBroadcasts()
    {
        var plan = new TestPlan();
        int ia = plan.Weight("a", new long[] { 1, 2, 3, 4, 5, 6 }, [2, 3], ElementType.Int64);
        int ib = plan.Weight("b", new long[] { 10, 20, 30 }, [3], ElementType.Int64);
        int iy = plan.Arena("Y", [2, 3], ElementType.Int64);
        plan.Output(iy);
        plan.Step("Mul", [ia, ib], [iy]);
        using var executor = plan.Executor(out var weights);
        executor.Run();
        var y = new long[6];
        executor.GetOutput<long>(0, y);
        Assert.Equal(new long[] { 10, 40, 90, 40, 100, 180 }, y);
        weights.Dispose();
    }

    /// <summary>erf by its Maclaurin series (|x| &lt; 3) or continued fraction tail, in double.</summary>
    private static double Erf(double x)
    {
        double ax = Math.Abs(x);
        if (ax > 5) return Math.Sign(x);
        double sum = 0, term = ax;
        for (int n = 0; n < 200; n++)
        {
            sum += term / (2 * n + 1);
            term *= -ax * ax / (n + 1);
            if (Math.Abs(term) < 1e-17) break;
        }
        return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * sum;
    }
}
