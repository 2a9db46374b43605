using System.Runtime.CompilerServices;

namespace ModelGen.Runtime.Kernels.Tensor;

/// <summary>
/// Reshape, Flatten, Squeeze, Unsqueeze, Identity and Dropout (inference): slot shapes are static,
/// so these only move bytes, and nothing when the planner gave input and output the same memory.
/// Dropout's optional mask output is filled with true.
/// </summary>
internal sealed unsafe class CopyKernel : Kernel
{
    private readonly byte* _source;
    private readonly byte* _target;
    private readonly long _bytes;
    private readonly byte* _mask;
    private readonly long _maskBytes;
    private readonly byte* _trainingMode; // Dropout's runtime training_mode input, or null
    private readonly BindContext _context;

    public CopyKernel(BindContext context)
    {
        var x = context.Input(0);
        var y = context.Output(0);
        if (x.Type != y.Type) throw context.Fail($"input is {x.Type.ToOnnxName()} but output is {y.Type.ToOnnxName()}");
        if (x.ElementCount != y.ElementCount)
        {
            throw context.Fail($"input {BindContext.ShapeText(x.Shape)} and output {BindContext.ShapeText(y.Shape)} have different element counts");
        }
        _context = context;
        if (context.Step.Op == "Dropout" && context.HasInput(2))
        {
            // Training mode drops at random: an inference runtime cannot reproduce it, so refuse it.
            var mode = context.Input(2);
            if (mode.Type != ElementType.Bool || mode.ElementCount != 1) throw context.Fail("Dropout's training_mode must be a bool scalar");
            if (mode.Storage == SlotStorage.Weights)
            {
                if (*context.InputPtr(2) != 0) throw context.Fail("training_mode=true is not supported (inference only)");
            }
            else
            {
                _trainingMode = context.InputPtr(2);
            }
        }
        _source = context.InputPtr(0);
        _target = context.OutputPtr(0);
        _bytes = x.ByteLength;
        if (context.Step.Op == "Dropout" && context.HasOutput(1))
        {
            var mask = context.Output(1);
            if (mask.Type != ElementType.Bool) throw context.Fail("Dropout's mask output must be bool");
            _mask = context.OutputPtr(1);
            _maskBytes = mask.ByteLength;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Execute()
    {
        if (_trainingMode != null && *_trainingMode != 0) throw _context.Fail("training_mode=true is not supported (inference only)");
        if (_source != _target) Buffer.MemoryCopy(_source, _target, _bytes, _bytes);
        if (_mask != null) new Span<byte>(_mask, checked((int)_maskBytes)).Fill(1);
    }
}
