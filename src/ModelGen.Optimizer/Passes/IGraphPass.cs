using ModelGen.Onnx.Ir;

namespace ModelGen.Optimizer.Passes;

/// <summary>One optimization over the graph. Passes keep the graph topologically sorted.</summary>
internal interface IGraphPass
{
    /// <summary>Short name for reports and logs.</summary>
    string Name { get; }

    /// <summary>Rewrites the graph in place; returns how many nodes it changed (for the report).</summary>
    int Run(OnnxModel model, PassContext context);
}
