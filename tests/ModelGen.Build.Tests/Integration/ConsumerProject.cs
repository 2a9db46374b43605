namespace ModelGen.Build.Tests.Integration;

/// <summary>
/// Writes a brand-new console project into a temp folder, the way a user's app would look.
/// Directory.Build.* and Directory.Packages.props lookups are switched off so nothing from
/// the temp folder's parents (or this repository) leaks in.
/// </summary>
internal static class ConsumerProject
{
    public const string BuildTimeout = "00:05:00";

    /// <param name="imports">Extra lines after Sdk.props (e.g. ModelGen.props when wiring from source).</param>
    /// <param name="body">Property and item groups of the project.</param>
    /// <param name="lateImports">Extra lines after Sdk.targets.</param>
    public static void Write(string folder, string name, string body, string imports = "", string lateImports = "")
    {
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, name + ".csproj"), $"""
            <Project>
              <PropertyGroup>
                <ImportDirectoryBuildProps>false</ImportDirectoryBuildProps>
                <ImportDirectoryBuildTargets>false</ImportDirectoryBuildTargets>
                <ImportDirectoryPackagesProps>false</ImportDirectoryPackagesProps>
              </PropertyGroup>
              <Import Project="Sdk.props" Sdk="Microsoft.NET.Sdk" />
            {imports}
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <Nullable>enable</Nullable>
                <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
              </PropertyGroup>
            {body}
              <Import Project="Sdk.targets" Sdk="Microsoft.NET.Sdk" />
            {lateImports}
            </Project>
            """);
    }

    /// <summary>A nuget.config with only the given local feed and nuget.org.</summary>
    public static void WriteNugetConfig(string folder, string localFeed) =>
        File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="modelgen-under-test" value="{localFeed}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
              </packageSources>
            </configuration>
            """);
}
