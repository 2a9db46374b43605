namespace ModelGen.Tests;

/// <summary>A fresh temporary folder, deleted on dispose unless MODELGEN_KEEP_TEMP=1.</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "modelgen-tests-") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    /// <summary>
    /// A folder for data shared by every test in the run (held in a static): deleted when the test process exits,
    /// since no test owns it. Left behind, one per test run, such folders piled up in /tmp (the packed package's
    /// feed and packages folder is ~0.5 GB; 56 of them, 25 GB, on a development machine).
    /// </summary>
    public static TempFolder UntilProcessExit(string prefix)
    {
        var folder = new TempFolder(prefix);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => folder.Dispose();
        return folder;
    }

    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable("MODELGEN_KEEP_TEMP") == "1") return;
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A straggling build process may still hold a file; the OS cleans temp eventually.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
