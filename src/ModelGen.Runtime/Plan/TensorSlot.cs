namespace ModelGen.Runtime;

/// <summary>Where a slot's bytes live.</summary>
public enum SlotStorage
{
    /// <summary>In the predictor's arena, at an offset the memory planner chose.</summary>
    Arena,

    /// <summary>In the read-only weights blob.</summary>
    Weights,
}

/// <summary>One tensor of an execution plan: its type, static shape and location.</summary>
public sealed class TensorSlot
{
    /// <summary>Creates a slot.</summary>
    /// <param name="name">The tensor's name in the ONNX graph (for messages).</param>
    /// <param name="type">Element type.</param>
    /// <param name="shape">Static shape; empty for a scalar.</param>
    /// <param name="storage">Arena or weights.</param>
    /// <param name="offset">Byte offset within the arena or the weights blob.</param>
    /// <param name="batchAxis">
    /// The axis that grows with the batch size in a batch-polymorphic plan (its size here is the
    /// size for one sample), or -1 when the slot does not depend on the batch size.
    /// </param>
    public TensorSlot(string name, ElementType type, int[] shape, SlotStorage storage, long offset, int batchAxis = -1)
    {
        if (batchAxis < -1 || batchAxis >= shape.Length) throw new ArgumentOutOfRangeException(nameof(batchAxis));
        if (batchAxis >= 0 && storage == SlotStorage.Weights) throw new ArgumentException($"weights slot '{name}' cannot grow with the batch", nameof(batchAxis));
        ArgumentNullException.ThrowIfNull(shape);
        if (offset < 0) throw new ArgumentOutOfRangeException(nameof(offset));
        Name = name;
        Type = type;
        Shape = shape;
        Storage = storage;
        Offset = offset;
        BatchAxis = batchAxis;
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"slot '{name}' has a negative dimension", nameof(shape));
            n *= d;
        }
        ElementCount = n;
    }

    /// <summary>The tensor's name in the source graph.</summary>
    public string Name { get; }

    /// <summary>Element type.</summary>
    public ElementType Type { get; }

    /// <summary>Static shape.</summary>
    public int[] Shape { get; }

    /// <summary>Arena or weights.</summary>
    public SlotStorage Storage { get; }

    /// <summary>Byte offset within its storage.</summary>
    public long Offset { get; }

    /// <summary>The axis that scales with the batch size, or -1 (see the constructor).</summary>
    public int BatchAxis { get; }

    /// <summary>Product of the dimensions.</summary>
    public long ElementCount { get; }

    /// <summary>Size in bytes.</summary>
    public long ByteLength => ElementCount * Type.SizeOf();

    /// <inheritdoc />
    public override string ToString() =>
        $"{Name}: {Type.ToOnnxName()}[{string.Join(",", Shape)}] @{Storage}+{Offset}" + (BatchAxis >= 0 ? $" batch@{BatchAxis}" : "");
}
