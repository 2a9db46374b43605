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

    [Fact]
    public unsafe void PartSlicesStartAtTheSamePlaceForEveryStep()
    {
        using var workspace = new StepWorkspace();
        workspace.ReserveParts(2, 10_000);  // a step with small slices
        workspace.ReserveParts(2, 100_000); // a step with large ones
        workspace.Reserve(150_000);         // a whole-buffer step, smaller than both slices together
        workspace.Commit();
        // Whole pages each, the largest step's size apart, whichever step asked.
        const long slice = 102_400; // 100_000 rounded up to 4 KB
        Assert.Equal(2 * slice, workspace.Bytes);
        Assert.Equal((nint)workspace.Pointer, (nint)workspace.Part(0));
        Assert.Equal(slice, workspace.Part(1) - workspace.Part(0));
        workspace.Part(1)[slice - 1] = 7; // the last slice is writable to its end
        Assert.Equal(7, workspace.Part(1)[slice - 1]);
        Assert.Throws<InvalidOperationException>(() => workspace.ReserveParts(2, 64));
    }
}
