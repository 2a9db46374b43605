using ModelGen.Spec;

namespace ModelGen.Generator.Model;

/// <summary>
/// Everything the emitter needs for one predictor class: the parsed spec plus the names and
/// settings taken from the item metadata, all resolved and validated. Value-equatable, so that
/// an unchanged spec never re-runs the emitter.
/// </summary>
/// <param name="Namespace">Dotted namespace, or empty for the global namespace.</param>
/// <param name="ClassName">A valid, non-keyword C# identifier.</param>
/// <param name="Access">"internal" or "public".</param>
/// <param name="ResourceName">LogicalName of the embedded weights resource.</param>
/// <param name="SourceName">The original model file, for docs.</param>
/// <param name="Backend">The default backend of the parameterless constructor: Auto, Cpu, Cuda, OpenCL or IlgpuCpu.</param>
/// <param name="Inputs">Predict parameters for the graph inputs, in spec order.</param>
/// <param name="Outputs">Predict parameters for the graph outputs, in spec order.</param>
internal sealed record PredictorSpec(
    string Namespace,
    string ClassName,
    string Access,
    string ResourceName,
    string SourceName,
    string Backend,
    ModelSpec Spec,
    EquatableArray<TensorParameter> Inputs,
    EquatableArray<TensorParameter> Outputs)
{
    /// <summary>The class name with its namespace, as C# writes it (no <c>global::</c>).</summary>
    public string FullName => Namespace.Length == 0 ? ClassName : Namespace + "." + ClassName;
}

/// <summary>One graph input or output as it appears on the predictor.</summary>
/// <param name="TensorName">The tensor's name in the ONNX graph.</param>
/// <param name="ParameterName">The Predict parameter (camelCase, '@'-escaped if a keyword).</param>
/// <param name="MemberName">Prefix of the <c>…Shape</c> and <c>…Length</c> members (PascalCase).</param>
/// <param name="ClrType">The span element type, <c>global::</c>-qualified where needed.</param>
/// <param name="ElementType">The ONNX element type name.</param>
internal sealed record TensorParameter(
    string TensorName,
    int Index,
    int Slot,
    string ParameterName,
    string MemberName,
    string ClrType,
    string ElementType,
    EquatableArray<int> Shape,
    int Length,
    string Doc);

/// <summary>A class's identity: which file asks for which fully qualified class (null when it has no valid class).</summary>
internal sealed record ClassKey(string? FullName, string Path);

/// <summary>What parsing one spec file gave: a predictor to emit (or null) and diagnostics to report.</summary>
internal sealed record SpecParseResult(PredictorSpec? Predictor, EquatableArray<DiagnosticInfo> Diagnostics, ClassKey Key, LocationInfo FileLocation);
