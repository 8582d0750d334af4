namespace AnycastDns.TestSupport;

/// <summary>
/// How many bytes a hot-path call allocates, measured the one way every zero-allocation test here does it: warmed up
/// first (static constructors and first-call JIT work are one-off costs), then counted on this thread over two
/// batches and the smaller kept. The runtime's tiering (a method recompiled, optimised, during this thread's calls)
/// now and then allocates once inside a batch; an allocation per call shows in both batches.
/// </summary>
public static class Allocations
{
    private const int WarmUpCalls = 100;

    /// <summary>Bytes allocated on this thread by <paramref name="calls"/> calls of <paramref name="call"/> (given the call's index), the smaller of two batches.</summary>
    public static long PerBatch(int calls, Action<int> call)
    {
        ArgumentNullException.ThrowIfNull(call);
        for (int i = 0; i < WarmUpCalls; i++)
        {
            call(i);
        }
        long allocated = long.MaxValue;
        for (int batch = 0; batch < 2; batch++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < calls; i++)
            {
                call(i);
            }
            allocated = Math.Min(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return allocated;
    }
}
