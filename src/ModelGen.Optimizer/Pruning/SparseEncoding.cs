using System.Runtime.InteropServices;
using ModelGen.Onnx.Ir;
using ModelGen.Optimizer.Passes;
using ModelGen.Runtime;

namespace ModelGen.Optimizer.Pruning;

/// <summary>
/// Stores sparse weights compressed in the plan that ships (the written .onnx keeps them dense,
/// with their zeros, so any runtime can run it): compressed sparse rows for Gemm, MatMul and
/// Conv, or the N:M layout for Gemm/MatMul when every group fits the pattern. A small cost model
/// picks, per layer, the cheapest of dense and the compressed forms the runtime has kernels for;
/// its constants are the measured time per weight of each kernel relative to the dense SIMD
/// kernels (see docs/pruning.md), so a layer is only compressed where that makes it faster.
/// </summary>
internal static class SparseEncoding
{
    // Relative times per stored weight and output position, measured on this project's kernels
    // (batch 1, x64 AVX2, two cores shared with other work; ScratchBench-style runs of a 1024x1024
    // Gemm and a 32->64 3x3 Conv on 28x28): dense Gemm 0.78 ns per weight; CSR Gemm 0.84-1.1 ns per
    // non-zero; 2:4 Gemm 1.28 ns per stored value; dense Conv 0.36 ns per weight-position; CSR Conv
    // about 1.2 ns per non-zero-position. Dense is the unit.

    /// <summary>Relative time per stored weight of the dense kernels (SIMD, packed).</summary>
    public const double DenseCost = 1.0;

    /// <summary>Relative time per non-zero of the CSR Gemm/MatMul kernel (a gather and a multiply-add).</summary>
    public const double CsrCost = 1.4;

    /// <summary>Relative time per non-zero of the CSR Conv kernel (against the im2col + SGEMM dense Conv, which reuses each weight across positions in registers).</summary>
    public const double CsrConvCost = 3.5;

    /// <summary>Relative time per output unit of the CSR kernels (row start, bias, activation).</summary>
    public const double CsrRowCost = 4.0;

    /// <summary>Relative time per stored value of the N:M kernel.</summary>
    public const double NmCost = 1.7;

    /// <summary>The attribute values of <see cref="ModelGen.Runtime"/>'s sparse kernels.</summary>
    public const string Csr = "csr", Nm = "nm", Dense = "dense";

    /// <summary>Encodes every layer the cost model favours, in place; returns the format per layer name (dense ones included).</summary>
    /// <param name="graph">The plan's copy of the graph.</param>
    /// <param name="nmN">N of the N:M pattern pruning used (0: none), so the N:M layout may be considered.</param>
    /// <param name="nmM">M of the pattern.</param>
    /// <param name="force">A format to use wherever it applies instead of the cost model's choice (tests of the kernels).</param>
    public static Dictionary<string, string> Apply(OnnxGraph graph, int nmN = 0, int nmM = 0, string? force = null)
    {
        var formats = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes.ToList())
        {
            var layer = LayerWeights.Of(graph, node, out _);
            if (layer is null) continue;
            var rows = layer.Read(graph);
            var bias = layer.ReadBias(graph);
            string format = Choose(layer, rows, nmN, nmM);
            if (force is not null && (force != Nm || (layer.Op != "Conv" && nmN > 0 && FitsNm(rows, layer.Outputs, layer.Inputs, nmN, nmM)))) format = force;
            formats[node.Name] = format;
            if (format == Dense || bias is null) continue;
            bool hadBias = node.InputOrEmpty(2).Length > 0;
            string biasName = "";
            if (hadBias)
            {
                biasName = BatchNormFolding.Unique(graph, node.Name + "__sparse_b");
                graph.Initializers[biasName] = OnnxTensor.FromFloats(biasName, [bias.Length], bias);
            }
            var inputs = format == Csr ? EncodeCsr(graph, node.Name, rows, layer.Outputs, layer.Inputs) : EncodeNm(graph, node.Name, rows, layer.Outputs, layer.Inputs, nmN, nmM);
            string x = node.Inputs[0];
            node.Inputs.Clear();
            node.Inputs.AddRange([x, inputs.Values, biasName, "", inputs.Indices, inputs.RowStart]);
            while (node.Inputs[^1].Length == 0) node.Inputs.RemoveAt(node.Inputs.Count - 1);
            node.Set(OnnxAttribute.OfString("sparse", format));
            node.Set(OnnxAttribute.OfInts("sparse_shape", layer.Outputs, layer.Inputs));
            if (node.OpType == "Conv") node.Set(OnnxAttribute.OfInts("sparse_inner", layer.InnerShape.Select(d => (long)d).ToArray()));
            if (format == Nm)
            {
                node.Set(OnnxAttribute.OfInt("sparse_n", nmN));
                node.Set(OnnxAttribute.OfInt("sparse_m", nmM));
            }
            if (node.OpType == "Gemm")
            {
                node.Set(OnnxAttribute.OfFloat("alpha", 1f));
                node.Set(OnnxAttribute.OfFloat("beta", 1f));
            }
        }
        LayerWeights.DropUnusedInitializers(graph);
        return formats;
    }

    /// <summary>The cheapest format for a layer by the cost model (dense when nothing else applies).</summary>
    public static string Choose(LayerWeights layer, float[] rows, int nmN, int nmM)
    {
        long nnz = rows.LongCount(v => v != 0);
        long total = rows.LongLength;
        double dense = total * DenseCost;
        double csr = layer.Inputs <= ushort.MaxValue && layer.Node.GetInt("group", 1) == 1 ? nnz * (layer.Op == "Conv" ? CsrConvCost : CsrCost) + layer.Outputs * CsrRowCost : double.PositiveInfinity;
        double nm = layer.Op != "Conv" && nmN > 0 && FitsNm(rows, layer.Outputs, layer.Inputs, nmN, nmM)
            ? (double)layer.Outputs * ((layer.Inputs + nmM - 1) / nmM) * nmN * NmCost : double.PositiveInfinity;
        if (csr < dense && csr <= nm) return Csr;
        if (nm < dense) return Nm;
        return Dense;
    }

    /// <summary>True when every group of <paramref name="m"/> features of every row has at most <paramref name="n"/> non-zeros.</summary>
    public static bool FitsNm(float[] rows, int units, int features, int n, int m)
    {
        for (int u = 0; u < units; u++)
        {
            for (int g = 0; g < features; g += m)
            {
                int count = 0;
                for (int i = g; i < Math.Min(g + m, features); i++) if (rows[(long)u * features + i] != 0) count++;
                if (count > n) return false;
            }
        }
        return true;
    }

    private static (string Values, string Indices, string RowStart) EncodeCsr(OnnxGraph graph, string owner, float[] rows, int units, int features)
    {
        var values = new List<float>();
        var columns = new List<ushort>();
        var start = new int[units + 1];
        for (int u = 0; u < units; u++)
        {
            start[u] = values.Count;
            for (int i = 0; i < features; i++)
            {
                float v = rows[(long)u * features + i];
                if (v == 0) continue;
                values.Add(v);
                columns.Add((ushort)i);
            }
        }
        start[units] = values.Count;
        string vName = BatchNormFolding.Unique(graph, owner + "__csr_values");
        string cName = BatchNormFolding.Unique(graph, owner + "__csr_columns");
        string sName = BatchNormFolding.Unique(graph, owner + "__csr_rows");
        graph.Initializers[vName] = OnnxTensor.FromFloats(vName, [values.Count], CollectionsMarshal.AsSpan(values));
        graph.Initializers[cName] = new OnnxTensor(cName, ElementType.UInt16, [columns.Count], MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(columns)).ToArray());
        graph.Initializers[sName] = new OnnxTensor(sName, ElementType.Int32, [start.Length], MemoryMarshal.AsBytes(start.AsSpan()).ToArray());
        return (vName, cName, sName);
    }

    private static (string Values, string Indices, string RowStart) EncodeNm(OnnxGraph graph, string owner, float[] rows, int units, int features, int n, int m)
    {
        int groups = (features + m - 1) / m;
        var values = new float[(long)units * groups * n];
        var positions = new byte[values.Length];
        for (int u = 0; u < units; u++)
        {
            for (int g = 0; g < groups; g++)
            {
                long slot = ((long)u * groups + g) * n;
                int used = 0;
                for (int i = g * m; i < Math.Min(g * m + m, features) && used < n; i++)
                {
                    float v = rows[(long)u * features + i];
                    if (v == 0) continue;
                    values[slot + used] = v;
                    positions[slot + used] = (byte)(i - g * m);
                    used++;
                }
                // Unused slots hold 0 at position 0, which is always inside the group.
            }
        }
        string vName = BatchNormFolding.Unique(graph, owner + "__nm_values");
        string pName = BatchNormFolding.Unique(graph, owner + "__nm_positions");
        graph.Initializers[vName] = OnnxTensor.FromFloats(vName, [units, groups * n], values);
        graph.Initializers[pName] = new OnnxTensor(pName, ElementType.UInt8, [units, groups * n], positions);
        return (vName, pName, "");
    }
}
