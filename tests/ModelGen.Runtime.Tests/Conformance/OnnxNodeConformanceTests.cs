using System.Runtime.InteropServices;
using ModelGen.Runtime.Kernels;
using ModelGen.Tests;

namespace ModelGen.Runtime.Tests.Conformance;

/// <summary>
/// Runs every ONNX single-operator conformance case (shared test data, onnx-node/) whose operator
/// the runtime supports, through a hand-built plan, and compares with ONNX's expected outputs.
/// Tolerance: float outputs |a - e| &lt;= 1e-5 + 1e-3·|e| (upstream default rtol 1e-3, with atol
/// raised from 1e-7 to 1e-5 for fp32 accumulation order); other types exact. A case whose features
/// the runtime rejects at bind time (e.g. training-mode BatchNormalization) is skipped with the
/// runtime's message, so gaps stay visible.
/// </summary>
public class OnnxNodeConformanceTests
{
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        string root = Path.Combine(TestData.Root, "onnx-node");
        if (!Directory.Exists(root))
        {
            data.Add("(onnx-node missing)");
            return data;
        }
        foreach (var dir in Directory.GetDirectories(root).OrderBy(d => d, StringComparer.Ordinal))
        {
            string name = Path.GetFileName(dir);
            if (name.Contains("_expanded")) continue;
            var model = ProtoModel.Parse(File.ReadAllBytes(Path.Combine(dir, "model.onnx")));
            if (model.Nodes.Count == 1 && model.Nodes[0].Domain is "" or "ai.onnx" && KernelFactory.SupportedOps.Contains(model.Nodes[0].Op))
            {
                data.Add(name);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void CaseMatchesOnnxExpectedOutputs(string name)
    {
        string dir = TestData.Require(Path.Combine("onnx-node", name));
        var model = ProtoModel.Parse(File.ReadAllBytes(Path.Combine(dir, "model.onnx")));
        var node = model.Nodes[0];
        string set = Path.Combine(dir, "test_data_set_0");
        var initializerNames = model.Initializers.Select(t => t.Name).ToHashSet();
        var feeds = model.Inputs.Where(n => !initializerNames.Contains(n)).ToList();
        var inputs = feeds.Select((_, i) => ProtoTensor.Parse(File.ReadAllBytes(Path.Combine(set, $"input_{i}.pb")))).ToList();
        var expected = model.Outputs.Select((_, i) => ProtoTensor.Parse(File.ReadAllBytes(Path.Combine(set, $"output_{i}.pb")))).ToList();
        foreach (var t in inputs.Concat(expected).Concat(model.Initializers))
        {
            if (t.DataType == 0) Assert.Skip("a sequence or optional value, not a tensor");
            if (!Enum.IsDefined((ElementType)t.DataType)) Assert.Skip($"element type code {t.DataType} is not supported by the runtime");
        }

        var plan = new TestPlan();
        var slots = new Dictionary<string, int>();
        for (int i = 0; i < feeds.Count; i++) slots[feeds[i]] = plan.Input(feeds[i], inputs[i].Dims, (ElementType)inputs[i].DataType);
        foreach (var t in model.Initializers) slots[t.Name] = plan.Weight(t.Name, t.Raw, t.Dims, (ElementType)t.DataType);
        for (int i = 0; i < model.Outputs.Count; i++)
        {
            slots[model.Outputs[i]] = plan.Arena(model.Outputs[i], expected[i].Dims, (ElementType)expected[i].DataType);
            plan.Output(slots[model.Outputs[i]]);
        }
        // Node outputs that are not graph outputs (unused optional outputs) are dropped as -1.
        int[] stepInputs = node.Inputs.Select(n => n.Length == 0 ? -1 : slots[n]).ToArray();
        int[] stepOutputs = node.Outputs.Select(n => slots.TryGetValue(n, out int id) ? id : -1).ToArray();
        var attributes = node.Attributes.Append(PlanAttribute.Int("opset", model.Opset)).ToArray();
        if (attributes.Any(a => a.Name.EndsWith("?unsupported", StringComparison.Ordinal))) Assert.Skip("an attribute of a kind the plan cannot carry");
        plan.Step(node.Op, stepInputs, stepOutputs, attributes);

        PlanExecutor executor;
        ModelWeights weights;
        try
        {
            executor = plan.Executor(out weights);
        }
        catch (ModelGenException e)
        {
            Assert.Skip("runtime rejects this case: " + e.Message);
            return;
        }
        using (executor)
        using (weights)
        {
            for (int i = 0; i < inputs.Count; i++) SetRaw(executor, i, inputs[i]);
            try
            {
                executor.Run();
            }
            catch (ModelGenException e)
            {
                Assert.Skip("runtime rejects this case's inputs: " + e.Message);
            }
            for (int i = 0; i < expected.Count; i++)
            {
                var actual = executor.SlotBytes(executor.Plan.Outputs[i]).ToArray();
                Compare(expected[i], actual, $"{name} output {i}");
            }
        }
    }

    private static void SetRaw(PlanExecutor executor, int index, ProtoTensor t)
    {
        var bytes = t.Raw.AsSpan();
        switch ((ElementType)t.DataType)
        {
            case ElementType.Float: executor.SetInput<float>(index, MemoryMarshal.Cast<byte, float>(bytes)); break;
            case ElementType.Double: executor.SetInput<double>(index, MemoryMarshal.Cast<byte, double>(bytes)); break;
            case ElementType.Float16: executor.SetInput<Half>(index, MemoryMarshal.Cast<byte, Half>(bytes)); break;
            case ElementType.Int64: executor.SetInput<long>(index, MemoryMarshal.Cast<byte, long>(bytes)); break;
            case ElementType.UInt64: executor.SetInput<ulong>(index, MemoryMarshal.Cast<byte, ulong>(bytes)); break;
            case ElementType.Int32: executor.SetInput<int>(index, MemoryMarshal.Cast<byte, int>(bytes)); break;
            case ElementType.UInt32: executor.SetInput<uint>(index, MemoryMarshal.Cast<byte, uint>(bytes)); break;
            case ElementType.Int16: executor.SetInput<short>(index, MemoryMarshal.Cast<byte, short>(bytes)); break;
            case ElementType.UInt16: executor.SetInput<ushort>(index, MemoryMarshal.Cast<byte, ushort>(bytes)); break;
            case ElementType.Int8: executor.SetInput<sbyte>(index, MemoryMarshal.Cast<byte, sbyte>(bytes)); break;
            default: executor.SetInput<byte>(index, bytes); break;
        }
    }

    private static void Compare(ProtoTensor expected, byte[] actual, string what)
    {
        Assert.Equal(expected.Raw.Length, actual.Length);
        switch ((ElementType)expected.DataType)
        {
            case ElementType.Float:
                Data.Close(MemoryMarshal.Cast<byte, float>(expected.Raw).ToArray(), MemoryMarshal.Cast<byte, float>(actual).ToArray(), 1e-3f, 1e-5f, what);
                break;
            case ElementType.Double:
                Data.Close(MemoryMarshal.Cast<byte, double>(expected.Raw).ToArray().Select(v => (float)v).ToArray(),
                    MemoryMarshal.Cast<byte, double>(actual).ToArray().Select(v => (float)v).ToArray(), 1e-3f, 1e-5f, what);
                break;
            case ElementType.Float16:
                Data.Close(MemoryMarshal.Cast<byte, Half>(expected.Raw).ToArray().Select(v => (float)v).ToArray(),
                    MemoryMarshal.Cast<byte, Half>(actual).ToArray().Select(v => (float)v).ToArray(), 1e-3f, 1e-3f, what);
                break;
            default:
                Assert.True(expected.Raw.AsSpan().SequenceEqual(actual), $"{what}: bytes differ");
                break;
        }
    }
}
