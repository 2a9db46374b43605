using System.Numerics;
using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Elementwise;

/// <summary>Which comparison a <see cref="CompareKernel{T}"/> computes.</summary>
internal enum CompareOp
{
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Equal,
}

/// <summary>
/// Less, LessOrEqual, Greater, GreaterOrEqual and Equal of two numeric tensors with numpy
/// broadcasting, into a bool tensor (mostly mask and shape arithmetic in function bodies, so a
/// scalar loop over the rows of a <see cref="BroadcastPlan"/>). NaN compares false, as in IEEE.
/// </summary>
internal sealed unsafe class CompareKernel<T> : Kernel where T : unmanaged, INumber<T>
{
    private readonly T* _a, _b;
    private readonly bool* _y;
    private readonly BroadcastPlan _plan;
    private readonly CompareOp _op;

    public CompareKernel(BindContext c, CompareOp op)
    {
        _op = op;
        c.RequireType(1, c.Input(0).Type, input: true);
        c.RequireType(0, ElementType.Bool, input: false);
        _plan = BroadcastPlan.Create(c.Input(0).Shape, c.Input(1).Shape, c.Output(0).Shape, c);
        _a = (T*)c.InputPtr(0);
        _b = (T*)c.InputPtr(1);
        _y = (bool*)c.OutputPtr(0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        long inner = _plan.Inner;
        long sa = _plan.AContiguous ? 1 : 0, sb = _plan.BContiguous ? 1 : 0;
        for (long r = 0; r < _plan.Rows; r++)
        {
            T* a = _a + _plan.AOffsets[r];
            T* b = _b + _plan.BOffsets[r];
            bool* y = _y + r * inner;
            for (long i = 0; i < inner; i++)
            {
                T x = a[i * sa], z = b[i * sb];
                y[i] = _op switch
                {
                    CompareOp.Less => x < z,
                    CompareOp.LessOrEqual => x <= z,
                    CompareOp.Greater => x > z,
                    CompareOp.GreaterOrEqual => x >= z,
                    _ => x == z,
                };
            }
        }
    }
}

/// <summary>Picks the <see cref="CompareKernel{T}"/> instantiation for a step's input type.</summary>
internal static class CompareKernels
{
    public static Kernel Create(BindContext c, CompareOp op) => c.Input(0).Type switch
    {
        ElementType.Float => new CompareKernel<float>(c, op),
        ElementType.Double => new CompareKernel<double>(c, op),
        ElementType.Float16 => new CompareKernel<Half>(c, op),
        ElementType.Int64 => new CompareKernel<long>(c, op),
        ElementType.Int32 => new CompareKernel<int>(c, op),
        ElementType.Int16 => new CompareKernel<short>(c, op),
        ElementType.Int8 => new CompareKernel<sbyte>(c, op),
        ElementType.UInt64 => new CompareKernel<ulong>(c, op),
        ElementType.UInt32 => new CompareKernel<uint>(c, op),
        ElementType.UInt16 => new CompareKernel<ushort>(c, op),
        ElementType.UInt8 or ElementType.Bool when op == CompareOp.Equal || c.Input(0).Type == ElementType.UInt8 => new CompareKernel<byte>(c, op),
        var t => throw c.Fail($"{c.Step.Op} does not support {t.ToOnnxName()}"),
    };
}
