using System;
using System.Collections.Generic;
using System.IO;
using Microsoft.Build.Framework;
using Microsoft.Build.Utilities;

namespace ModelGen.Build
{
    /// <summary>
    /// Completes the metadata of <c>OptimizedModel</c> items before anything runs: the default
    /// <c>ClassName</c> (the file name in PascalCase), full output folder and the three output
    /// paths the optimizer will write, so the targets can compare inputs and outputs without
    /// running the optimizer. Pure and cheap; it runs on every build.
    /// </summary>
    public class ResolveOptimizedModels : Task
    {
        /// <summary>The <c>@(OptimizedModel)</c> items.</summary>
        [Required]
        public ITaskItem[] Models { get; set; } = Array.Empty<ITaskItem>();

        /// <summary>The project folder; relative <c>OutputDir</c> values are resolved against it.</summary>
        [Required]
        public string ProjectDirectory { get; set; } = string.Empty;

        /// <summary>
        /// The items with metadata filled in: <c>ClassName</c>, <c>Namespace</c>, <c>Access</c>,
        /// <c>OutputDir</c> (full path, ending in a separator), <c>SpecPath</c>,
        /// <c>WeightsPath</c>, <c>OnnxPath</c>, <c>WeightsResource</c>, <c>Source</c>, full
        /// <c>ValidationData</c>/<c>CalibrationData</c> paths and <c>DataInputs</c> (both, for the
        /// incremental check).
        /// </summary>
        [Output]
        public ITaskItem[] Resolved { get; set; } = Array.Empty<ITaskItem>();

        /// <inheritdoc />
        public override bool Execute()
        {
            var resolved = new List<ITaskItem>(Models.Length);
            var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var model in Models)
            {
                var item = Resolve(model);
                if (item is null)
                {
                    continue;
                }

                var key = item.GetMetadata("SpecPath");
                if (seen.TryGetValue(key, out var other))
                {
                    Log.LogError(null, "MG1010", null, model.GetMetadata("FullPath"), 0, 0, 0, 0,
                        "OptimizedModel items '{0}' and '{1}' would both write '{2}'. Give one of them another " +
                        "ClassName or OutputDir.", other, model.ItemSpec, key);
                    continue;
                }

                seen.Add(key, model.ItemSpec);
                resolved.Add(item);
            }

            Resolved = resolved.ToArray();
            return !Log.HasLoggedErrors;
        }

        private ITaskItem? Resolve(ITaskItem model)
        {
            var source = model.GetMetadata("FullPath");
            var className = model.GetMetadata("ClassName");
            if (string.IsNullOrWhiteSpace(className))
            {
                className = ClassNames.ToPascalCase(model.GetMetadata("Filename"));
            }

            var ns = model.GetMetadata("Namespace");
            var access = model.GetMetadata("Access");
            if (string.IsNullOrWhiteSpace(access))
            {
                access = "internal";
            }

            if (!ClassNames.IsIdentifier(className))
            {
                return Fail(model, "ClassName '{0}' is not a C# identifier. Use letters, digits and underscores.",
                    className);
            }

            if (!string.IsNullOrEmpty(ns) && !ClassNames.IsNamespace(ns))
            {
                return Fail(model, "Namespace '{0}' is not a C# namespace. Use identifiers separated by dots.", ns);
            }

            access = access.Trim().ToLowerInvariant();
            if (access != "internal" && access != "public")
            {
                return Fail(model, "Access '{0}' is not supported. Use 'internal' or 'public'.", access);
            }

            var outputDir = model.GetMetadata("OutputDir");
            if (string.IsNullOrWhiteSpace(outputDir))
            {
                return Fail(model, "OutputDir is empty. Remove the metadata to get the default " +
                    "$(IntermediateOutputPath)modelgen/, or set it to a folder.");
            }

            string fullDir;
            try
            {
                fullDir = Path.GetFullPath(Path.Combine(ProjectDirectory, outputDir));
            }
            catch (Exception e) when (e is ArgumentException || e is NotSupportedException || e is PathTooLongException)
            {
                return Fail(model, "OutputDir '{0}' is not a valid folder: {1}", outputDir, e.Message);
            }

            fullDir = fullDir.TrimEnd(Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar)
                + Path.DirectorySeparatorChar;

            var item = new TaskItem(model);
            item.SetMetadata("ClassName", className);
            item.SetMetadata("Namespace", ns);
            item.SetMetadata("Access", access);
            item.SetMetadata("OutputDir", fullDir);
            item.SetMetadata("SpecPath", fullDir + className + ".mgspec");
            item.SetMetadata("WeightsPath", fullDir + className + ".weights");
            item.SetMetadata("OnnxPath", fullDir + className + ".onnx");
            // Written only for lossy optimizations: the accuracy gate's and quantizer's report.
            item.SetMetadata("ReportPath", fullDir + className + ".report.md");
            item.SetMetadata("ReportJsonPath", fullDir + className + ".report.json");
            item.SetMetadata("WeightsResource",
                "ModelGen." + (string.IsNullOrEmpty(ns) ? string.Empty : ns + ".") + className + ".weights");
            item.SetMetadata("Source", source);

            // Data files are relative to the project folder, like the model itself. CalibrationData
            // defaults to ValidationData; both are inputs of the incremental check.
            foreach (var name in new[] { "ValidationData", "CalibrationData" })
            {
                var value = model.GetMetadata(name);
                if (string.IsNullOrWhiteSpace(value))
                {
                    continue;
                }

                try
                {
                    item.SetMetadata(name, Path.GetFullPath(Path.Combine(ProjectDirectory, value.Trim())));
                }
                catch (Exception e) when (e is ArgumentException || e is NotSupportedException || e is PathTooLongException)
                {
                    return Fail(model, "{0} '{1}' is not a valid path: {2}", name, value, e.Message);
                }
            }

            var data = new List<string>();
            foreach (var name in new[] { "ValidationData", "CalibrationData" })
            {
                var path = item.GetMetadata(name);
                if (path.Length == 0)
                {
                    continue;
                }

                // A folder of test_data_set_* is compared file by file: a folder's own time
                // stamp does not change when a file inside it is edited.
                var files = Directory.Exists(path)
                    ? Directory.GetFiles(path, "*", SearchOption.AllDirectories)
                    : new[] { path };
                Array.Sort(files, StringComparer.Ordinal);
                foreach (var file in files)
                {
                    if (!data.Contains(file))
                    {
                        data.Add(file);
                    }
                }
            }

            item.SetMetadata("DataInputs", string.Join(";", data));
            return item;
        }

        private ITaskItem? Fail(ITaskItem model, string format, params object[] args)
        {
            Log.LogError(null, "MG1010", null, model.GetMetadata("FullPath"), 0, 0, 0, 0,
                "OptimizedModel item '" + model.ItemSpec.Replace("{", "{{").Replace("}", "}}") + "': " + format, args);
            return null;
        }
    }
}
