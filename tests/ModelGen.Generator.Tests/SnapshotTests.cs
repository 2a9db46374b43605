using ModelGen.Tests;

namespace ModelGen.Generator.Tests;

/// <summary>The snapshot helper itself: it passes on equal text and fails (leaving a received file) otherwise.</summary>
public class SnapshotTests
{
    [Fact]
    public void MatchingSnapshotPassesAndIgnoresLineEndings() =>
        Snapshot.Verify("line one\r\nline two\n", "txt");

    [Fact]
    public void MissingSnapshotFailsAndWritesReceived()
    {
        string dir = Path.Combine(Path.GetTempPath(), "modelgen-snapshot-" + Guid.NewGuid().ToString("N"));
        string fakeTestFile = Path.Combine(dir, "FakeTests.cs");
        try
        {
            // Under CI or not, a missing verified file must fail unless snapshots are being accepted.
            if (Environment.GetEnvironmentVariable("MODELGEN_ACCEPT_SNAPSHOTS") == "1" && !TestData.IsCi) Assert.Skip("accepting snapshots");
            var ex = Assert.ThrowsAny<Exception>(() => Snapshot.Verify("text", "txt", "case1", fakeTestFile, "Member"));
            Assert.Contains("no verified file", ex.Message);
            Assert.Equal("text", File.ReadAllText(Path.Combine(dir, "Snapshots", "FakeTests.Member_case1.received.txt")));

            File.WriteAllText(Path.Combine(dir, "Snapshots", "FakeTests.Member_case1.verified.txt"), "text\nmore");
            ex = Assert.ThrowsAny<Exception>(() => Snapshot.Verify("text\nless", "txt", "case1", fakeTestFile, "Member"));
            Assert.Contains("first difference at line 2: expected \"more\" but got \"less\"", ex.Message);

            Snapshot.Verify("text\r\nmore", "txt", "case1", fakeTestFile, "Member");
            Assert.False(File.Exists(Path.Combine(dir, "Snapshots", "FakeTests.Member_case1.received.txt")));
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }
}
