using ModelGen.Runtime;
using ModelGen.Spec;

namespace ModelGen.Optimizer.Planning;

/// <summary>
/// Builds the runtime's <see cref="ExecutionPlan"/> from a spec: the interpreter's twin of the
/// C# that the source generator emits, so the CLI, the tests and the predictors run one plan.
/// </summary>
internal static class SpecToPlan
{
    public static ExecutionPlan Convert(ModelSpec spec)
    {
        var slots = spec.Slots.Select(s => new TensorSlot(
            s.Name,
            ElementTypes.TryParse(s.ElementType, out var t) ? t : throw new ArgumentException($"unknown element type {s.ElementType}"),
            s.Shape.ToArray(),
            s.Storage == ModelGen.Spec.SlotStorage.Arena ? ModelGen.Runtime.SlotStorage.Arena : ModelGen.Runtime.SlotStorage.Weights,
            s.Offset,
            s.BatchAxis)).ToArray();
        var steps = spec.Steps.Select(s => new PlanStep(
            s.Op, s.Name, s.Inputs.ToArray(), s.Outputs.ToArray(), s.Attributes.Select(ToPlan).ToArray())).ToArray();
        return new ExecutionPlan(
            slots, steps,
            spec.Inputs.Select(i => i.Slot).ToArray(),
            spec.Outputs.Select(o => o.Slot).ToArray(),
            spec.ArenaBytes, spec.WeightsBytes);
    }

    private static PlanAttribute ToPlan(AttributeSpec a) => a.Kind switch
    {
        SpecAttributeKind.Int => PlanAttribute.Int(a.Name, a.Int),
        SpecAttributeKind.Float => PlanAttribute.Float(a.Name, a.Float),
        SpecAttributeKind.String => PlanAttribute.String(a.Name, a.String),
        SpecAttributeKind.Ints => PlanAttribute.Ints(a.Name, a.Ints.ToArray()),
        _ => PlanAttribute.Floats(a.Name, a.Floats.ToArray()),
    };
}
