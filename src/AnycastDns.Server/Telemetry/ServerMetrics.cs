using System.Diagnostics.Metrics;
using System.Net.Sockets;
using AnycastDns.Authority;
using AnycastDns.Server.Anycast;
using AnycastDns.Server.Listeners;
using Microsoft.Extensions.Hosting;

namespace AnycastDns.Server.Telemetry;

/// <summary>
/// The server's metrics, all observable instruments on the <c>AnycastDns</c> meter: their callbacks read the per-thread
/// query counters, the TCP tallies, the zone catalog and the anycast lifecycle when the Prometheus scrape or the OTLP
/// export asks, so the query path never calls into the metrics SDK.
/// <para>
/// Names: OpenTelemetry's DNS semantic conventions define only the client's <c>dns.lookup.duration</c> and the
/// attribute <c>dns.question.name</c>, so these instruments live in the <c>anycastdns.</c> namespace (semantic
/// conventions, "Metrics naming": names outside the conventions take the application's own namespace). Attributes use
/// the conventions where they exist: <c>network.transport</c> (udp, tcp) and <c>network.type</c> (ipv4, ipv6) from the
/// network registry; QTYPE and RCODE use ECS's <c>dns.question.type</c> and <c>dns.response_code</c>, the field names
/// the semantic conventions took <c>dns.question.name</c> from. The PoP id is the resource attribute <c>pop</c>
/// (<see cref="TelemetryHosting"/>), on every series.
/// </para>
/// </summary>
internal sealed class ServerMetrics : IHostedService, IDisposable
{
    /// <summary>The meter of the answer-duration buckets, exported over OTLP only.</summary>
    public const string DurationMeterName = "AnycastDns.AnswerDuration";

    private readonly Meter _meter;
    private readonly Meter _durationMeter;
    private readonly Meter _zoneMeter;

    public ServerMetrics(QueryStatistics statistics, DnsServer server, AnycastLifecycle lifecycle, ZoneMetrics zones)
    {
        ArgumentNullException.ThrowIfNull(statistics);
        ArgumentNullException.ThrowIfNull(server);
        ArgumentNullException.ThrowIfNull(lifecycle);
        ArgumentNullException.ThrowIfNull(zones);
        _meter = new Meter(ServerActivities.Name, ServerActivities.Version);
        // OTLP only: /metrics writes the per-zone series itself, one per zone at any scale (ZoneMetrics says why).
        _zoneMeter = new Meter(ZoneMetrics.MeterName, _meter.Version);
        zones.Register(_zoneMeter);

        _meter.CreateObservableCounter("anycastdns.queries", () => Queries(statistics), "{query}",
            "Queries answered, by transport, address family, QTYPE and RCODE");
        _meter.CreateObservableCounter("anycastdns.queries.truncated", () => PerTransport(statistics, QueryStats.Truncated), "{query}",
            "Answers sent with TC set because they did not fit the UDP size (RFC 1035 §4.2.1, RFC 6891 §7)");
        _meter.CreateObservableCounter("anycastdns.queries.dropped", () => PerTransport(statistics, QueryStats.Dropped), "{message}",
            "Messages dropped unanswered: shorter than a DNS header, or a response (QR set)");
        _meter.CreateObservableCounter("anycastdns.queries.failed", () => PerTransport(statistics, QueryStats.Failed), "{query}",
            "Queries not answered because answering them failed (a bug: logged at most once per 10 s, with the count left out)");

        _meter.CreateObservableCounter("anycastdns.rrl.responses", () => RateLimited(statistics), "{response}",
            "UDP responses response rate limiting held back, by action: dropped, slipped (sent as a small truncated answer or BADCOOKIE), log_only (sent: Rrl:LogOnly)");
        _meter.CreateObservableGauge("anycastdns.rrl.limited.prefixes", () => server.RateLimiter?.Prefixes.Active ?? 0, "{prefix}",
            "Client prefixes with a response limited within the rate-limiting window, as of the last second");
        _meter.CreateObservableCounter("anycastdns.cookie.queries", () => Cookies(statistics), "{query}",
            "Queries by DNS cookie (RFC 7873): none, client_only, valid (a server cookie of this fleet's secret), invalid");

        // OTLP only: /metrics writes these as a real Prometheus histogram (PrometheusDurationHistogram), since an "le"
        // label on a counter is not one.
        _durationMeter = new Meter(DurationMeterName, _meter.Version);
        _durationMeter.CreateObservableCounter("anycastdns.query.duration.bucket", () => DurationBuckets(statistics), "{query}",
            "Answers by duration, cumulative buckets with upper bound le in seconds (a Prometheus histogram's _bucket series)");
        _durationMeter.CreateObservableCounter("anycastdns.query.duration.sum", () => DurationSum(statistics), "s",
            "Total time spent answering, from the query in hand to the response ready to send");

        _meter.CreateObservableCounter("anycastdns.tcp.connections.accepted", () => Tcp(server, null), "{connection}",
            "TCP connections accepted (including those closed at once over Tcp:MaxConnections)");
        _meter.CreateObservableCounter("anycastdns.tcp.connections.closed", () => TcpClosed(server), "{connection}",
            "TCP connections closed, by reason");
        _meter.CreateObservableUpDownCounter("anycastdns.tcp.connections.open", () => server.TcpLimits?.Open ?? 0, "{connection}",
            "TCP connections open now, over all addresses");

        _meter.CreateObservableCounter("anycastdns.transfers", () => Transfers(server), "{transfer}",
            "Zone transfer requests, by type (axfr, ixfr) and outcome: completed, refused (Transfers:Allow), over_limit (Transfers:MaxConcurrent), not_authoritative, tsig_error, aborted");
        _meter.CreateObservableCounter("anycastdns.transfers.sent", () => server.Transfers?.Counters.Bytes ?? 0, "By",
            "Octets of zone transfer messages sent, length prefixes included");
        _meter.CreateObservableCounter("anycastdns.notifies", () => Notifies(server), "{notify}",
            "NOTIFYs (one zone serial to one Transfers:Notify target) by outcome: acknowledged, rejected (an error RCODE), failed (Transfers:NotifyAttempts without an answer), superseded (a newer serial came first)");
        _meter.CreateObservableCounter("anycastdns.notifies.sent", () => server.Notifier?.Sent ?? 0, "{message}",
            "NOTIFY messages sent, retries included");
        _meter.CreateObservableUpDownCounter("anycastdns.transfers.running", () => server.Transfers?.Running ?? 0, "{transfer}",
            "Zone transfers sending now");
        _meter.CreateObservableCounter("anycastdns.transfers.ixfr.full", () => server.Transfers?.Counters.IxfrInFull ?? 0, "{transfer}",
            "IXFR requests answered with the whole zone, because the client's serial was not in the history (Transfers:History)");
        _meter.CreateObservableUpDownCounter("anycastdns.transfers.history.versions", () => server.Transfers?.History.Count ?? 0, "{version}",
            "Older zone versions kept for IXFR, over all zones");
        _meter.CreateObservableUpDownCounter("anycastdns.transfers.history.size", () => server.Transfers?.History.Octets ?? 0, "By",
            "Octets the kept IXFR differences take, over all zones");

        _meter.CreateObservableCounter("anycastdns.dnstap.messages", () => Dnstap(server), "{message}",
            "dnstap messages (AUTH_QUERY, AUTH_RESPONSE) by outcome: sent to the collector, or dropped (a receive thread's ring full, or no collector connected)");

        _meter.CreateObservableCounter("anycastdns.secondary.notifies", () => SecondaryNotifies(server), "{notify}",
            "NOTIFYs received for secondary zones, by outcome: accepted (from a primary of the zone, signed when it has a key), refused");

        _meter.CreateObservableGauge("anycastdns.anycast.state", () => States(lifecycle), null,
            "1 for the anycast state the PoP is in, 0 for the others; only announced attracts traffic");
        _meter.CreateObservableCounter("anycastdns.anycast.transitions", () => Entered(lifecycle, e => e.Count), "{transition}",
            "How often each anycast state was entered since start");
        _meter.CreateObservableGauge("anycastdns.anycast.transition.timestamp", () => Entered(lifecycle, e => e.At.ToUnixTimeMilliseconds() / 1000.0), "s",
            "When each anycast state was last entered, Unix time");
        _meter.CreateObservableGauge("anycastdns.anycast.speaker.reachable", () => lifecycle.SpeakerError is null ? 1 : 0, null,
            "1 when the last command to the BGP speaker (BIRD) succeeded, 0 while it cannot be reached");
    }

    private static Measurement<long>[] Dnstap(DnsServer server) => server.Dnstap is not { } dnstap ? [] :
    [
        new(dnstap.Sent, new KeyValuePair<string, object?>("outcome", "sent")),
        new(dnstap.Dropped, new KeyValuePair<string, object?>("outcome", "dropped")),
    ];

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _meter.Dispose();
        _durationMeter.Dispose();
        _zoneMeter.Dispose();
    }

    private static KeyValuePair<string, object?> TransportTag(Transport transport) => new("network.transport", TransportName(transport));

    internal static string TransportName(Transport transport) => transport == Transport.Udp ? "udp" : "tcp";

    private static KeyValuePair<string, object?> FamilyTag(AddressFamily family) => new("network.type", family == AddressFamily.InterNetworkV6 ? "ipv6" : "ipv4");

    private static List<Measurement<long>> Transfers(DnsServer server)
    {
        var measurements = new List<Measurement<long>>();
        if (server.Transfers is { } transfers)
        {
            foreach (bool ixfr in (ReadOnlySpan<bool>)[false, true])
            {
                foreach (var outcome in Enum.GetValues<Transfers.TransferOutcome>())
                {
                    measurements.Add(new Measurement<long>(transfers.Counters.Of(ixfr, outcome),
                        new KeyValuePair<string, object?>("type", Server.Transfers.TransferCounters.TypeLabels[ixfr ? 1 : 0]),
                        new KeyValuePair<string, object?>("outcome", Server.Transfers.TransferCounters.OutcomeLabels[(int)outcome])));
                }
            }
        }
        return measurements;
    }

    private static List<Measurement<long>> Notifies(DnsServer server)
    {
        var measurements = new List<Measurement<long>>();
        if (server.Notifier is { } notifier)
        {
            foreach (var outcome in Enum.GetValues<Transfers.NotifyOutcome>())
            {
                measurements.Add(new Measurement<long>(notifier.Count(outcome), new KeyValuePair<string, object?>("outcome", Server.Transfers.NotifySender.OutcomeLabels[(int)outcome])));
            }
        }
        return measurements;
    }

    private static List<Measurement<long>> Queries(QueryStatistics statistics)
    {
        var measurements = new List<Measurement<long>>();
        foreach (var ((transport, family), sum) in statistics.Sum())
        {
            for (int type = 0; type < DnsLabels.TypeCount; type++)
            {
                for (int rcode = 0; rcode < DnsLabels.RcodeCount; rcode++)
                {
                    // Only what has happened: a series per QTYPE × RCODE ever seen, not 486 zeros per address.
                    long n = sum[QueryStats.Queries + type * DnsLabels.RcodeCount + rcode];
                    if (n > 0)
                    {
                        measurements.Add(new(n, TransportTag(transport), FamilyTag(family),
                            new("dns.question.type", DnsLabels.TypeName(type)), new("dns.response_code", DnsLabels.RcodeName(rcode))));
                    }
                }
            }
        }
        return measurements;
    }

    private static readonly string[] RateLimitActions = ["dropped", "slipped", "log_only"];
    private static readonly string[] CookieStates = ["none", "client_only", "valid", "invalid"];

    private static List<Measurement<long>> RateLimited(QueryStatistics statistics) =>
        [.. ByTransport(statistics).Where(s => s.Key == Transport.Udp)
            .SelectMany(s => RateLimitActions.Select((action, i) => new Measurement<long>(s.Value[QueryStats.RateLimited + i], new KeyValuePair<string, object?>("action", action))))];

    private static List<Measurement<long>> Cookies(QueryStatistics statistics) =>
        [.. ByTransport(statistics).SelectMany(s => CookieStates.Select((state, i) =>
            new Measurement<long>(s.Value[QueryStats.Cookies + i], TransportTag(s.Key), new KeyValuePair<string, object?>("state", state))))];

    private static List<Measurement<long>> PerTransport(QueryStatistics statistics, int slot) =>
        [.. statistics.Sum().Select(s => new Measurement<long>(s.Value[slot], TransportTag(s.Key.Transport), FamilyTag(s.Key.Family)))];

    private static List<Measurement<long>> DurationBuckets(QueryStatistics statistics)
    {
        var measurements = new List<Measurement<long>>();
        foreach (var (transport, sums) in ByTransport(statistics))
        {
            long cumulative = 0;
            for (int bucket = 0; bucket < AnswerDuration.BucketCount; bucket++)
            {
                cumulative += sums[QueryStats.Durations + bucket];
                measurements.Add(new(cumulative, TransportTag(transport), new("le", AnswerDuration.UpperBound(bucket))));
            }
        }
        return measurements;
    }

    private static List<Measurement<double>> DurationSum(QueryStatistics statistics) =>
        [.. ByTransport(statistics).Select(s => new Measurement<double>(AnswerDuration.Seconds(s.Value[QueryStats.DurationTicks]), TransportTag(s.Key)))];

    /// <summary>The counters added up over address families: latency is a property of the transport, not of the family.</summary>
    internal static Dictionary<Transport, long[]> ByTransport(QueryStatistics statistics)
    {
        var byTransport = new Dictionary<Transport, long[]>();
        foreach (var ((transport, _), sum) in statistics.Sum())
        {
            if (!byTransport.TryGetValue(transport, out var total))
            {
                byTransport[transport] = total = new long[sum.Length];
            }
            for (int i = 0; i < sum.Length; i++)
            {
                total[i] += sum[i];
            }
        }
        return byTransport;
    }

    private static List<Measurement<long>> Tcp(DnsServer server, TcpCloseReason? reason)
    {
        var byFamily = new Dictionary<AddressFamily, long>();
        foreach (var front in server.TcpFronts)
        {
            var tally = front.Connections;
            byFamily[tally.Family] = byFamily.GetValueOrDefault(tally.Family) + (reason is { } r ? tally.ClosedFor(r) : tally.Accepted);
        }
        return [.. byFamily.Select(f => reason is { } r
            ? new Measurement<long>(f.Value, FamilyTag(f.Key), new("reason", TcpConnectionTally.Label(r)))
            : new Measurement<long>(f.Value, FamilyTag(f.Key)))];
    }

    private static IEnumerable<Measurement<long>> TcpClosed(DnsServer server) =>
        Enum.GetValues<TcpCloseReason>().SelectMany(reason => Tcp(server, reason)).Where(m => m.Value > 0);


    private static List<Measurement<long>> SecondaryNotifies(DnsServer server) => server.Secondary is not { } secondary ? []
        : [new(secondary.NotifiesAccepted, new KeyValuePair<string, object?>("outcome", "accepted")),
           new(secondary.NotifiesRefused, new KeyValuePair<string, object?>("outcome", "refused"))];

    private static KeyValuePair<string, object?> StateTag(ServingState state) => new("state", state.ToString().ToLowerInvariant());

    private static List<Measurement<int>> States(AnycastLifecycle lifecycle)
    {
        var current = lifecycle.Current.State;
        return [.. Enum.GetValues<ServingState>().Select(s => new Measurement<int>(s == current ? 1 : 0, StateTag(s)))];
    }

    private static List<Measurement<T>> Entered<T>(AnycastLifecycle lifecycle, Func<(long Count, DateTimeOffset At), T> value)
        where T : struct =>
        [.. Enum.GetValues<ServingState>().Select(s => (State: s, Entered: lifecycle.Entered(s))).Where(e => e.Entered.Count > 0)
            .Select(e => new Measurement<T>(value(e.Entered), StateTag(e.State)))];
}
