using System.Net;
using System.Net.Sockets;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Server.Dnstap;
using AnycastDns.Server.RateLimiting;
using AnycastDns.Server.Telemetry;
using AnycastDns.TestSupport;
using AnycastDns.Zones;
using Microsoft.Extensions.Logging.Abstractions;

namespace AnycastDns.Server.Tests.Dnstap;

/// <summary>
/// The ring a receive thread copies its exchanges into: what goes in comes out whole and in order across the wrap, a
/// full ring drops and counts instead of waiting, and the receive thread's side (counting plus copying) allocates
/// nothing, with real responses of the real responder.
/// </summary>
public sealed class DnstapRingTests
{
    private const int Calls = 1000;

    private static readonly Responder Responder = new(ZoneCatalog.Load(RepositoryPaths.TestZones).ZoneSet, new ResponderOptions { PopId = "test-pop" });

    private static readonly byte[] Client = Sockaddr(new IPEndPoint(IPAddress.Parse("192.0.2.7"), 40000));

    private static byte[] Sockaddr(IPEndPoint endPoint)
    {
        var address = endPoint.Serialize();
        return address.Buffer[..address.Size].ToArray();
    }

    private static (byte[] Query, byte[] Response, ResponseDecision Decision) Exchange(string name, RecordType type)
    {
        var query = DnsMessage.CreateQuery(DnsName.Parse(name), type, RecordClass.IN, 0x4242).Encode();
        var response = new byte[Responder.MaxResponseSize];
        int length = Responder.Respond(query, response, Transport.Udp, [192, 0, 2, 7], out var decision);
        return (query, response[..length], decision);
    }

    private static DnstapWriter Writer(DnstapOptions? options = null) =>
        new(options ?? new DnstapOptions { Socket = "/nonexistent/dnstap.sock" }, "test-pop", "test", NullLogger.Instance);

    [Fact]
    public void Counting_and_copying_an_exchange_on_the_receive_thread_allocates_nothing()
    {
        using var writer = Writer();
        var statistics = new QueryStatistics(new TelemetryOptions(), NullLoggerFactory.Instance) { Dnstap = writer };
        var stats = statistics.ForThread(Transport.Udp, AddressFamily.InterNetwork, new IPEndPoint(IPAddress.Loopback, 53));
        var ring = Assert.IsType<DnstapRing>(stats.Dnstap);
        var exchanges = new[] { Exchange("www.example.test.", RecordType.A), Exchange("nothere.example.test.", RecordType.AAAA), Exchange("outside.invalid.", RecordType.A) };
        long read = 0;
        long allocated = Allocations.PerBatch(Calls, i =>
        {
            var (query, response, decision) = exchanges[i % exchanges.Length];
            long start = stats.Start();
            stats.Count(decision, RateLimitAction.Answer, start, Client, response);
            stats.Dnstap?.Add(query, response, Client, decision, RateLimitAction.Answer, start);
            // The writer's side, here on the same thread so that the ring never fills: it allocates nothing either.
            while (ring.TryRead(out _))
            {
                ring.Release();
                read++;
            }
        });
        Assert.True(allocated == 0, $"{allocated} bytes allocated over {Calls} exchanges counted and copied");
        Assert.Equal(100 + 2 * Calls, read);
        Assert.Equal(0, writer.Dropped);
    }

    [Fact]
    public void Records_come_out_whole_and_in_order_across_the_wrap()
    {
        using var writer = Writer(new DnstapOptions { Socket = "/nonexistent", RingKilobytes = 64 });
        var ring = writer.CreateRing(Transport.Tcp, AddressFamily.InterNetwork, null);
        var (_, _, decision) = Exchange("www.example.test.", RecordType.A);
        var random = new Random(18);
        var pending = new Queue<(byte[] Query, byte[] Response)>();
        for (int i = 0; i < 20_000; i++)
        {
            // Sizes from a bare header to 4 KiB, so records end at every offset and wrap often in 64 KiB.
            var query = new byte[random.Next(12, 600)];
            var response = new byte[random.Next(12, 4096)];
            random.NextBytes(query);
            random.NextBytes(response);
            ring.Add(query, response, Client, decision, RateLimitAction.Answer, 0);
            pending.Enqueue((query, response));
            // Drained at random, and before 8 records (under 40 KiB with the wrap's waste) could fill the 64 KiB.
            if (random.Next(4) == 0 || pending.Count == 8)
            {
                while (ring.TryRead(out var record))
                {
                    var (q, r) = pending.Dequeue();
                    Assert.True(record.HasQuery && record.HasResponse);
                    Assert.True(record.Query.SequenceEqual(q), $"query {i} differs");
                    Assert.True(record.Response.SequenceEqual(r), $"response {i} differs");
                    Assert.True(record.Client.SequenceEqual(Client));
                    Assert.True(record.Zone.SequenceEqual(decision.Zone!.Wire), "the zone that answered");
                    ring.Release();
                }
                Assert.Empty(pending);
            }
        }
        Assert.Equal(0, ring.Dropped);
    }

    [Fact]
    public void A_full_ring_drops_and_counts_and_never_overwrites_what_the_writer_has_not_read()
    {
        using var writer = Writer(new DnstapOptions { Socket = "/nonexistent", RingKilobytes = 64 });
        var ring = writer.CreateRing(Transport.Udp, AddressFamily.InterNetwork, null);
        var (query, response, decision) = Exchange("www.example.test.", RecordType.A);
        int record = (DnstapRing.HeaderSize + query.Length + response.Length + decision.Zone!.Length + 7) & ~7;
        int fit = 64 * 1024 / record;
        for (int i = 0; i < fit + 50; i++)
        {
            query[2] = (byte)i; // the header's flags octet: marks each record
            ring.Add(query, response, Client, decision, RateLimitAction.Answer, 0);
        }
        Assert.Equal(2 * 50, ring.Dropped);
        Assert.Equal(2 * 50, writer.Dropped);
        for (int i = 0; i < fit; i++)
        {
            Assert.True(ring.TryRead(out var read));
            Assert.Equal((byte)i, read.Query[2]);
            ring.Release();
        }
        Assert.False(ring.TryRead(out _));
    }

    [Fact]
    public void The_filters_read_the_responders_decision()
    {
        var refused = Exchange("outside.invalid.", RecordType.A);
        var positive = Exchange("www.example.test.", RecordType.A);
        using var writer = Writer(new DnstapOptions { Socket = "/nonexistent", Responses = DnstapResponses.Refused | DnstapResponses.Limited, LogQueries = false });
        var ring = writer.CreateRing(Transport.Udp, AddressFamily.InterNetwork, null);
        ring.Add(positive.Query, positive.Response, Client, positive.Decision, RateLimitAction.Answer, 0);
        Assert.False(ring.TryRead(out _));
        ring.Add(refused.Query, refused.Response, Client, refused.Decision, RateLimitAction.Answer, 0);
        Assert.True(ring.TryRead(out var record));
        Assert.False(record.HasQuery);
        Assert.True(record.HasResponse);
        ring.Release();
        // A positive answer rate limiting dropped: the query only, since no response went out.
        ring.Add(positive.Query, [], Client, positive.Decision, RateLimitAction.Drop, 0);
        Assert.False(ring.TryRead(out _), "LogQueries=false and no response: nothing to send");
    }
}
