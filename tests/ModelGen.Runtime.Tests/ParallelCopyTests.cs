using ModelGen.Runtime.Memory;
using Xunit;

namespace ModelGen.Runtime.Tests;

/// <summary>The copy of inputs into and outputs out of the arena, split over the pool above <see cref="ParallelCopy.SplitBytes"/>.</summary>
public unsafe class ParallelCopyTests
{
    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(100, 3, 7)]
    [InlineData(ParallelCopy.SplitBytes - 1, 0, 0)]
    [InlineData(ParallelCopy.SplitBytes, 0, 0)]
    [InlineData(ParallelCopy.SplitBytes + 13, 5, 0)]
    [InlineData(ParallelCopy.SplitBytes + 13, 0, 61)]
    [InlineData(4L << 20, 17, 33)]
    public void CopiesEveryByteAndNothingElse(long bytes, int sourceOffset, int targetOffset)
    {
        var source = new byte[bytes + sourceOffset];
        new Random(11).NextBytes(source);
        // Guard bytes on both sides of the target must survive.
        var target = new byte[bytes + targetOffset + 64];
        Array.Fill(target, (byte)0xA5);
        fixed (byte* s = source)
        fixed (byte* t = target)
        {
            new ParallelCopy().Copy(s + sourceOffset, t + targetOffset, bytes);
        }
        Assert.True(source.AsSpan(sourceOffset).SequenceEqual(target.AsSpan(targetOffset, (int)bytes)), "copied bytes differ");
        Assert.All(target.AsSpan(0, targetOffset).ToArray(), b => Assert.Equal(0xA5, b));
        Assert.All(target.AsSpan(targetOffset + (int)bytes).ToArray(), b => Assert.Equal(0xA5, b));
    }
}
