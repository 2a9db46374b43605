using System.Runtime.InteropServices;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Planning;

/// <summary>
/// Moves raw tensor bytes in and out of a <see cref="PlanExecutor"/>, whose typed API checks
/// that the span's element type matches the slot.
/// </summary>
internal static class TypedIo
{
    /// <summary>Copies a graph input's bytes in; the narrow types travel as their raw codes (bfloat16 as ushort, the others as bytes).</summary>
    public static void SetInput(PlanExecutor executor, int index, ElementType type, byte[] data)
    {
        switch (type)
        {
            case ElementType.Float: executor.SetInput(index, MemoryMarshal.Cast<byte, float>(data)); break;
            case ElementType.Double: executor.SetInput(index, MemoryMarshal.Cast<byte, double>(data)); break;
            case ElementType.Float16: executor.SetInput(index, MemoryMarshal.Cast<byte, Half>(data)); break;
            case ElementType.Int64: executor.SetInput(index, MemoryMarshal.Cast<byte, long>(data)); break;
            case ElementType.UInt64: executor.SetInput(index, MemoryMarshal.Cast<byte, ulong>(data)); break;
            case ElementType.Int32: executor.SetInput(index, MemoryMarshal.Cast<byte, int>(data)); break;
            case ElementType.UInt32: executor.SetInput(index, MemoryMarshal.Cast<byte, uint>(data)); break;
            case ElementType.Int16: executor.SetInput(index, MemoryMarshal.Cast<byte, short>(data)); break;
            case ElementType.UInt16 or ElementType.BFloat16: executor.SetInput(index, MemoryMarshal.Cast<byte, ushort>(data)); break;
            case ElementType.Int8: executor.SetInput(index, MemoryMarshal.Cast<byte, sbyte>(data)); break;
            case ElementType.Bool: executor.SetInput(index, MemoryMarshal.Cast<byte, bool>(data)); break;
            default: executor.SetInput(index, (ReadOnlySpan<byte>)data); break;
        }
    }

    public static byte[] GetOutput(PlanExecutor executor, int index, ElementType type, long count)
    {
        var data = new byte[count * type.SizeOf()];
        switch (type)
        {
            case ElementType.Float: executor.GetOutput(index, MemoryMarshal.Cast<byte, float>(data.AsSpan())); break;
            case ElementType.Double: executor.GetOutput(index, MemoryMarshal.Cast<byte, double>(data.AsSpan())); break;
            case ElementType.Float16: executor.GetOutput(index, MemoryMarshal.Cast<byte, Half>(data.AsSpan())); break;
            case ElementType.Int64: executor.GetOutput(index, MemoryMarshal.Cast<byte, long>(data.AsSpan())); break;
            case ElementType.UInt64: executor.GetOutput(index, MemoryMarshal.Cast<byte, ulong>(data.AsSpan())); break;
            case ElementType.Int32: executor.GetOutput(index, MemoryMarshal.Cast<byte, int>(data.AsSpan())); break;
            case ElementType.UInt32: executor.GetOutput(index, MemoryMarshal.Cast<byte, uint>(data.AsSpan())); break;
            case ElementType.Int16: executor.GetOutput(index, MemoryMarshal.Cast<byte, short>(data.AsSpan())); break;
            case ElementType.UInt16 or ElementType.BFloat16: executor.GetOutput(index, MemoryMarshal.Cast<byte, ushort>(data.AsSpan())); break;
            case ElementType.Int8: executor.GetOutput(index, MemoryMarshal.Cast<byte, sbyte>(data.AsSpan())); break;
            case ElementType.Bool: executor.GetOutput(index, MemoryMarshal.Cast<byte, bool>(data.AsSpan())); break;
            default: executor.GetOutput(index, data.AsSpan()); break;
        }
        return data;
    }
}
