using System.Net.Sockets;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Server.RateLimiting;
using AnycastDns.Server.Telemetry;
using AnycastDns.TestSupport;
using AnycastDns.Zones;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnycastDns.Server.Tests.Telemetry;

/// <summary>
/// The per-thread query counters: QTYPE, RCODE (extended too), TC and drops from what the real responder decided
/// for tests/zones, and counting them allocates nothing (the query path's rule, as ZeroAllocationTests proves
/// for answering itself).
/// </summary>
public sealed class QueryStatsTests
{
    private const int Calls = 1000;

    private static readonly Responder Responder = new(ZoneCatalog.Load(RepositoryPaths.TestZones).ZoneSet, new ResponderOptions { PopId = "test-pop" });

    /// <summary>A response to <paramref name="name"/>/<paramref name="type"/>, as the server would send it.</summary>
    private static Answered Answer(string name, RecordType type, RecordClass cls = RecordClass.IN, EdnsRecord? edns = null, Transport transport = Transport.Udp)
    {
        var response = new byte[Responder.MaxResponseSize];
        int length = Responder.Respond(DnsMessage.CreateQuery(DnsName.Parse(name), type, cls, 0x4242, edns).Encode(), response, transport, [127, 0, 0, 1], out var decision);
        return new Answered(response[..length], decision);
    }

    /// <summary>A response and what the responder decided about it.</summary>
    private sealed record Answered(byte[] Response, ResponseDecision Decision)
    {
        /// <summary>A message that was not a query: nothing is sent.</summary>
        public static readonly Answered None = new([], default);
    }

    private static long Queries(long[] sum, RecordType type, string rcode)
    {
        int rcodeSlot = Enumerable.Range(0, DnsLabels.RcodeCount).Single(s => DnsLabels.RcodeName(s) == rcode);
        return sum[QueryStats.Queries + DnsLabels.TypeSlot((ushort)type) * DnsLabels.RcodeCount + rcodeSlot];
    }

    [Fact]
    public void Counts_qtype_rcode_truncation_and_drops_from_the_responders_decision()
    {
        var statistics = new QueryStatistics(new TelemetryOptions(), NullLoggerFactory.Instance);
        var stats = statistics.ForThread(Transport.Udp, AddressFamily.InterNetwork);
        void Count(Answered answer, int times)
        {
            for (int i = 0; i < times; i++)
            {
                stats.Count(answer.Decision, RateLimitAction.Answer, stats.Start(), client: [], answer.Response);
            }
        }

        Count(Answer("www.example.test.", RecordType.A), 7);
        Count(Answer("nothere.example.test.", RecordType.A), 2);
        Count(Answer("example.test.", RecordType.MX), 1);
        // 100 A records do not fit 512 octets: TC, no records (RFC 1035 §4.2.1).
        Count(Answer("huge.example.test.", RecordType.A), 1);
        // EDNS version 1: BADVERS, 16, only expressible with the OPT record's extended RCODE (RFC 6891 §6.1.3).
        Count(Answer("www.example.test.", RecordType.AAAA, edns: new EdnsRecord { Version = 1 }), 3);
        Count(Answer("www.example.org.", RecordType.TXT, edns: new EdnsRecord()), 1);
        Count(Answer("id.server.", RecordType.TXT, RecordClass.CH), 1);
        Count(Answer("www.example.test.", (RecordType)65000), 1);
        Count(Answered.None, 4);

        var sum = statistics.Sum()[(Transport.Udp, AddressFamily.InterNetwork)];
        // The truncated answer is an A query answered NOERROR as well.
        Assert.Equal(7 + 1, Queries(sum, RecordType.A, "NOERROR"));
        Assert.Equal(2, Queries(sum, RecordType.A, "NXDOMAIN"));
        Assert.Equal(1, Queries(sum, RecordType.MX, "NOERROR"));
        Assert.Equal(1, sum[QueryStats.Truncated]);
        Assert.Equal(3, Queries(sum, RecordType.AAAA, "BADVERS"));
        Assert.Equal(1, Queries(sum, RecordType.TXT, "REFUSED"));
        Assert.Equal(1, Queries(sum, RecordType.TXT, "NOERROR"));
        Assert.Equal(1, sum[QueryStats.Queries + DnsLabels.OtherType * DnsLabels.RcodeCount]);
        Assert.Equal("other", DnsLabels.TypeName(DnsLabels.OtherType));
        Assert.Equal(4, sum[QueryStats.Dropped]);
        // Every answered query is in exactly one duration bucket; drops are not answers.
        long answered = 7 + 2 + 1 + 1 + 3 + 1 + 1 + 1;
        Assert.Equal(answered, Enumerable.Range(0, AnswerDuration.BucketCount).Sum(b => sum[QueryStats.Durations + b]));
        Assert.Equal(answered, Enumerable.Range(QueryStats.Queries, QueryStats.Truncated - QueryStats.Queries).Sum(i => sum[i]));
        Assert.True(sum[QueryStats.DurationTicks] > 0);
    }

    [Fact]
    public void Counting_a_query_allocates_nothing()
    {
        var statistics = new QueryStatistics(new TelemetryOptions(), NullLoggerFactory.Instance);
        var stats = statistics.ForThread(Transport.Tcp, AddressFamily.InterNetworkV6);
        Answered[] responses =
        [
            Answer("www.example.test.", RecordType.A, transport: Transport.Tcp),
            Answer("nothere.example.test.", RecordType.A, transport: Transport.Tcp),
            Answer("huge.example.test.", RecordType.A),
            Answer("www.example.test.", RecordType.AAAA, edns: new EdnsRecord { Version = 1 }),
            Answered.None,
        ];
        var address = new System.Net.IPEndPoint(System.Net.IPAddress.IPv6Loopback, 5353).Serialize();
        var client = address.Buffer[..address.Size].ToArray();
        foreach (var response in responses)
        {
            long allocated = Allocations.PerBatch(Calls, _ => stats.Count(response.Decision, RateLimitAction.Answer, stats.Start(), client, response.Response));
            Assert.True(allocated == 0, $"{allocated} bytes allocated over {Calls} counts of a {response.Response.Length}-octet response");
        }
        var sum = statistics.Sum()[(Transport.Tcp, AddressFamily.InterNetworkV6)];
        Assert.Equal(4 * (100 + 2 * Calls), Enumerable.Range(QueryStats.Queries, QueryStats.Truncated - QueryStats.Queries).Sum(i => sum[i]));
        Assert.Equal(100 + 2 * Calls, sum[QueryStats.Dropped]);
    }

    [Fact]
    public void With_metrics_off_nothing_is_counted_or_timed()
    {
        var statistics = new QueryStatistics(new TelemetryOptions { Metrics = false }, NullLoggerFactory.Instance);
        var stats = statistics.ForThread(Transport.Udp, AddressFamily.InterNetwork);
        Assert.Equal(0, stats.Start());
        var answer = Answer("www.example.test.", RecordType.A);
        stats.Count(answer.Decision, RateLimitAction.Answer, stats.Start(), client: [], answer.Response);
        Assert.All(statistics.Sum()[(Transport.Udp, AddressFamily.InterNetwork)], n => Assert.Equal(0, n));
    }
}
