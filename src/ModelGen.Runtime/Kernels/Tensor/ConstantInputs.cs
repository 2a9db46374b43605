namespace ModelGen.Runtime.Kernels.Tensor;

/// <summary>Reads small constant (weights-stored) integer inputs at bind time: shape-like operands of static plans.</summary>
internal static unsafe class ConstantInputs
{
    /// <summary>Input <paramref name="i"/> as int64 values, or null when the step does not have it.</summary>
    public static long[]? Int64s(BindContext c, int i, string what)
    {
        if (!c.HasInput(i)) return null;
        var slot = c.Input(i);
        if (slot.Storage != SlotStorage.Weights)
        {
            throw c.Fail($"the {what} input must be a constant (an initializer), because ModelGen compiles static plans");
        }
        var values = new long[slot.ElementCount];
        byte* p = c.InputPtr(i);
        for (int k = 0; k < values.Length; k++)
        {
            values[k] = slot.Type switch
            {
                ElementType.Int64 => ((long*)p)[k],
                ElementType.Int32 => ((int*)p)[k],
                _ => throw c.Fail($"the {what} input must be int64 or int32, not {slot.Type.ToOnnxName()}"),
            };
        }
        return values;
    }

    /// <summary>Input <paramref name="i"/> as floats (float, double or float16), or null when absent.</summary>
    public static float[]? Floats(BindContext c, int i, string what)
    {
        if (!c.HasInput(i)) return null;
        var slot = c.Input(i);
        if (slot.Storage != SlotStorage.Weights)
        {
            throw c.Fail($"the {what} input must be a constant (an initializer), because ModelGen compiles static plans");
        }
        var values = new float[slot.ElementCount];
        byte* p = c.InputPtr(i);
        for (int k = 0; k < values.Length; k++)
        {
            values[k] = slot.Type switch
            {
                ElementType.Float => ((float*)p)[k],
                ElementType.Double => (float)((double*)p)[k],
                ElementType.Float16 => (float)((Half*)p)[k],
                _ => throw c.Fail($"the {what} input must be floating point, not {slot.Type.ToOnnxName()}"),
            };
        }
        return values;
    }
}
