using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Tensor;

/// <summary>
/// ConstantOfShape: fills the output (its shape is static in the plan) with <c>value</c> — a
/// one-element Floats/Ints (or Float/Int) attribute, default 0 — converted to the output type.
/// Refilled every run because the planner may reuse the memory between runs — unless the step
/// has <c>once</c>=1: the optimizer sets it on a fill of constant shape and keeps that output's
/// bytes to itself for the whole plan, so the fill (VGG-19's is 400 MB) happens on the first
/// run of each executor only.
/// </summary>
internal sealed unsafe class ConstantOfShapeKernel : Kernel
{
    private readonly byte* _y;
    private readonly long _count;
    private readonly int _size;
    private readonly long _pattern;
    private readonly bool _once;
    private bool _filled;

    public ConstantOfShapeKernel(BindContext context)
    {
        var y = context.Output(0);
        _y = context.OutputPtr(0);
        _count = y.ElementCount;
        _size = y.Type.SizeOf();
        double value = 0;
        var attribute = context.Step.Find("value");
        if (attribute is not null)
        {
            value = attribute.Kind switch
            {
                PlanAttributeKind.Float => attribute.FloatValue,
                PlanAttributeKind.Int => attribute.IntValue,
                PlanAttributeKind.Floats when attribute.FloatsValue.Length == 1 => attribute.FloatsValue[0],
                PlanAttributeKind.Ints when attribute.IntsValue.Length == 1 => attribute.IntsValue[0],
                _ => throw context.Fail("attribute value must hold exactly one number"),
            };
        }
        long pattern = 0;
        CastKernel.WriteFromDouble(y.Type, value, (byte*)&pattern, context);
        _pattern = pattern;
        _once = context.Step.GetInt("once", 0) != 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        if (_filled) return;
        long p = _pattern;
        int n = checked((int)_count);
        switch (_size)
        {
            case 1: new Span<byte>(_y, n).Fill((byte)p); break;
            case 2: new Span<short>(_y, n).Fill((short)p); break;
            case 4: new Span<int>(_y, n).Fill((int)p); break;
            default: new Span<long>(_y, n).Fill(p); break;
        }
        _filled = _once;
    }
}
