namespace AnycastDns.Server.Telemetry;

/// <summary>
/// At most one log line per interval for an event that input can cause over and over (a query the responder failed
/// on): the first occurrence is written at once, those within the next interval are only counted, and the next line
/// written says how many were left out. So no one can write the log by sending packets, and nothing is lost from sight:
/// the count is in the line, and a metric counts every occurrence. Thread-safe and allocation-free.
/// </summary>
internal sealed class LogThrottle
{
    /// <summary>The interval of the query path's failure lines.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    private readonly long _intervalMs;
    private readonly Func<long> _clock;

    // Environment.TickCount64 at which the next line may be written; 0 at first, so the first occurrence is written.
    private long _nextLineAt;
    private long _suppressed;

    public LogThrottle(TimeSpan interval)
        : this(interval, static () => Environment.TickCount64)
    {
    }

    /// <summary>With a clock in milliseconds of one's own (tests).</summary>
    internal LogThrottle(TimeSpan interval, Func<long> clock)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        _intervalMs = (long)interval.TotalMilliseconds;
        _clock = clock;
    }

    /// <summary>
    /// True when this occurrence is to be written, with the number of occurrences left out since the last line written
    /// in <paramref name="suppressed"/>; false when it is only counted.
    /// </summary>
    public bool ShouldLog(out long suppressed)
    {
        long now = _clock();
        long next = Volatile.Read(ref _nextLineAt);
        // Of threads that find the interval over at once, the one that moves the mark writes; the others count.
        if (now < next || Interlocked.CompareExchange(ref _nextLineAt, now + _intervalMs, next) != next)
        {
            Interlocked.Increment(ref _suppressed);
            suppressed = 0;
            return false;
        }
        suppressed = Interlocked.Exchange(ref _suppressed, 0);
        return true;
    }
}
