using System.Net.Sockets;
using AnycastDns.Authority;
using Microsoft.Extensions.Logging;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// Every <see cref="QueryStats"/> of the server: one per UDP receive thread, and one per thread that has answered TCP
/// on an address. Hands them out, keeps them (a thread's counts outlive the thread, so counters never go down) and
/// adds them up for the metric callbacks, which run at scrape or export time, off the query path.
/// </summary>
internal sealed class QueryStatistics
{
    private readonly Lock _gate = new();
    private readonly List<QueryStats> _all = [];
    private readonly QueryLog? _log;

    public QueryStatistics(TelemetryOptions options, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggers);
        Counting = options.Metrics;
        _log = options.QueryLogOneIn > 0 ? new QueryLog(options.QueryLogOneIn, loggers.CreateLogger(QueryLog.Category)) : null;
    }

    /// <summary>False with <c>Metrics:Enabled=false</c>: the stats handed out count nothing.</summary>
    public bool Counting { get; }

    /// <summary>
    /// Where the threads handed stats from now on copy their queries and responses for dnstap; null (the default)
    /// when dnstap is off. Set before the listeners start.
    /// </summary>
    public Dnstap.DnstapWriter? Dnstap { get; set; }

    /// <summary>A new stats object for the calling thread alone (a UDP receive thread), answering on <paramref name="local"/>.</summary>
    public QueryStats ForThread(Transport transport, AddressFamily family, System.Net.IPEndPoint? local = null)
    {
        var stats = new QueryStats(transport, family, Counting, _log, Dnstap?.CreateRing(transport, family, local));
        lock (_gate)
        {
            _all.Add(stats);
        }
        return stats;
    }

    /// <summary>Stats per thread, for work that moves between pool threads (TCP connections): each thread gets its own.</summary>
    public ThreadLocal<QueryStats> PerThread(Transport transport, AddressFamily family, System.Net.IPEndPoint? local = null) => new(() => ForThread(transport, family, local));

    /// <summary>The counters of every thread added up, per transport and address family.</summary>
    public IReadOnlyDictionary<(Transport Transport, AddressFamily Family), long[]> Sum()
    {
        QueryStats[] all;
        lock (_gate)
        {
            all = [.. _all];
        }
        var sums = new Dictionary<(Transport, AddressFamily), long[]>();
        foreach (var stats in all)
        {
            if (!sums.TryGetValue((stats.Transport, stats.Family), out var sum))
            {
                sums[(stats.Transport, stats.Family)] = sum = new long[QueryStats.Length];
            }
            for (int i = 0; i < sum.Length; i++)
            {
                sum[i] += stats.Read(i);
            }
        }
        return sums;
    }
}
