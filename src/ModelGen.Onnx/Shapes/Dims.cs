using ModelGen.Onnx.Ir;

namespace ModelGen.Onnx.Shapes;

/// <summary>Dimension arithmetic that keeps unknown and symbolic sizes honest.</summary>
internal static class Dims
{
    public static Dim[] Unknown(int rank) => Enumerable.Repeat(Dim.Unknown, rank).ToArray();

    public static Dim[] Of(IEnumerable<long> values) => values.Select(Dim.Of).ToArray();

    public static string Show(Dim[]? shape) => shape is null ? "[?]" : $"[{string.Join(",", shape)}]";

    /// <summary>
    /// Product of dims; 0 wins, otherwise unknown if any is unknown, except that a single
    /// symbolic dim times ones stays that symbol (Flatten of [N, …] keeps N).
    /// </summary>
    public static Dim Product(IEnumerable<Dim> dims)
    {
        long p = 1;
        int unknown = 0;
        Dim last = Dim.Unknown;
        foreach (var d in dims)
        {
            if (d.Value is { } v)
            {
                if (v == 0) return Dim.Of(0);
                p *= v;
            }
            else
            {
                unknown++;
                last = d;
            }
        }
        return unknown == 0 ? Dim.Of(p) : unknown == 1 && p == 1 ? last : Dim.Unknown;
    }

    /// <summary>
    /// Multidirectional (numpy) broadcasting of several shapes. Equal dims (also equal symbols)
    /// stay; 1 gives way to the other; a known size beats a symbol (the model promises they
    /// agree); two different known sizes are a mismatch. Null (unknown rank) makes the result null.
    /// </summary>
    public static Dim[]? Broadcast(NodeContext ctx, params Dim[]?[] shapes)
    {
        if (shapes.Any(s => s is null)) return null;
        int rank = shapes.Max(s => s!.Length);
        var result = new Dim[rank];
        for (int i = 0; i < rank; i++)
        {
            Dim acc = Dim.Of(1);
            foreach (var s in shapes)
            {
                int j = i - (rank - s!.Length);
                if (j < 0) continue;
                acc = Merge(acc, s[j], out bool ok);
                if (!ok)
                {
                    throw ctx.Mismatch($"input shapes {string.Join(" and ", shapes.Select(Show))} cannot be broadcast together (dimension {i} of the result: {acc} vs {s[j]})");
                }
            }
            result[i] = acc;
        }
        return result;
    }

    private static Dim Merge(Dim a, Dim b, out bool ok)
    {
        ok = true;
        if (a.Value == 1) return b;
        if (b.Value == 1) return a;
        if (a.Value is { } x && b.Value is { } y)
        {
            ok = x == y;
            return a;
        }
        if (a.IsKnown) return a;
        if (b.IsKnown) return b;
        if (a.Param is not null && a.Param == b.Param) return a;
        return Dim.Unknown;
    }

    /// <summary>True when two dims are known and differ.</summary>
    public static bool Conflict(Dim a, Dim b) => a.Value is { } x && b.Value is { } y && x != y;

    /// <summary>The more informative of two dims that do not conflict.</summary>
    public static Dim Better(Dim inferred, Dim declared) =>
        inferred.IsKnown ? inferred : declared.IsKnown ? declared : inferred.Param is not null ? inferred : declared;

    public static Dim Map(Dim d, Func<long, long> f) => d.Value is { } v ? Dim.Of(f(v)) : Dim.Unknown;

    /// <summary>Sum of dims; unknown if any is unknown.</summary>
    public static Dim Sum(IEnumerable<Dim> dims)
    {
        long total = 0;
        foreach (var d in dims)
        {
            if (d.Value is not { } v) return Dim.Unknown;
            total += v;
        }
        return Dim.Of(total);
    }
}
