namespace ModelGen.Runtime;

/// <summary>
/// A compiled model: slots, steps in execution order, which slots are the graph's inputs and
/// outputs, and the arena and weights sizes. The optimizer builds one for its interpreter, and
/// generated predictors build the same one from their spec, so both run the same kernels.
/// </summary>
public sealed class ExecutionPlan
{
    /// <summary>Creates a plan and checks that every slot reference is in range.</summary>
    public ExecutionPlan(
        TensorSlot[] slots, PlanStep[] steps, int[] inputs, int[] outputs, long arenaBytes, long weightsBytes)
    {
        Slots = slots;
        Steps = steps;
        Inputs = inputs;
        Outputs = outputs;
        ArenaBytes = arenaBytes;
        WeightsBytes = weightsBytes;
        foreach (var step in steps)
        {
            foreach (int id in step.Inputs)
            {
                if (id < -1 || id >= slots.Length) throw new ArgumentException($"{step} reads slot {id}, which does not exist");
            }
            foreach (int id in step.Outputs)
            {
                if (id < 0 || id >= slots.Length) throw new ArgumentException($"{step} writes slot {id}, which does not exist");
            }
        }
        foreach (var slot in slots)
        {
            long limit = slot.Storage == SlotStorage.Arena ? arenaBytes : weightsBytes;
            if (slot.Offset + slot.ByteLength > limit)
            {
                throw new ArgumentException($"slot {slot} runs past the end of its {slot.Storage} ({limit} bytes)");
            }
        }
    }

    /// <summary>All tensors.</summary>
    public TensorSlot[] Slots { get; }

    /// <summary>Steps in execution order.</summary>
    public PlanStep[] Steps { get; }

    /// <summary>Slot ids of the graph inputs, in graph order.</summary>
    public int[] Inputs { get; }

    /// <summary>Slot ids of the graph outputs, in graph order.</summary>
    public int[] Outputs { get; }

    /// <summary>Size of the arena in bytes.</summary>
    public long ArenaBytes { get; }

    /// <summary>Size of the weights blob in bytes.</summary>
    public long WeightsBytes { get; }
}
