using System.Runtime.CompilerServices;

namespace AnycastDns.Server.RateLimiting;

/// <summary>
/// Many small locks in one int array, a cache line apart: each guards one set of a fixed table, so receive threads
/// contend only when they touch the same set, and taking one allocates nothing.
/// </summary>
internal readonly struct SpinGates
{
    /// <summary>Sixteen ints: a 64-octet cache line per lock, so two locks never share one.</summary>
    private const int Stride = 16;

    private readonly int[] _locks;
    private readonly int _mask;

    public SpinGates(int sets)
    {
        int count = (int)Math.Min(4096u, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, sets)));
        _locks = new int[count * Stride];
        _mask = count - 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref int Enter(int set)
    {
        ref int gate = ref _locks[(set & _mask) * Stride];
        if (Interlocked.CompareExchange(ref gate, 1, 0) != 0)
        {
            Contended(ref gate);
        }
        return ref gate;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Exit(ref int gate) => Volatile.Write(ref gate, 0);

    private static void Contended(ref int gate)
    {
        var spin = default(SpinWait);
        while (Interlocked.CompareExchange(ref gate, 1, 0) != 0)
        {
            spin.SpinOnce();
        }
    }
}
