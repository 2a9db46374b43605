namespace ModelGen.Runtime.Kernels;

/// <summary>
/// One bound plan step. Binding resolves every slot to a fixed address (the arena and the
/// weights never move), checks the attributes and pre-computes what it can, so
/// <see cref="Execute"/> does only the arithmetic and allocates nothing.
/// </summary>
internal abstract class Kernel
{
    /// <summary>Runs the step once.</summary>
    public abstract void Execute();
}
