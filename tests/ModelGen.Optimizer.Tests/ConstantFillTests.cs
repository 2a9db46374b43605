using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Planning;
using ModelGen.Runtime;
using ModelGen.Spec;

namespace ModelGen.Optimizer.Tests;

/// <summary>
/// A ConstantOfShape left in the plan (one too large to fold) is filled once per executor: its
/// step carries once=1 and its output owns its arena bytes for the whole plan, so later calls can
/// rely on it without refilling.
/// </summary>
public class ConstantFillTests
{
    private static CompiledModel Compile()
    {
        var model = new OnnxModel();
        model.Opsets[""] = 13;
        var g = model.Graph;
        g.Inputs.Add(TensorInfo.Static("x", ElementType.Float, 1, 64));
        g.Initializers["shape"] = OnnxTensor.FromInt64s("shape", new[] { 2 }, new long[] { 1, 64 });
        g.Nodes.Add(new OnnxNode("ConstantOfShape", "fill", new[] { "shape" }, new[] { "c" })
            .Set(OnnxAttribute.OfTensor("value", OnnxTensor.FromFloats("v", new[] { 1 }, new[] { 2f }))));
        g.Nodes.Add(new OnnxNode("Add", "add", new[] { "x", "c" }, new[] { "y" }));
        g.Nodes.Add(new OnnxNode("Relu", "relu", new[] { "y" }, new[] { "z" }));
        g.Nodes.Add(new OnnxNode("Neg", "neg", new[] { "z" }, new[] { "out" }));
        g.Outputs.Add(new TensorInfo("out", ElementType.Float, null));
        ShapeInference.Run(model);
        // PlanBuilder directly, without the folding pass, stands for a fill too large to fold.
        return PlanBuilder.Build(model, "Fill", "fill.onnx", "");
    }

    [Fact]
    public void Fill_step_runs_once_and_keeps_its_bytes()
    {
        var compiled = Compile();
        var spec = compiled.Spec;
        var fill = spec.Steps.Single(s => s.Op == "ConstantOfShape");
        Assert.Contains(fill.Attributes, a => a.Name == PlanBuilder.OnceAttribute && a.Int == 1);

        var c = spec.Slots[fill.Outputs[0]];
        long start = c.Offset, end = c.Offset + SpecReader.ByteLength(c);
        foreach (var other in spec.Slots.Where(s => s.Storage == Spec.SlotStorage.Arena && s.Id != c.Id))
        {
            long os = other.Offset, oe = other.Offset + SpecReader.ByteLength(other);
            Assert.True(oe <= start || os >= end, $"slot '{other.Name}' [{os},{oe}) shares bytes with the fill [{start},{end})");
        }
    }

    [Fact]
    public void Later_calls_still_see_the_fill()
    {
        using var interpreter = new ModelInterpreter(Compile());
        var random = new Random(3);
        for (int call = 0; call < 3; call++)
        {
            var x = Enumerable.Range(0, 64).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray();
            var y = interpreter.RunFloats(x)[0];
            for (int i = 0; i < 64; i++) Assert.Equal(-MathF.Max(0, x[i] + 2f), y[i]);
        }
    }
}
