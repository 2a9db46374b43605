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

    /// <summary>
    /// True when the plan is batch-polymorphic: some slots carry a <see cref="TensorSlot.BatchAxis"/>,
    /// and <see cref="WithBatch"/> gives the same plan for any number of samples.
    /// </summary>
    public bool IsBatched => Array.Exists(Slots, s => s.BatchAxis >= 0);

    /// <summary>
    /// The plan for <paramref name="batch"/> samples: every batch slot's batch axis is multiplied by
    /// <paramref name="batch"/>, and every arena offset and the arena size likewise. Scaling the whole
    /// layout keeps the memory planner's non-overlap (each slot grows at most <paramref name="batch"/>
    /// times) and its alignment. Steps, attributes and weights are shared, unchanged.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batch"/> is below 1.</exception>
    /// <exception cref="InvalidOperationException">The plan is not batch-polymorphic and <paramref name="batch"/> is not 1.</exception>
    public ExecutionPlan WithBatch(int batch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        if (batch == 1) return this;
        if (!IsBatched) throw new InvalidOperationException("The plan has no batch axis; it runs one sample at a time.");
        var slots = new TensorSlot[Slots.Length];
        for (int i = 0; i < slots.Length; i++)
        {
            var s = Slots[i];
            if (s.Storage == SlotStorage.Weights)
            {
                slots[i] = s;
                continue;
            }
            int[] shape = (int[])s.Shape.Clone();
            if (s.BatchAxis >= 0) shape[s.BatchAxis] = checked(shape[s.BatchAxis] * batch);
            slots[i] = new TensorSlot(s.Name, s.Type, shape, s.Storage, checked(s.Offset * batch), s.BatchAxis);
        }
        return new ExecutionPlan(slots, Steps, Inputs, Outputs, checked(ArenaBytes * batch), WeightsBytes);
    }
}
