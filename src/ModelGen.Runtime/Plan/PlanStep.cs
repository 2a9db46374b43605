namespace ModelGen.Runtime;

/// <summary>One operator invocation of an execution plan.</summary>
public sealed class PlanStep
{
    /// <summary>Creates a step.</summary>
    /// <param name="op">ONNX operator type (Conv, Gemm, …).</param>
    /// <param name="name">The node's name, for messages.</param>
    /// <param name="inputs">Slot ids of the inputs; -1 for an omitted optional input.</param>
    /// <param name="outputs">Slot ids of the outputs.</param>
    /// <param name="attributes">Operator attributes.</param>
    public PlanStep(string op, string name, int[] inputs, int[] outputs, params PlanAttribute[] attributes)
    {
        Op = op;
        Name = name;
        Inputs = inputs;
        Outputs = outputs;
        Attributes = attributes;
    }

    /// <summary>ONNX operator type.</summary>
    public string Op { get; }

    /// <summary>Node name.</summary>
    public string Name { get; }

    /// <summary>Input slot ids (-1 = omitted).</summary>
    public int[] Inputs { get; }

    /// <summary>Output slot ids.</summary>
    public int[] Outputs { get; }

    /// <summary>Attributes.</summary>
    public PlanAttribute[] Attributes { get; }

    /// <summary>Finds an attribute by name, or null.</summary>
    public PlanAttribute? Find(string name)
    {
        foreach (var a in Attributes)
        {
            if (a.Name == name) return a;
        }
        return null;
    }

    /// <summary>An integer attribute, or <paramref name="fallback"/> when absent.</summary>
    public long GetInt(string name, long fallback) => Find(name)?.IntValue ?? fallback;

    /// <summary>A float attribute, or <paramref name="fallback"/> when absent.</summary>
    public float GetFloat(string name, float fallback) => Find(name)?.FloatValue ?? fallback;

    /// <summary>A string attribute, or <paramref name="fallback"/> when absent.</summary>
    public string GetString(string name, string fallback) => Find(name)?.StringValue ?? fallback;

    /// <summary>An integer-list attribute, or null when absent.</summary>
    public long[]? GetInts(string name) => Find(name)?.IntsValue;

    /// <summary>A float-list attribute, or null when absent.</summary>
    public float[]? GetFloats(string name) => Find(name)?.FloatsValue;

    /// <inheritdoc />
    public override string ToString() => $"{Op} '{Name}'";
}
