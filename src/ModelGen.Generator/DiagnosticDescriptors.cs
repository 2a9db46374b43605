using Microsoft.CodeAnalysis;

namespace ModelGen.Generator;

/// <summary>
/// The generator's diagnostics. All are errors that cannot be configured away: each one means a
/// predictor class is missing or wrong, so the build must not go on as if it were fine.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "ModelGen";

    public static readonly DiagnosticDescriptor MalformedSpec = Error(
        "MG2001",
        "Malformed model spec",
        "The model spec '{0}' is malformed: {1}. The spec is written by the ModelGen optimizer at build time: " +
        "rebuild to regenerate it, and do not edit it by hand.");

    public static readonly DiagnosticDescriptor InvalidClassName = Error(
        "MG2002",
        "Invalid predictor class name",
        "The model spec '{0}' cannot generate a class: {1}. Set the ClassName metadata of its <OptimizedModel> " +
        "item to a C# identifier such as 'MnistModel'.");

    public static readonly DiagnosticDescriptor InvalidNamespace = Error(
        "MG2003",
        "Invalid predictor namespace",
        "The model spec '{0}' cannot generate a class: {1}. Set the Namespace metadata of its <OptimizedModel> " +
        "item to dotted C# identifiers such as 'MyApp.Models', or to nothing for the global namespace.");

    public static readonly DiagnosticDescriptor InvalidAccess = Error(
        "MG2004",
        "Invalid predictor accessibility",
        "The model spec '{0}' has access '{1}'; set the Access metadata of its <OptimizedModel> item to 'internal' or 'public'.");

    public static readonly DiagnosticDescriptor DuplicateClass = Error(
        "MG2005",
        "Two model specs generate the same class",
        "The model specs {1} all generate the class '{0}'; give each <OptimizedModel> item its own ClassName or Namespace.");

    public static readonly DiagnosticDescriptor InconsistentSpec = Error(
        "MG2006",
        "Model spec cannot be turned into a predictor",
        "The model spec '{0}' cannot be turned into a predictor: {1}. Rebuild to regenerate the spec; " +
        "if this persists, please report it as a ModelGen bug together with the model.");

    public static readonly DiagnosticDescriptor InvalidBackend = Error(
        "MG2007",
        "Invalid predictor backend",
        "The model spec '{0}' has backend '{1}'; set the Backend metadata of its <OptimizedModel> item to Auto, Cpu, Cuda, OpenCL or IlgpuCpu.");

    private static DiagnosticDescriptor Error(string id, string title, string message) => new(
        id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true,
        customTags: WellKnownDiagnosticTags.NotConfigurable);
}
