using ModelGen.Runtime;

namespace ModelGen.Runtime.Tests;

/// <summary>Data-movement ops (exact: tolerance 0).</summary>
public class TensorOpTests
{
    [Theory]
    [InlineData(new[] { 2, 3, 4 }, new long[] { 2, 0, 1 })]
    [InlineData(new[] { 2, 3, 4 }, null)]
    [InlineData(new[] { 5, 17 }, new long[] { 1, 0 })]
    [InlineData(new[] { 2, 3, 4, 5 }, new long[] { 0, 2, 3, 1 })]
    [InlineData(new[] { 7 }, new long[] { 0 })]
    public void TransposePermutesDims(int[] shape, long[]? perm)
    {
        int rank = shape.Length;
        perm ??= Enumerable.Range(0, rank).Reverse().Select(i => (long)i).ToArray();
        int[] ys = perm.Select(p => shape[p]).ToArray();
        var x = Data.Random(1, Data.Count(shape));
        var plan = new TestPlan();
        int ix = plan.Input("X", shape);
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        plan.Step("Transpose", [ix], [iy], rank == 3 && perm.SequenceEqual(new long[] { 2, 1, 0 }) ? [] : [PlanAttribute.Ints("perm", perm)]);
        var y = plan.Run(x)[0];
        var expected = new float[x.Length];
        for (int i = 0; i < y.Length; i++)
        {
            var oi = Reference.Unravel(i, ys);
            var xi = new int[rank];
            for (int d = 0; d < rank; d++) xi[perm[d]] = oi[d];
            int flat = 0;
            for (int d = 0; d < rank; d++) flat = flat * shape[d] + xi[d];
            expected[i] = x[flat];
        }
        Assert.Equal(expected, y);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-1)]
    public void ConcatJoinsAlongAxis(int axis)
    {
        int[] s0 = [2, 3, 4];
        int a = axis < 0 ? axis + 3 : axis;
        int[] s1 = (int[])s0.Clone();
        s1[a] = 5;
        int[] ys = (int[])s0.Clone();
        ys[a] = s0[a] + s1[a];
        var x0 = Data.Random(1, Data.Count(s0));
        var x1 = Data.Random(2, Data.Count(s1));
        var plan = new TestPlan();
        int i0 = plan.Input("x0", s0), i1 = plan.Input("x1", s1);
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        plan.Step("Concat", [i0, i1], [iy], PlanAttribute.Int("axis", axis));
        var y = plan.Run(x0, x1)[0];
        for (int i = 0; i < y.Length; i++)
        {
            var index = Reference.Unravel(i, ys);
            bool first = index[a] < s0[a];
            if (!first) index[a] -= s0[a];
            var shape = first ? s0 : s1;
            int flat = 0;
            for (int d = 0; d < 3; d++) flat = flat * shape[d] + index[d];
            Assert.Equal(first ? x0[flat] : x1[flat], y[i]);
        }
    }

    [Fact]
    public void ConcatWorksOnInt64()
    {
        var plan = new TestPlan();
        int i0 = plan.Weight("a", new long[] { 1, 2 }, [2], ElementType.Int64);
        int i1 = plan.Weight("b", new long[] { -3 }, [1], ElementType.Int64);
        int iy = plan.Arena("Y", [3], ElementType.Int64);
        plan.Output(iy);
        plan.Step("Concat", [i0, i1], [iy], PlanAttribute.Int("axis", 0));
        using var executor = plan.Executor(out var weights);
        executor.Run();
        var y = new long[3];
        executor.GetOutput<long>(0, y);
        Assert.Equal(new long[] { 1, 2, -3 }, y);
        weights.Dispose();
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(2, true)]
    public void GatherPicksIndices(int axis, bool int32)
    {
        int[] xs = [4, 5, 4];
        long[] indices = [3, -1, 0, 2];
        int[] ys = axis switch { 0 => [2, 2, 5, 4], 1 => [4, 2, 2, 4], _ => [4, 5, 2, 2] };
        var x = Data.Random(3, Data.Count(xs));
        var plan = new TestPlan();
        int ix = plan.Input("X", xs);
        int ii = int32
            ? plan.Weight("idx", indices.Select(i => (int)i).ToArray(), [2, 2], ElementType.Int32)
            : plan.Weight("idx", indices, [2, 2], ElementType.Int64);
        int iy = plan.Arena("Y", ys);
        plan.Output(iy);
        plan.Step("Gather", [ix, ii], [iy], PlanAttribute.Int("axis", axis));
        var y = plan.Run(x)[0];
        for (int i = 0; i < y.Length; i++)
        {
            var o = Reference.Unravel(i, ys);
            long k = indices[o[axis] * 2 + o[axis + 1]];
            if (k < 0) k += xs[axis];
            var xi = new List<int>();
            for (int d = 0; d < axis; d++) xi.Add(o[d]);
            xi.Add((int)k);
            for (int d = axis + 2; d < 4; d++) xi.Add(o[d]);
            Assert.Equal(x[(xi[0] * 5 + xi[1]) * 4 + xi[2]], y[i]);
        }
    }

    [Fact]
    public void GatherRejectsOutOfRangeIndexNamingTheStep()
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", [3]);
        int ii = plan.Input("idx", [1], ElementType.Int64);
        int iy = plan.Arena("Y", [1]);
        plan.Output(iy);
        plan.Step("Gather", [ix, ii], [iy]);
        using var executor = plan.Executor(out var weights);
        executor.SetInput<float>(0, [1, 2, 3]);
        executor.SetInput<long>(1, [3]);
        var e = Assert.Throws<ModelGenException>(executor.Run);
        Assert.Contains("Gather 'gather_0'", e.Message);
        Assert.Contains("index 3", e.Message);
        weights.Dispose();
    }

    [Theory]
    [InlineData("Reshape")]
    [InlineData("Flatten")]
    [InlineData("Squeeze")]
    [InlineData("Unsqueeze")]
    [InlineData("Identity")]
    [InlineData("Dropout")]
    public void CopyOpsMoveBytes(string op)
    {
        var x = Data.Random(4, 24);
        var plan = new TestPlan();
        int ix = plan.Input("X", [2, 3, 4]);
        int iy = plan.Arena("Y", op == "Flatten" ? [2, 12] : [24]);
        int mask = plan.Arena("mask", [2, 3, 4], ElementType.Bool);
        plan.Output(iy);
        plan.Step(op, [ix], op == "Dropout" ? [iy, mask] : [iy]);
        if (op == "Dropout") plan.Output(mask);
        using var executor = plan.Executor(out var weights);
        executor.SetInput<float>(0, x);
        executor.Run();
        var y = new float[24];
        executor.GetOutput<float>(0, y);
        Assert.Equal(x, y);
        if (op == "Dropout")
        {
            var m = new bool[24];
            executor.GetOutput<bool>(1, m);
            Assert.All(m, Assert.True);
        }
        weights.Dispose();
    }

    [Fact]
    public void ShapeAndConstantOfShape()
    {
        var plan = new TestPlan();
        int ix = plan.Input("X", [2, 3, 5, 7]);
        int ishape = plan.Arena("shape", [2], ElementType.Int64);
        int ic = plan.Arena("c", [2, 3], ElementType.Int32);
        int icf = plan.Arena("cf", [4]);
        plan.Output(ishape);
        plan.Output(ic);
        plan.Output(icf);
        plan.Step("Shape", [ix], [ishape], PlanAttribute.Int("start", 1), PlanAttribute.Int("end", -1));
        plan.Step("ConstantOfShape", [ishape], [ic], PlanAttribute.Ints("value", 7));
        plan.Step("ConstantOfShape", [ishape], [icf], PlanAttribute.Floats("value", 2.5f));
        using var executor = plan.Executor(out var weights);
        executor.SetInput<float>(0, new float[210]);
        executor.Run();
        var shape = new long[2];
        executor.GetOutput<long>(0, shape);
        Assert.Equal(new long[] { 3, 5 }, shape);
        var c = new int[6];
        executor.GetOutput<int>(1, c);
        Assert.All(c, v => Assert.Equal(7, v));
        var cf = new float[4];
        executor.GetOutput<float>(2, cf);
        Assert.All(cf, v => Assert.Equal(2.5f, v));
        weights.Dispose();
    }

    [Fact]
    public void CastConvertsBetweenTypes()
    {
        float[] x = [-2.7f, -0.5f, 0f, 1.5f, 3.9f, 200.2f];
        var plan = new TestPlan();
        int ix = plan.Input("X", [6]);
        int il = plan.Arena("l", [6], ElementType.Int64);
        int ib = plan.Arena("b", [6], ElementType.Bool);
        int ih = plan.Arena("h", [6], ElementType.Float16);
        int iu = plan.Arena("u", [6], ElementType.UInt8);
        int iback = plan.Arena("back", [6]);
        foreach (var id in new[] { il, ib, ih, iu, iback }) plan.Output(id);
        plan.Step("Cast", [ix], [il], PlanAttribute.Int("to", 7));
        plan.Step("Cast", [ix], [ib], PlanAttribute.Int("to", 9));
        plan.Step("Cast", [ix], [ih], PlanAttribute.Int("to", 10));
        plan.Step("Cast", [ix], [iu], PlanAttribute.Int("to", 2));
        plan.Step("Cast", [il], [iback], PlanAttribute.Int("to", 1));
        using var executor = plan.Executor(out var weights);
        executor.SetInput<float>(0, x);
        executor.Run();
        var l = new long[6];
        executor.GetOutput<long>(0, l);
        Assert.Equal(new long[] { -2, 0, 0, 1, 3, 200 }, l);
        var b = new bool[6];
        executor.GetOutput<bool>(1, b);
        Assert.Equal(new[] { true, true, false, true, true, true }, b);
        var h = new Half[6];
        executor.GetOutput<Half>(2, h);
        Assert.Equal(x.Select(v => (Half)v).ToArray(), h);
        var u = new byte[6];
        executor.GetOutput<byte>(3, u);
        Assert.Equal(new byte[] { 0, 1, 3, 200 }, u[2..]);
        var back = new float[6];
        executor.GetOutput<float>(4, back);
        Assert.Equal(new float[] { -2, 0, 0, 1, 3, 200 }, back);
        weights.Dispose();
    }
}
