using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using ModelGen.Runtime.Kernels;

namespace ModelGen.Runtime;

/// <summary>
/// The exceptions every <see cref="IModelExecutor"/> throws for a bad call or mismatched weights, worded alike whatever
/// runs the model. Kept out of line so the executors' hot paths stay small.
/// </summary>
internal static class ExecutorErrors
{
    /// <summary>Refuses a weights blob shorter than the plan needs (it belongs to another model).</summary>
    public static void RequireWeights(ExecutionPlan plan, ModelWeights weights)
    {
        if (weights.Length < plan.WeightsBytes)
        {
            throw new ModelGenException(
                $"The plan needs {plan.WeightsBytes} bytes of weights, but the weights blob has {weights.Length}. The weights do not belong to this model; rebuild.");
        }
    }

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void Disposed(string executor) => throw new ObjectDisposedException(executor);

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void Index(int index, int count, string role) => throw new ArgumentOutOfRangeException(
        nameof(index), index, $"The model has {count} graph {role}s.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ByteLength(TensorSlot slot, int length, string role) => throw new ArgumentException(
        $"Graph {role} '{slot.Name}' has shape {BindContext.ShapeText(slot.Shape)} = {slot.ByteLength} bytes of {slot.Type.ToOnnxName()}, but the span has {length} bytes.");

    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ConstantInput(TensorSlot slot) => throw new ArgumentException(
        $"Graph input '{slot.Name}' was folded into the weights by the optimizer and cannot be set.");
}
