using System.Diagnostics;
using System.Net.Sockets;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Server.RateLimiting;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// The counts of one thread's answers on one transport and address family: by QTYPE and RCODE, truncated, dropped,
/// and how long each took. Only the thread that owns it writes, with plain increments into one array that nobody
/// else writes and that is padded a cache line on each side, so threads never contend; the metric callbacks read it
/// (<see cref="QueryStatistics"/>). <see cref="Count"/> reads QTYPE, RCODE and TC from the responder's decision and
/// allocates nothing.
/// </summary>
internal sealed class QueryStats
{
    /// <summary>Eight longs: one cache line between these counters and whatever the allocator put beside them.</summary>
    private const int Pad = 8;

    internal const int Queries = Pad;
    internal const int Truncated = Queries + DnsLabels.TypeCount * DnsLabels.RcodeCount;
    internal const int Dropped = Truncated + 1;
    internal const int Durations = Dropped + 1;
    internal const int DurationTicks = Durations + AnswerDuration.BucketCount;

    /// <summary>Queries by <see cref="CookieState"/>.</summary>
    internal const int Cookies = DurationTicks + 1;

    /// <summary>Responses rate limiting dropped, slipped, and let through in log-only mode (<see cref="RateLimitAction"/> order).</summary>
    internal const int RateLimited = Cookies + 4;

    /// <summary>Queries the responder threw on: not answered, and logged at most once per <see cref="LogThrottle"/> interval.</summary>
    internal const int Failed = RateLimited + 3;
    internal const int Length = Failed + 1 + Pad;

    /// <summary>Null when metrics are off: then <see cref="Count"/> costs one test.</summary>
    private readonly long[]? _slots;
    private readonly QueryLog? _log;
    private int _untilLogged = 1;

    internal QueryStats(Transport transport, AddressFamily family, bool counting, QueryLog? log, Dnstap.DnstapRing? dnstap = null)
    {
        Dnstap = dnstap;
        Transport = transport;
        Family = family;
        _slots = counting ? new long[Length] : null;
        _log = log;
    }

    public Transport Transport { get; }

    public AddressFamily Family { get; }

    /// <summary>This thread's dnstap ring; null when dnstap is off, which is then the only cost on the query path.</summary>
    public Dnstap.DnstapRing? Dnstap { get; }

    /// <summary>The timestamp to hand to <see cref="Count"/>; 0 when nothing is measured.</summary>
    public long Start() => _slots is null && Dnstap is null ? 0 : Stopwatch.GetTimestamp();

    /// <summary>
    /// Counts one message handled, from what the responder decided: <paramref name="decision"/> is of
    /// <see cref="ResponseClass.Dropped"/> when the message was not a query (a response, or shorter than a header),
    /// <paramref name="action"/> what rate limiting did with the response. <paramref name="client"/>, the sender's sockaddr
    /// (empty when unknown), and <paramref name="response"/> are only read by the query log.
    /// </summary>
    public void Count(in ResponseDecision decision, RateLimitAction action, long start, ReadOnlySpan<byte> client, ReadOnlySpan<byte> response)
    {
        var slots = _slots;
        if (slots is not null)
        {
            if (decision.Class == ResponseClass.Dropped)
            {
                slots[Dropped]++;
            }
            else
            {
                slots[Cookies + (int)decision.Cookie]++;
                if (action != RateLimitAction.Answer)
                {
                    slots[RateLimited + (int)action - 1]++;
                }
                if (action != RateLimitAction.Drop)
                {
                    int type = decision.QNameLength == 0 ? DnsLabels.OtherType : DnsLabels.TypeSlot(decision.QType);
                    slots[Queries + type * DnsLabels.RcodeCount + DnsLabels.RcodeSlot(decision.Rcode)]++;
                    if (decision.Truncated)
                    {
                        slots[Truncated]++;
                    }
                    long ticks = Stopwatch.GetTimestamp() - start;
                    slots[Durations + AnswerDuration.Bucket(ticks)]++;
                    slots[DurationTicks] += ticks;
                }
            }
        }
        if (_log is not null && decision.Length > 0 && action != RateLimitAction.Drop && --_untilLogged <= 0)
        {
            _untilLogged = _log.OneIn;
            _log.Write(Transport, client, response[..decision.Length], decision.Rcode);
        }
    }

    /// <summary>Counts a query that could not be answered because answering it threw (a bug, never the client's doing).</summary>
    public void CountFailure()
    {
        if (_slots is { } slots)
        {
            slots[Failed]++;
        }
    }

    /// <summary>A counter as last written; called from the metric callbacks, on another thread.</summary>
    internal long Read(int slot) => _slots is null ? 0 : Volatile.Read(ref _slots[slot]);
}
