using System.Net;
using System.Net.Sockets;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Server;
using AnycastDns.Server.Listeners;
using AnycastDns.Server.Telemetry;
using AnycastDns.Zones;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnycastDns.Server.Tests.Listeners;

/// <summary>
/// The receive → answer → send path of <see cref="UdpFront"/> allocates nothing: real datagrams over loopback,
/// counted with the process-wide allocation counter, which sees the receive thread as well as this one.
/// </summary>
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
    private const int Measured = 20_000;

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
        using var front = UdpFront.Bind(new ListenAddress(new IPEndPoint(IPAddress.Loopback, 0)), loops: 1, receiveBufferBytes: 0,
            freeBind: false, responder, statistics, NullLogger.Instance);
        front.Start();
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) { ReceiveTimeout = 5000 };
        client.Connect(front.Address.EndPoint);

        // A mix of cases: an answer, additional addresses, a wildcard, NXDOMAIN, and EDNS with NSID.
        var edns = new EdnsRecord();
        edns.Options.Add(new EdnsOption(EdnsOptionCode.Nsid, []));
        byte[][] queries =
        [
            DnsMessage.CreateQuery(DnsName.Parse("www.example.test."), RecordType.A, id: 1).Encode(),
            DnsMessage.CreateQuery(DnsName.Parse("mail.example.test."), RecordType.MX, id: 2).Encode(),
            DnsMessage.CreateQuery(DnsName.Parse("a.wild.example.test."), RecordType.TXT, id: 3).Encode(),
            DnsMessage.CreateQuery(DnsName.Parse("missing.example.test."), RecordType.A, id: 4, edns: edns).Encode(),
        ];
        var reply = new byte[4096];

        RoundTrips(client, queries, reply, Warmup);
        long before = GC.GetTotalAllocatedBytes(precise: true);
        RoundTrips(client, queries, reply, Measured);
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(Measured, front.Queries - Warmup);
        var counted = statistics.Sum()[(Transport.Udp, AddressFamily.InterNetwork)];
        Assert.Equal(Warmup + Measured, counted.AsSpan(QueryStats.Queries, QueryStats.Truncated - QueryStats.Queries).ToArray().Sum());
        // Allowance for what the runtime and the test host allocate on other threads meanwhile (timers, the runner's
        // heartbeat): under one byte per query. A per-query allocation costs at least 24 bytes, i.e. 480,000 here.
        Assert.True(allocated < Measured, $"{allocated} bytes allocated over {Measured} answered queries");
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
