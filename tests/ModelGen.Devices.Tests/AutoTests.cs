using ModelGen.Runtime;
using ModelGen.Runtime.Devices;
using ModelGen.Runtime.Tests;

namespace ModelGen.Devices.Tests;

/// <summary>Backend resolution: Auto, its threshold, explicit backends that are missing, shared devices.</summary>
public class AutoTests
{
    private static TestPlan Gemm(int m, int k, int n)
    {
        var plan = new TestPlan();
        int ia = plan.Input("A", [m, k]);
        int iy = plan.Arena("Y", [m, n]);
        plan.Step("Gemm", [ia, plan.Weight("B", Data.Random(2, k * n), [k, n])], [iy]);
        plan.Output(iy);
        return plan;
    }

    [Fact]
    public void EstimateCountsMultiplyAddsTwice()
    {
        Assert.Equal(2L * 3 * 4 * 5, ModelExecutors.EstimateFlops(Gemm(3, 4, 5).Plan()));
    }

    [Fact]
    public void AutoStaysOnTheCpuBelowTheThreshold()
    {
        var plan = Gemm(2, 4, 3);
        using var weights = plan.Weights();
        Assert.True(ModelExecutors.EstimateFlops(plan.Plan()) < ModelExecutors.DefaultMinDeviceFlops);
        using var executor = ModelExecutors.Create(plan.Plan(), weights, Backend.Auto, out var active, out string name);
        Assert.Equal(Backend.Cpu, active);
        Assert.IsType<PlanExecutor>(executor);
        Assert.Contains("CPU", name);
    }

    [Fact]
    public void AutoTakesCudaOrAnOpenCLGpuAboveTheThresholdElseTheCpu()
    {
        var plan = Gemm(64, 64, 64);
        Assert.True(ModelExecutors.EstimateFlops(plan.Plan()) < long.MaxValue);
        var expected = DeviceRegistry.TryGet(Backend.Cuda, out _) is not null ? Backend.Cuda
            : DeviceRegistry.TryGet(Backend.OpenCL, out _) is { IsGpu: true } ? Backend.OpenCL
            : Backend.Cpu;
        // MinDeviceFlops = 0 is what MODELGEN_GPU_MIN_FLOPS=0 sets; read it through Resolve's threshold check.
        long saved = ModelExecutors.MinDeviceFlops;
        try
        {
            ModelExecutors.MinDeviceFlops = 0;
            Assert.Equal(expected, ModelExecutors.Resolve(plan.Plan(), Backend.Auto, out _));
            ModelExecutors.MinDeviceFlops = long.MaxValue;
            Assert.Equal(Backend.Cpu, ModelExecutors.Resolve(plan.Plan(), Backend.Auto, out _));
        }
        finally
        {
            ModelExecutors.MinDeviceFlops = saved;
        }
    }

    [Fact]
    public void AnExplicitMissingBackendThrowsNamingWhatWasLookedForAndFound()
    {
        if (ModelExecutors.IsAvailable(Backend.Cuda, out _)) Assert.Skip("a CUDA device is present");
        var plan = Gemm(2, 2, 2);
        using var weights = plan.Weights();
        var e = Assert.Throws<ModelGenDeviceException>(() => ModelExecutors.Create(plan.Plan(), weights, Backend.Cuda, out _, out _));
        Assert.Contains("Backend.Cuda", e.Message);
        Assert.Contains("looked for", e.Message);
        Assert.Contains("found", e.Message);
    }

    [Fact]
    public void ExecutorsShareOneDevicePerBackend()
    {
        var first = DeviceRegistry.TryGet(Backend.IlgpuCpu, out _);
        Assert.NotNull(first);
        Assert.Same(first, DeviceRegistry.TryGet(Backend.IlgpuCpu, out _));
        var plan = Gemm(2, 3, 4);
        using var weights = plan.Weights();
        using var a = ModelExecutors.Create(plan.Plan(), weights, Backend.IlgpuCpu, out _, out string nameA);
        using var b = ModelExecutors.Create(plan.Plan(), weights, Backend.IlgpuCpu, out _, out string nameB);
        Assert.Equal(nameA, nameB);
        Assert.Equal(first!.Name, nameA);
    }

    [Fact]
    public void EveryDeviceOpIsACpuOp()
    {
        foreach (string op in ModelExecutors.DeviceSupportedOps)
        {
            Assert.Contains(op, ModelGen.Runtime.Kernels.KernelFactory.SupportedOps);
        }
    }
}
