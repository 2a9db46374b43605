using System;
using System.IO;

namespace ModelGen.Build
{
    /// <summary>Finds the <c>dotnet</c> host that runs <c>modelgen.dll</c>.</summary>
    internal static class DotnetHost
    {
        /// <summary>The host's file name on this OS.</summary>
        public static string FileName => IsWindows ? "dotnet.exe" : "dotnet";

        private static bool IsWindows => Path.DirectorySeparatorChar == '\\';

        /// <summary>
        /// The dotnet host: <paramref name="explicitPath"/> (property <c>ModelGen_DotnetPath</c>)
        /// when given; else <c>DOTNET_HOST_PATH</c>, which the .NET SDK sets to the very host
        /// running the build; else the first <c>dotnet</c> on <c>PATH</c>; else the bare name,
        /// so the OS reports a clear "not found" naming it.
        /// </summary>
        public static string Resolve(string? explicitPath)
        {
            if (!string.IsNullOrWhiteSpace(explicitPath))
            {
                return explicitPath!;
            }

            var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrWhiteSpace(fromSdk) && File.Exists(fromSdk))
            {
                return fromSdk!;
            }

            var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
            foreach (var dir in path.Split(Path.PathSeparator))
            {
                if (dir.Length == 0)
                {
                    continue;
                }

                try
                {
                    var candidate = Path.Combine(dir.Trim('"'), FileName);
                    if (File.Exists(candidate))
                    {
                        return candidate;
                    }
                }
                catch (ArgumentException)
                {
                    // A malformed PATH entry: skip it like the shell would.
                }
            }

            return FileName;
        }
    }
}
