using ModelGen.Runtime.Kernels;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// Runs a check once per fp32 tile path this CPU has (<see cref="FloatIsa.Avx512"/>, then <see cref="FloatIsa.Avx2"/>),
/// with kernels bound on that path (<see cref="FloatIsaSelector.Override"/>), so an AVX-512 machine tests the AVX2 tiles
/// too. A failure names the path.
/// </summary>
internal static class FloatPaths
{
    /// <summary>The tile paths this CPU runs, widest first.</summary>
    public static FloatIsa[] Supported() => [.. new[] { FloatIsa.Avx512, FloatIsa.Avx2 }.Where(FloatIsaSelector.IsSupported)];

    /// <summary>Runs <paramref name="check"/> on each path of <see cref="Supported"/>.</summary>
    public static void OnEach(Action check)
    {
        foreach (var isa in Supported())
        {
            FloatIsaSelector.Override = isa;
            try
            {
                check();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                throw new InvalidOperationException($"on the {isa} path: {e.Message}", e);
            }
            finally
            {
                FloatIsaSelector.Override = null;
            }
        }
    }
}
