namespace ModelGen.Runtime.Kernels;

/// <summary>
/// The calling thread's forced choice of a <typeparamref name="TIsa"/> instruction path, which tests set and kernels read
/// when they are bound: what <see cref="Quantized.Int8IsaSelector"/> and <see cref="FloatIsaSelector"/> share. Each closed
/// type keeps its own thread-static value.
/// </summary>
internal static class IsaOverride<TIsa> where TIsa : struct, Enum
{
    [ThreadStatic]
    private static TIsa? t_value;

    /// <summary>The forced path on this thread, or null for the selector's best.</summary>
    public static TIsa? Value => t_value;

    /// <summary>Forces <paramref name="value"/> (null clears it).</summary>
    /// <exception cref="PlatformNotSupportedException"><paramref name="isSupported"/> says this CPU cannot run it.</exception>
    public static void Set(TIsa? value, Func<TIsa, bool> isSupported, string what)
    {
        if (value is { } isa && !isSupported(isa)) throw new PlatformNotSupportedException($"This CPU cannot run the {isa} {what}.");
        t_value = value;
    }
}
