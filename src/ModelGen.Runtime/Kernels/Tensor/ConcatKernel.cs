using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Tensor;

/// <summary>Concat of any element type along any axis: for each outer index, each input's block is one copy.</summary>
internal sealed unsafe class ConcatKernel : Kernel
{
    private readonly byte*[] _inputs;
    private readonly long[] _blockBytes; // bytes each input contributes per outer index
    private readonly byte* _y;
    private readonly long _outer;

    public ConcatKernel(BindContext context)
    {
        var y = context.Output(0);
        int rank = y.Shape.Length;
        if (rank == 0) throw context.Fail("cannot concatenate scalars");
        int axis = context.Axis(context.Step.GetInt("axis", 0), rank);
        int count = context.InputCount;
        _inputs = new byte*[count];
        _blockBytes = new long[count];
        long innerElements = 1;
        for (int d = axis + 1; d < rank; d++) innerElements *= y.Shape[d];
        _outer = 1;
        for (int d = 0; d < axis; d++) _outer *= y.Shape[d];
        int total = 0;
        for (int i = 0; i < count; i++)
        {
            var x = context.Input(i);
            if (x.Type != y.Type) throw context.Fail($"input {i} ('{x.Name}') is {x.Type.ToOnnxName()} but the output is {y.Type.ToOnnxName()}");
            if (x.Shape.Length != rank) throw context.Fail($"input {i} ('{x.Name}') has rank {x.Shape.Length}, not {rank}");
            for (int d = 0; d < rank; d++)
            {
                if (d != axis && x.Shape[d] != y.Shape[d]) throw context.Fail($"input {i} {BindContext.ShapeText(x.Shape)} does not match output {BindContext.ShapeText(y.Shape)} outside axis {axis}");
            }
            total += x.Shape[axis];
            _inputs[i] = context.InputPtr(i);
            _blockBytes[i] = x.Shape[axis] * innerElements * y.Type.SizeOf();
        }
        if (total != y.Shape[axis]) throw context.Fail($"inputs add up to {total} along axis {axis}, but the output has {y.Shape[axis]}");
        _y = context.OutputPtr(0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        byte* y = _y;
        for (long o = 0; o < _outer; o++)
        {
            for (int i = 0; i < _inputs.Length; i++)
            {
                long bytes = _blockBytes[i];
                Buffer.MemoryCopy(_inputs[i] + o * bytes, y, bytes, bytes);
                y += bytes;
            }
        }
    }
}
