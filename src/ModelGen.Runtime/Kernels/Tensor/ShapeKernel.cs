using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Tensor;

/// <summary>Shape: writes the input slot's static dims [start, end) as int64 (rewritten every run: the memory may be shared).</summary>
internal sealed unsafe class ShapeKernel : Kernel
{
    private readonly long* _y;
    private readonly long[] _dims;

    public ShapeKernel(BindContext context)
    {
        int[] shape = context.Input(0).Shape;
        int rank = shape.Length;
        long start = context.Step.GetInt("start", 0);
        long end = context.Step.GetInt("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = Math.Clamp(start, 0, rank);
        end = Math.Clamp(end, 0, rank);
        _dims = shape[(int)start..(int)Math.Max(start, end)].Select(d => (long)d).ToArray();
        context.RequireType(0, ElementType.Int64, input: false);
        if (context.Output(0).ElementCount != _dims.Length) throw context.Fail($"output must hold {_dims.Length} dims");
        _y = (long*)context.OutputPtr(0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        for (int i = 0; i < _dims.Length; i++) _y[i] = _dims[i];
    }
}
