using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Tensor;

/// <summary>
/// Split of any element type along <c>axis</c> into the step's outputs. The part sizes come from
/// the constant <c>split</c> input (opset 13+), the <c>split</c> attribute (older opsets), or
/// equal parts (the last one smaller with <c>num_outputs</c>, opset 18); they are checked against
/// the output shapes at bind time. Each run is one block copy per outer index.
/// </summary>
internal sealed unsafe class SplitKernel : Kernel
{
    private readonly byte* _x;
    private readonly byte*[] _outputs;
    private readonly long[] _partBytes;
    private readonly long _outer, _rowBytes;

    public unsafe SplitKernel(BindContext c)
    {
        var x = c.Input(0);
        int rank = x.Shape.Length;
        if (rank == 0) throw c.Fail("cannot split a scalar");
        int axis = c.Axis(c.Step.GetInt("axis", 0), rank);
        int parts = c.OutputCount;
        var sizes = new long[parts];
        if (c.HasInput(1))
        {
            var s = c.Input(1);
            if (s.Storage != SlotStorage.Weights || s.Type != ElementType.Int64) throw c.Fail("the split input must be a constant int64 tensor");
            if (s.ElementCount != parts) throw c.Fail($"split lists {s.ElementCount} sizes for {parts} outputs");
            for (int i = 0; i < parts; i++) sizes[i] = ((long*)c.InputPtr(1))[i];
        }
        else if (c.Step.GetInts("split") is { } attr)
        {
            if (attr.Length != parts) throw c.Fail($"attribute split lists {attr.Length} sizes for {parts} outputs");
            attr.CopyTo(sizes, 0);
        }
        else
        {
            long dim = x.Shape[axis];
            long chunk = (dim + parts - 1) / parts;
            if (c.Step.Find("num_outputs") is null && dim % parts != 0) throw c.Fail($"axis {axis} of size {dim} does not split into {parts} equal parts");
            for (int i = 0; i < parts; i++) sizes[i] = Math.Clamp(dim - i * chunk, 0, chunk);
        }
        if (sizes.Sum() != x.Shape[axis] || sizes.Any(s => s < 0))
        {
            throw c.Fail($"split sizes [{string.Join(",", sizes)}] do not add up to axis {axis} of size {x.Shape[axis]}");
        }
        long inner = 1;
        for (int d = axis + 1; d < rank; d++) inner *= x.Shape[d];
        _outer = 1;
        for (int d = 0; d < axis; d++) _outer *= x.Shape[d];
        int size = x.Type.SizeOf();
        _rowBytes = x.Shape[axis] * inner * size;
        _outputs = new byte*[parts];
        _partBytes = new long[parts];
        for (int i = 0; i < parts; i++)
        {
            _partBytes[i] = sizes[i] * inner * size;
            if (!c.HasOutput(i)) continue;
            var y = c.Output(i);
            if (y.Type != x.Type) throw c.Fail($"output {i} is {y.Type.ToOnnxName()}, input is {x.Type.ToOnnxName()}");
            if (y.ElementCount != _outer * sizes[i] * inner) throw c.Fail($"output {i} shape {BindContext.ShapeText(y.Shape)} does not hold a part of size {sizes[i]} on axis {axis}");
            _outputs[i] = c.OutputPtr(i);
        }
        _x = c.InputPtr(0);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        for (long o = 0; o < _outer; o++)
        {
            byte* src = _x + o * _rowBytes;
            for (int i = 0; i < _outputs.Length; i++)
            {
                long bytes = _partBytes[i];
                if (_outputs[i] != null) Buffer.MemoryCopy(src, _outputs[i] + o * bytes, bytes, bytes);
                src += bytes;
            }
        }
    }
}
