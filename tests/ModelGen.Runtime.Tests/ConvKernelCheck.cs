using ModelGen.Runtime;
using ModelGen.Runtime.Kernels;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// What the tests of one Conv kernel share: running a one-Conv plan against <see cref="Reference.Conv"/> (twice, on other
/// data first, so stale per-part buffers or scratch would show), and asking a kernel's <c>Applies</c> about a shape.
/// </summary>
internal static class ConvKernelCheck
{
    /// <summary>
    /// Runs Conv(<paramref name="xs"/>, <paramref name="ws"/>) with the given attributes and fused activation (LeakyRelu
    /// with alpha 0.1, Clip to [-0.5, 0.75]) and compares it with the definition within <paramref name="rel"/> and
    /// <paramref name="abs"/>. With <paramref name="runtimeWeights"/> the weights and bias are plan inputs, not constants.
    /// </summary>
    public static void Matches(int[] xs, int[] ws, int group, int[] strides, int[] pads, int[] dilations, bool withBias, string activation,
        bool runtimeWeights, float rel, float abs)
    {
        var ys = Data.ConvOutputShape(xs, ws, strides, pads, dilations);
        var x = Data.Random(xs.Sum(), Data.Count(xs), -2f, 2f);
        var w = Data.Random(ws.Sum(), Data.Count(ws));
        var b = Data.Random(3, ws[0]);
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iw = runtimeWeights ? plan.Input("W", ws) : plan.Weight("W", w, ws);
        int ib = !withBias ? -1 : runtimeWeights ? plan.Input("B", [ws[0]]) : plan.Weight("B", b, [ws[0]]);
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        var attributes = new List<PlanAttribute>
        {
            PlanAttribute.Int("group", group), PlanAttribute.Ints("strides", ConvTests.Longs(strides)),
            PlanAttribute.Ints("pads", ConvTests.Longs(pads)), PlanAttribute.Ints("dilations", ConvTests.Longs(dilations)),
        };
        if (activation != "") attributes.Add(PlanAttribute.String("activation", activation));
        if (activation == "LeakyRelu") attributes.Add(PlanAttribute.Float("activation_alpha", 0.1f));
        if (activation == "Clip")
        {
            attributes.Add(PlanAttribute.Float("activation_min", -0.5f));
            attributes.Add(PlanAttribute.Float("activation_max", 0.75f));
        }
        plan.Step("Conv", [ix, iw, ib], [iy], [.. attributes]);

        using var executor = plan.Executor(out var weights);
        using var _ = weights;
        void SetInputs(float[] input)
        {
            executor.SetInput<float>(0, input);
            if (!runtimeWeights) return;
            executor.SetInput<float>(1, w);
            if (withBias) executor.SetInput<float>(2, b);
        }
        SetInputs(Data.Random(99, x.Length, -5f, 5f));
        executor.Run();
        SetInputs(x);
        executor.Run();
        var y = new float[Data.Count(ys)];
        executor.GetOutput<float>(0, y);

        Func<float, float> act = activation switch
        {
            "Relu" => v => Math.Max(v, 0f),
            "LeakyRelu" => v => v >= 0 ? v : 0.1f * v,
            "Clip" => v => Math.Clamp(v, -0.5f, 0.75f),
            "Sigmoid" => v => 1f / (1f + MathF.Exp(-v)),
            "Tanh" => MathF.Tanh,
            _ => v => v,
        };
        var expected = Reference.Conv(x, xs, w, ws, withBias ? b : null, group, strides, pads, dilations, ys).Select(act).ToArray();
        Data.Close(expected, y, rel, abs);
    }

    /// <summary>What <paramref name="applies"/> (a kernel's <c>Applies</c>) says about a plain Conv of these shapes and strides.</summary>
    public static unsafe bool Applies(Func<BindContext, bool> applies, int[] xs, int[] ws, int[] strides, int[] ys)
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int iw = plan.Weight("W", new float[Data.Count(ws)], ws);
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        plan.Step("Conv", [ix, iw], [iy], PlanAttribute.Ints("strides", ConvTests.Longs(strides)));
        using var weights = plan.Weights();
        return applies(new BindContext(plan.Plan(), 0, null, weights, []));
    }
}
