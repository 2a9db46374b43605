using System.Security.Cryptography;
using ModelGen.Onnx;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Batching;
using ModelGen.Optimizer.Evaluation;
using ModelGen.Optimizer.Planning;
using ModelGen.Runtime;
using ModelGen.Spec;

namespace ModelGen.Optimizer.Fallback;

/// <summary>
/// Compiles a model that holds ops ModelGen has no kernel for into the fallback form: the
/// weights blob is the .onnx file itself, and the plan has only the graph's inputs and outputs,
/// which ONNX Runtime reads and writes in place (see <c>OnnxRuntimeExecutor</c>). The generated
/// predictor keeps the typed API. Output shapes come from the graph's declarations, checked by one
/// ONNX Runtime run on zero inputs (and a second at batch 2, for a symbolic batch).
/// </summary>
internal static class OnnxRuntimeFallback
{
    /// <param name="model">The model as loaded, its symbolic dimensions intact (ONNX Runtime keeps them).</param>
    public static CompiledModel Build(OnnxModel model, string name, string path, string sha, int maxBatch, List<Diagnostic> warnings)
    {
        byte[] onnx = OnnxWriter.ToBytes(model);
        var graph = model.Graph;
        bool batched = maxBatch > 0 && BatchDimension.IsSymbolic(model);
        var inputs = graph.Inputs.Select(i => InputShape(i, batched, path, warnings)).ToList();
        int[][] atOne = Probe(path, graph, inputs, 1);
        bool stacks = false;
        if (batched)
        {
            int[][] atTwo = Probe(path, graph, inputs, 2);
            stacks = graph.Inputs.All(i => BatchDimension.IsBatch(i, 0))
                && atOne.Zip(atTwo).All(p => p.First.Length > 0 && p.First.Length == p.Second.Length
                    && p.Second[0] == 2 * p.First[0] && p.First.Skip(1).SequenceEqual(p.Second.Skip(1)));
            if (!stacks)
            {
                warnings.Add(new Diagnostic(ErrorCodes.BatchNotPolymorphic, path,
                    "the model's batch dimension is symbolic, but its inputs and outputs do not all stack along their first axis, " +
                    "so no Predict(batchSize, ...) is generated; the predictor runs a batch of 1."));
            }
        }

        var slots = new List<SlotSpec>();
        long arena = 0;
        SlotSpec Slot(string value, ElementType type, int[] shape)
        {
            CheckType(value, type, path);
            long offset = MemoryPlanner.AlignUp(arena);
            arena = offset + shape.Aggregate(1L, (n, d) => n * d) * type.SizeOf();
            var slot = new SlotSpec(slots.Count, value, type.ToOnnxName(), shape.ToEquatableArray(), ModelGen.Spec.SlotStorage.Arena, offset)
            {
                BatchAxis = stacks ? 0 : -1,
            };
            slots.Add(slot);
            return slot;
        }

        var inputRefs = graph.Inputs.Select((i, k) => new TensorRefSpec(i.Name, Slot(i.Name, i.Type, inputs[k]).Id, i.Doc)).ToList();
        var outputRefs = graph.Outputs.Select((o, k) => new TensorRefSpec(o.Name, Slot(o.Name, o.Type, atOne[k]).Id, o.Doc)).ToList();
        string doc = string.Join("\n", new[] { model.Doc, graph.Doc }.Where(d => d.Length > 0));
        var spec = new ModelSpec(
            name, Path.GetFileName(path), sha,
            Convert.ToHexString(SHA256.HashData(onnx)).ToLowerInvariant(), onnx.LongLength,
            MemoryPlanner.AlignUp(arena), model.IrVersion, model.DefaultOpset, model.ProducerName, model.ProducerVersion, doc,
            slots.ToEquatableArray(), inputRefs.ToEquatableArray(), outputRefs.ToEquatableArray(), EquatableArray<StepSpec>.Empty)
        {
            Engine = ModelSpec.OnnxRuntimeEngine,
            MaxBatch = stacks ? maxBatch : 0,
        };
        return new CompiledModel(spec, onnx);
    }

    /// <summary>An input's static shape for one sample: the batch is 1, other symbolic dims 1 with MG1013.</summary>
    private static int[] InputShape(TensorInfo input, bool batched, string path, List<Diagnostic> warnings)
    {
        if (input.Shape is null)
        {
            throw new OnnxException(ErrorCodes.DynamicShape,
                $"input '{input.Name}' has no shape; ModelGen needs the rank and size of every input. Export the model with input shapes.", path);
        }
        var shape = new int[input.Shape.Length];
        for (int d = 0; d < shape.Length; d++)
        {
            if (input.Shape[d].IsKnown)
            {
                shape[d] = checked((int)input.Shape[d].Value!.Value);
                continue;
            }
            if (!(batched && BatchDimension.IsBatch(input, d)))
            {
                warnings.Add(new Diagnostic(ModelOptimizer.SymbolicDimensionWarning, path,
                    $"input '{input.Name}' dimension {d} is symbolic ('{input.Shape[d].Param ?? "?"}'); the predictor is compiled for size 1 there."));
            }
            shape[d] = 1;
        }
        return shape;
    }

    /// <summary>The output shapes of one ONNX Runtime run on zero inputs, with the batch inputs at <paramref name="batch"/>.</summary>
    private static int[][] Probe(string path, OnnxGraph graph, List<int[]> inputs, int batch)
    {
        using var runner = new ReferenceRunner(path);
        var tensors = graph.Inputs.Select((input, k) =>
        {
            int[] shape = (int[])inputs[k].Clone();
            if (BatchDimension.IsBatch(input, 0)) shape[0] = batch;
            long bytes = shape.Aggregate(1L, (n, d) => n * d) * input.Type.SizeOf();
            return new OnnxTensor(input.Name, input.Type, shape, new byte[bytes]);
        }).ToArray();
        var shapes = new int[graph.Outputs.Count][];
        try
        {
            runner.Run(tensors, shapes);
        }
        catch (OnnxException e)
        {
            throw new OnnxException(ErrorCodes.DynamicShape,
                $"the model holds ops ModelGen does not compile, so ONNX Runtime runs it; to learn its output shapes ModelGen ran it once on zero inputs, which failed: {e.Message}",
                path, e);
        }
        return shapes;
    }

    private static void CheckType(string value, ElementType type, string path)
    {
        if (Array.IndexOf(SpecReader.ElementTypes, type.ToOnnxName()) < 0)
        {
            throw new OnnxException(ErrorCodes.UnsupportedType,
                $"graph input or output '{value}' is {type.ToOnnxName()}, which a generated predictor cannot pass in or out.", path);
        }
    }
}
