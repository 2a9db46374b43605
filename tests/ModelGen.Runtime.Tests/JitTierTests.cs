using System.Reflection;
using ModelGen.Runtime.Kernels;
using ModelGen.Runtime.Threading;
using Xunit;

namespace ModelGen.Runtime.Tests;

/// <summary>
/// The per-call entry points must be compiled fully optimized at their first call
/// (<see cref="MethodImplAttributes.AggressiveOptimization"/>): under tiered compilation they start at
/// tier 0, and in a process that sees one processor they stayed there for seconds (SqueezeNet ran
/// 1.5–1.7x slower; see <see cref="Kernel"/>). A new kernel without the attribute fails here.
/// </summary>
public class JitTierTests
{
    private static readonly Assembly Runtime = typeof(Kernel).Assembly;

    [Fact]
    public void EveryKernelExecuteIsCompiledOptimizedAtOnce()
    {
        var kernels = Runtime.GetTypes().Where(t => !t.IsAbstract && typeof(Kernel).IsAssignableFrom(t)).ToList();
        Assert.True(kernels.Count > 40, $"found only {kernels.Count} kernel types");
        var missing = kernels
            .Select(t => t.GetMethod(nameof(Kernel.Execute), BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes)!)
            .Where(m => !IsOptimizedAtOnce(m))
            .Select(m => m.DeclaringType!.FullName)
            .Distinct()
            .ToList();
        Assert.True(missing.Count == 0, "Execute() without AggressiveOptimization: " + string.Join(", ", missing));
    }

    [Fact]
    public void EveryParallelPartIsCompiledOptimizedAtOnce()
    {
        var works = Runtime.GetTypes().Where(t => !t.IsInterface && typeof(IParallelWork).IsAssignableFrom(t)).ToList();
        Assert.True(works.Count > 10, $"found only {works.Count} parallel work types");
        var missing = works
            .Select(t => t.GetInterfaceMap(typeof(IParallelWork)).TargetMethods.Single(m => m.Name.EndsWith(nameof(IParallelWork.Execute), StringComparison.Ordinal)))
            .Where(m => !IsOptimizedAtOnce(m))
            .Select(m => m.DeclaringType!.FullName)
            .ToList();
        Assert.True(missing.Count == 0, "Execute(part, parts) without AggressiveOptimization: " + string.Join(", ", missing));
    }

    [Fact]
    public void ThePlanLoopIsCompiledOptimizedAtOnce()
    {
        var run = typeof(PlanExecutor).GetMethod(nameof(PlanExecutor.Run), Type.EmptyTypes)!;
        Assert.True(IsOptimizedAtOnce(run));
    }

    private static bool IsOptimizedAtOnce(MethodInfo method) =>
        (method.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) != 0;
}
