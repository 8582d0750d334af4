using System.Net;
using System.Net.Sockets;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Server;
using AnycastDns.Server.Listeners;
using AnycastDns.Server.RateLimiting;
using AnycastDns.Server.Telemetry;
using AnycastDns.Server.Transfers;
using AnycastDns.Protocol.Tsig;
using AnycastDns.Zones;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnycastDns.Server.Tests.Listeners;

/// <summary>
/// The receive → answer → send path of <see cref="UdpFront"/> allocates nothing: real datagrams over loopback,
/// counted with the process-wide allocation counter, which sees the receive thread as well as this one.
/// </summary>
[Collection(AllocationCounting.Name)]
public sealed class UdpFrontAllocationTests
{
    private const string ZoneText = """
        $ORIGIN example.test.
        $TTL 300
        @    SOA ns1 hostmaster 1 7200 3600 1209600 300
        @    NS  ns1
        ns1  A   192.0.2.1
        www  A   192.0.2.80
        mail MX  10 ns1
        *.wild TXT "wildcard"
        """;

    private const int Warmup = 3_000;

    /// <summary>Queries per measured window, and windows: the quietest window decides (see below).</summary>
    private const int Window = 5_000;
    private const int Windows = 6;
    private const int Measured = Window * Windows;

    [Fact]
    public void Answering_udp_queries_allocates_nothing_per_query()
    {
        var origin = DnsName.Parse("example.test.");
        var parsed = ZoneFileReader.ReadText(ZoneText, "example.test.zone", origin);
        Assert.False(parsed.HasErrors, string.Join("\n", parsed.Diagnostics));
        var zone = ZoneBuilder.Build(origin, parsed.Records, [], "example.test.zone");
        Assert.NotNull(zone);
        var responder = new Responder(new ZoneSet([zone]), new ResponderOptions { PopId = "pop-test" });

        // Metrics on, as served by default: the per-thread query counting is part of the path measured.
        var statistics = new QueryStatistics(new TelemetryOptions(), NullLoggerFactory.Instance);
        // Rate limiting on, loopback not exempt, at a rate these queries never reach: every response goes through the
        // bucket table (and the limited path below shows the slip too allocates nothing).
        using var limiter = new ResponseRateLimiter(new RateLimitOptions { ResponsesPerSecond = 1_000_000, Exempt = [], TableSize = 4096 }, NullLogger.Instance);
        // Zone transfers configured, as served: every query passes the TSIG test (TsigRecord.IsCarried) on its way.
        var transfers = new ZoneTransfers(responder, TransferAllowList.Parse(["192.0.2.0/24"]), TsigKeyring.Empty, 10, 1232, NullLogger.Instance);
        using var front = UdpFront.Bind(new ListenAddress(new IPEndPoint(IPAddress.Loopback, 0)), loops: 1, receiveBufferBytes: 0,
            freeBind: false, responder, limiter, statistics, NullLogger.Instance, transfers);
        front.Start();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
        client.Connect(front.Address.EndPoint);

        // A mix of cases: an answer, additional addresses, a wildcard, NXDOMAIN, EDNS with NSID, and DNS cookies (a
        // client cookie alone gets a server cookie made; one that does not verify is checked and replaced).
        var edns = new EdnsRecord();
        edns.Options.Add(new EdnsOption(EdnsOptionCode.Nsid, []));
        var clientCookie = new EdnsRecord();
        clientCookie.Options.Add(new EdnsOption(EdnsOptionCode.Cookie, [1, 2, 3, 4, 5, 6, 7, 8]));
        var invalidCookie = new EdnsRecord();
        invalidCookie.Options.Add(new EdnsOption(EdnsOptionCode.Cookie, [1, 2, 3, 4, 5, 6, 7, 8, 1, 0, 0, 0, .. new byte[12]]));
        var expire = new EdnsRecord();
        expire.Options.Add(new EdnsOption(EdnsOptionCode.Expire, []));
        byte[][] queries =
        [
            DnsMessage.CreateQuery(DnsName.Parse("example.test."), RecordType.SOA, id: 7, edns: expire).Encode(),
            DnsMessage.CreateQuery(DnsName.Parse("www.example.test."), RecordType.A, id: 1).Encode(),
            DnsMessage.CreateQuery(DnsName.Parse("mail.example.test."), RecordType.MX, id: 2).Encode(),
            DnsMessage.CreateQuery(DnsName.Parse("a.wild.example.test."), RecordType.TXT, id: 3).Encode(),
            DnsMessage.CreateQuery(DnsName.Parse("missing.example.test."), RecordType.A, id: 4, edns: edns).Encode(),
            DnsMessage.CreateQuery(DnsName.Parse("www.example.test."), RecordType.A, id: 5, edns: clientCookie).Encode(),
            DnsMessage.CreateQuery(DnsName.Parse("www.example.test."), RecordType.A, id: 6, edns: invalidCookie).Encode(),
        ];
        var reply = new byte[4096];

        RoundTrips(client, queries, reply, Warmup);
        // The counter is process-wide: the runtime and the test host allocate on other threads now and then (timers,
        // tiering, the runner). Those come in bursts; an allocation per query shows in every window, at least 24 bytes
        // a query. So the quietest window must be under one byte per query.
        long quietest = long.MaxValue;
        for (int w = 0; w < Windows; w++)
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            RoundTrips(client, queries, reply, Window);
            quietest = Math.Min(quietest, GC.GetTotalAllocatedBytes(precise: true) - before);
        }

        Assert.Equal(Measured, front.Queries - Warmup);
        var counted = statistics.Sum()[(Transport.Udp, AddressFamily.InterNetwork)];
        Assert.Equal(Warmup + Measured, counted.AsSpan(QueryStats.Queries, QueryStats.Truncated - QueryStats.Queries).ToArray().Sum());
        Assert.True(quietest < Window, $"{quietest} bytes allocated over {Window} answered queries in the quietest of {Windows} windows");
    }

    private static void RoundTrips(Socket client, byte[][] queries, byte[] reply, int count)
    {
        for (int i = 0; i < count; i++)
        {
            var query = queries[i % queries.Length];
            client.Send(query);
            int length = client.Receive(reply);
            // The reply is to this query: same ID, QR set.
            Assert.True(length >= 12 && reply[0] == query[0] && reply[1] == query[1] && (reply[2] & 0x80) != 0, "not the reply to the query sent");
        }
    }
}

/// <summary>
/// Tests that count the process's allocated bytes run alone: any test class running beside them would allocate into
/// the same counter.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCounting
{
    public const string Name = "allocation counting (runs alone)";
}
