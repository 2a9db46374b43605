using ModelGen.Runtime.Memory;

namespace ModelGen.Runtime.Tests;

/// <summary>The executor's shared step workspace: sized by the largest reservation, committed once, reserved only while binding.</summary>
public class StepWorkspaceTests
{
    [Fact]
    public unsafe void CommitAllocatesTheLargestReservationAligned()
    {
        using var workspace = new StepWorkspace();
        workspace.Reserve(1000);
        workspace.Reserve(300_000);
        workspace.Reserve(5);
        workspace.Commit();
        Assert.Equal(300_000, workspace.Bytes);
        byte* p = workspace.Pointer;
        Assert.Equal(0, (long)p % 64);
        p[0] = 1;
        p[299_999] = 2; // the whole reservation is writable
        Assert.Equal(2, p[299_999]);
    }

    [Fact]
    public unsafe void PointerBeforeCommitAndReserveAfterItAreRefused()
    {
        using var workspace = new StepWorkspace();
        workspace.Reserve(64);
        Assert.Throws<InvalidOperationException>(() => (long)workspace.Pointer);
        workspace.Commit();
        Assert.Throws<InvalidOperationException>(() => workspace.Reserve(128));
    }
}
