using ModelGen.Spec;
using ModelGen.Tests;

namespace ModelGen.Optimizer.Tests;

/// <summary>
/// The memory planner gives a Conv's output its fused residual's bytes when the Conv is the residual's last reader
/// (the kernels then add each element's residual just before storing it there), and never lets two tensors share bytes
/// otherwise while both are live. Answers against ONNX Runtime for these models are in <see cref="OptimizerVersusOrtTests"/>.
/// </summary>
public class InPlaceResidualTests
{
    private static ModelSpec Compile(TestModels model, string name)
    {
        using var dir = new TempFolder();
        return ModelOptimizer.Optimize(new OptimizeOptions(model.Save(dir.Path, name + ".onnx"), "", name)).Compiled.Spec;
    }

    /// <summary>The Conv steps with a fused residual, each with its residual's and its output's slots.</summary>
    private static List<(SlotSpec Residual, SlotSpec Output, int Step)> ResidualSteps(ModelSpec spec) =>
        spec.Steps.Select((step, index) => (step, index))
            .Where(x => x.step.Op == "Conv" && x.step.Attributes.Any(a => a.Name == "residual"))
            .Select(x => (spec.Slots[x.step.Inputs[(int)x.step.Attributes.Single(a => a.Name == "residual").Int]], spec.Slots[x.step.Outputs[0]], x.index))
            .ToList();

    [Fact]
    public void A_residual_its_conv_reads_last_lends_the_output_its_bytes()
    {
        // Both of ResidualCnn's blocks: the identity block adds the stem (also read earlier, by the block's first Conv),
        // the downsample block its shortcut Conv's output.
        var spec = Compile(TestModels.ResidualCnn(), "Res");
        var steps = ResidualSteps(spec);
        Assert.Equal(2, steps.Count);
        foreach (var (residual, output, _) in steps)
        {
            Assert.Equal(SlotStorage.Arena, output.Storage);
            Assert.Equal(residual.Offset, output.Offset);
        }
        AssertNoLiveTensorsShareBytes(spec);
    }

    [Fact]
    public void A_residual_read_after_its_conv_keeps_its_own_bytes()
    {
        var spec = Compile(TestModels.ResidualReadTwice(), "Twice");
        var (residual, output, _) = Assert.Single(ResidualSteps(spec));
        Assert.NotEqual(residual.Offset, output.Offset);
        AssertNoLiveTensorsShareBytes(spec);
    }

    /// <summary>
    /// Any two arena slots whose bytes intersect are never live at the same step, except a fused residual and its
    /// Conv's output at that Conv, when no later step reads the residual.
    /// </summary>
    private static void AssertNoLiveTensorsShareBytes(ModelSpec spec)
    {
        int end = spec.Steps.Count + 1;
        var first = new int[spec.Slots.Count];
        var last = new int[spec.Slots.Count];
        Array.Fill(first, int.MaxValue);
        foreach (var input in spec.Inputs) first[input.Slot] = 0;
        for (int s = 0; s < spec.Steps.Count; s++)
        {
            foreach (int i in spec.Steps[s].Inputs) if (i >= 0) last[i] = Math.Max(last[i], s + 1);
            foreach (int o in spec.Steps[s].Outputs)
            {
                first[o] = Math.Min(first[o], s + 1);
                last[o] = Math.Max(last[o], s + 1);
            }
        }
        foreach (var output in spec.Outputs) last[output.Slot] = end;
        var inPlace = ResidualSteps(spec).Where(x => last[x.Residual.Id] == x.Step + 1).Select(x => (x.Residual.Id, x.Output.Id)).ToHashSet();

        var arena = spec.Slots.Where(s => s.Storage == SlotStorage.Arena && first[s.Id] != int.MaxValue).ToList();
        foreach (var a in arena)
        foreach (var b in arena.Where(b => b.Id > a.Id))
        {
            bool shareBytes = a.Offset < b.Offset + SpecReader.ByteLength(b) && b.Offset < a.Offset + SpecReader.ByteLength(a);
            bool bothLive = first[a.Id] <= last[b.Id] && first[b.Id] <= last[a.Id];
            if (!shareBytes || !bothLive) continue;
            bool lent = inPlace.Contains((a.Id, b.Id)) || inPlace.Contains((b.Id, a.Id));
            Assert.True(lent, $"slots '{a.Name}' and '{b.Name}' share bytes while both are live (steps {first[a.Id]}–{last[a.Id]} and {first[b.Id]}–{last[b.Id]})");
        }
    }
}
