using System.Diagnostics;

namespace AnycastDns.TestSupport.Lab;

/// <summary>Waits for a condition by asking again and again, bounded both in time and in the number of asks.</summary>
public static class BoundedPoll
{
    /// <summary>
    /// Asks <paramref name="condition"/> every <paramref name="interval"/> until it is true, for at most
    /// <paramref name="timeout"/>; returns how long that took, or null when it never became true.
    /// </summary>
    public static async Task<TimeSpan?> UntilAsync(Func<CancellationToken, Task<bool>> condition, TimeSpan timeout, TimeSpan interval, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(condition);
        // The count bound holds even when each ask is quicker than the clock can tell apart.
        long maxAsks = Math.Max(1, (long)(timeout / interval) + 1);
        var clock = Stopwatch.StartNew();
        for (long ask = 0; ask < maxAsks; ask++)
        {
            if (await condition(cancellationToken).ConfigureAwait(false))
            {
                return clock.Elapsed;
            }
            if (clock.Elapsed >= timeout)
            {
                break;
            }
            await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
        }
        return null;
    }
}
