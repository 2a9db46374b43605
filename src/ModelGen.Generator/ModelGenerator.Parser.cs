using System.Globalization;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Diagnostics;
using Microsoft.CodeAnalysis.Text;
using ModelGen.Generator.Model;
using ModelGen.Spec;

namespace ModelGen.Generator;

public sealed partial class ModelGenerator
{
    /// <summary>Item metadata keys, as surfaced by CompilerVisibleItemMetadata on AdditionalFiles.</summary>
    internal const string MetadataPrefix = "build_metadata.AdditionalFiles.";

    /// <summary>
    /// Turns one <c>.mgspec</c> file and its item metadata into an equatable model: a
    /// <see cref="PredictorSpec"/> when everything is valid, and the diagnostics found.
    /// Never throws for bad input.
    /// </summary>
    internal static class Parser
    {
        private static readonly HashSet<string> ReservedMembers = new(StringComparer.Ordinal)
        {
            "Predict", "Dispose", "CreatePlan", "ActiveBackend", "DeviceName", "MaxBatch", "Equals", "GetHashCode", "ToString", "GetType",
            "MemberwiseClone", "Finalize", "ReferenceEquals",
        };

        /// <summary>The names of <c>ModelGen.Backend</c>'s members, as the Backend metadata spells them.</summary>
        private static readonly string[] Backends = { "Auto", "Cpu", "Cuda", "OpenCL", "IlgpuCpu" };

        public static SpecParseResult Parse(AdditionalText file, AnalyzerConfigOptionsProvider optionsProvider, CancellationToken cancellationToken)
        {
            string path = file.Path;
            string fileName = System.IO.Path.GetFileName(path);
            SourceText? text = file.GetText(cancellationToken);
            var fileLocation = LocationInfo.AtLine(path, text, 1, 1) with { Length = 0, EndLine = 0, EndColumn = 0 };
            var diagnostics = new List<DiagnosticInfo>();
            var options = optionsProvider.GetOptions(file);

            string className = Metadata(options, "ModelGen_ClassName").Trim();
            string ns = Metadata(options, "ModelGen_Namespace").Trim();
            string accessText = Metadata(options, "ModelGen_Access").Trim();
            string resource = Metadata(options, "ModelGen_WeightsResource").Trim();
            string source = Metadata(options, "ModelGen_Source").Trim();
            string backendText = Metadata(options, "ModelGen_Backend").Trim();

            if (CheckClassName(className) is { } classProblem)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidClassName, fileLocation, fileName, classProblem));
            }
            if (CheckNamespace(ns) is { } nsProblem)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidNamespace, fileLocation, fileName, nsProblem));
            }
            string access = accessText.Length == 0 ? "internal" : accessText.ToLowerInvariant();
            if (access != "internal" && access != "public")
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidAccess, fileLocation, fileName, accessText));
            }
            string backend = backendText.Length == 0 ? "Auto" : Backends.FirstOrDefault(b => string.Equals(b, backendText, StringComparison.OrdinalIgnoreCase)) ?? "";
            if (backend.Length == 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidBackend, fileLocation, fileName, backendText));
            }

            ModelSpec? spec = null;
            if (text is null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MalformedSpec, fileLocation, fileName, "the file could not be read"));
            }
            else
            {
                try
                {
                    spec = SpecReader.Read(text.ToString());
                }
                catch (SpecFormatException e)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.MalformedSpec, LocationInfo.AtLine(path, text, e.Line, e.Column), fileName, e.Reason));
                }
            }

            bool namesValid = diagnostics.Count == 0 || diagnostics.All(d => d.Descriptor == DiagnosticDescriptors.MalformedSpec);
            var key = new ClassKey(namesValid && className.Length > 0 ? Qualify(ns, className) : null, path);
            if (spec is null || diagnostics.Count > 0)
            {
                return new SpecParseResult(null, diagnostics.ToEquatableArray(), key, fileLocation);
            }

            foreach (var slot in spec.Slots)
            {
                if (ClrType(slot.ElementType) is null)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.InconsistentSpec, LocationInfo.AtLine(path, text!, LineOf(text!, "slot", slot.Id), 1),
                        fileName, $"slot {slot.Id.ToString(CultureInfo.InvariantCulture)} has element type '{slot.ElementType}', which the runtime does not know"));
                }
            }

            var taken = new HashSet<string>(StringComparer.Ordinal);
            var members = new HashSet<string>(StringComparer.Ordinal);
            bool MemberAllowed(string m) =>
                m != className && !ReservedMembers.Contains(m + "Shape") && !ReservedMembers.Contains(m + "Length") &&
                m + "Shape" != className && m + "Length" != className;

            var inputs = new List<TensorParameter>();
            var outputs = new List<TensorParameter>();
            for (int i = 0; i < spec.Inputs.Count; i++)
            {
                inputs.Add(MakeParameter(spec, spec.Inputs[i], i, "input", path, text!, taken, members, MemberAllowed, diagnostics));
            }
            for (int i = 0; i < spec.Outputs.Count; i++)
            {
                outputs.Add(MakeParameter(spec, spec.Outputs[i], i, "output", path, text!, taken, members, MemberAllowed, diagnostics));
            }
            if (diagnostics.Count > 0)
            {
                return new SpecParseResult(null, diagnostics.ToEquatableArray(), key, fileLocation);
            }

            if (resource.Length == 0) resource = "ModelGen." + Qualify(ns, className) + ".weights";
            if (source.Length == 0) source = spec.Source;
            var predictor = new PredictorSpec(ns, className, access, resource, source, backend, spec, inputs.ToEquatableArray(), outputs.ToEquatableArray());
            return new SpecParseResult(predictor, EquatableArray<DiagnosticInfo>.Empty, key, fileLocation);
        }

        private static TensorParameter MakeParameter(
            ModelSpec spec, TensorRefSpec tensor, int index, string keyword, string path, SourceText text,
            HashSet<string> taken, HashSet<string> members, Func<string, bool> memberAllowed, List<DiagnosticInfo> diagnostics)
        {
            var slot = spec.Slots[tensor.Slot];
            string? clrType = ClrType(slot.ElementType);
            long count = SpecReader.ElementCount(slot);
            string? problem =
                clrType is null ? $"{keyword} '{tensor.Name}' has element type '{slot.ElementType}', which Predict cannot take" :
                count > int.MaxValue ? $"{keyword} '{tensor.Name}' has {count.ToString(CultureInfo.InvariantCulture)} elements, more than a span can hold" :
                null;
            if (problem is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.InconsistentSpec, LocationInfo.AtLine(path, text, LineOf(text, keyword, index), 1),
                    System.IO.Path.GetFileName(path), problem));
            }

            string parameter = Identifiers.MakeUnique(Identifiers.ToCamelCase(tensor.Name), taken);
            string member = Identifiers.MakeUnique(Identifiers.ToPascalCase(tensor.Name), members, memberAllowed);
            return new TensorParameter(
                tensor.Name, index, tensor.Slot, Identifiers.EscapeKeyword(parameter), member, clrType ?? "",
                slot.ElementType, slot.Shape, (int)Math.Min(count, int.MaxValue), tensor.Doc);
        }

        /// <summary>The span element type for an ONNX element type, or null if Predict cannot take it.</summary>
        internal static string? ClrType(string elementType) => elementType switch
        {
            "float" => "float",
            "double" => "double",
            "float16" => "global::System.Half",
            "int64" => "long",
            "int32" => "int",
            "int16" => "short",
            "int8" => "sbyte",
            "uint64" => "ulong",
            "uint32" => "uint",
            "uint16" => "ushort",
            "uint8" => "byte",
            "bool" => "bool",
            _ => null,
        };

        /// <summary>Why <paramref name="name"/> cannot be the class name, or null when it can.</summary>
        private static string? CheckClassName(string name)
        {
            if (name.Length == 0) return "no class name was given";
            if (!SyntaxFactsValid(name)) return $"the class name '{name}' is not a valid C# identifier";
            if (ReservedMembers.Contains(name)) return $"the class name '{name}' clashes with the generated member '{name}'";
            // CS8981: all-lower-case ASCII type names are reserved for future keywords.
            if (name.All(c => c >= 'a' && c <= 'z')) return $"the class name '{name}' has only lower-case ASCII letters, which C# reserves for keywords";
            return null;
        }

        /// <summary>Why <paramref name="ns"/> cannot be the namespace, or null when it can.</summary>
        private static string? CheckNamespace(string ns)
        {
            if (ns.Length == 0) return null;
            foreach (var part in ns.Split('.'))
            {
                if (!SyntaxFactsValid(part))
                {
                    return part.Length == 0
                        ? $"the namespace '{ns}' has an empty part"
                        : $"the namespace '{ns}' has the part '{part}', which is not a valid C# identifier";
                }
            }
            return null;
        }

        private static bool SyntaxFactsValid(string name) => Identifiers.IsPlainIdentifier(name);

        private static string Qualify(string ns, string name) => ns.Length == 0 ? name : ns + "." + name;

        private static string Metadata(AnalyzerConfigOptions options, string name) =>
            options.TryGetValue(MetadataPrefix + name, out var value) ? value ?? "" : "";

        /// <summary>1-based line of the <paramref name="nth"/> line starting with <paramref name="keyword"/>, or 1.</summary>
        private static int LineOf(SourceText text, string keyword, int nth)
        {
            int seen = 0;
            foreach (var line in text.Lines)
            {
                string s = line.ToString();
                if (s.StartsWith(keyword + " ", StringComparison.Ordinal) && seen++ == nth) return line.LineNumber + 1;
            }
            return 1;
        }
    }
}
