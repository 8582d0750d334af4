using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Server.RateLimiting;
using AnycastDns.Zones;
using Microsoft.Extensions.Logging.Abstractions;
using AnycastDns.TestSupport;

namespace AnycastDns.Server.Tests.RateLimiting;

/// <summary>
/// Response rate limiting's arithmetic and bucket keys, on decisions the real responder makes for a real zone: which
/// responses share a bucket (the RRL technical note's classes), how many a bucket lets through, how limited ones slip.
/// </summary>
public sealed class ResponseRateLimiterTests
{
    private const string ZoneText = """
        $TTL 300
        @        SOA ns.r.test. h.r.test. 1 3600 600 86400 60
                 NS  ns
        ns       A   192.0.2.1
        www      A   192.0.2.80
        mail     A   192.0.2.25
        *.wild   TXT "wildcard"
        child    NS  ns.child
        ns.child A   192.0.2.53
        """;

    private static readonly Responder Responder = new(ZoneSetOf(ZoneText), new ResponderOptions { PopId = "pop-test" });

    private static readonly byte[] Client = [198, 18, 7, 9];

    private static ZoneSet ZoneSetOf(string text)
    {
        var origin = DnsName.Parse("r.test.");
        var parsed = ZoneFileReader.ReadText(text, "r.test.zone", origin);
        return new ZoneSet([ZoneBuilder.Build(origin, parsed.Records, [], "r.test.zone")!]);
    }

    private sealed record Answer(byte[] Response, ResponseDecision Decision);

    private static Answer Ask(string name, RecordType type, byte[]? client = null)
    {
        var buffer = new byte[1232];
        var query = DnsMessage.CreateQuery(DnsName.Parse(name), type, RecordClass.IN, 1).Encode();
        int length = Responder.Respond(query, buffer, Transport.Udp, client ?? Client, out var decision);
        return new Answer(buffer[..length], decision);
    }

    private static ResponseRateLimiter Limiter(int rate = 10, int slip = 0, int window = 15, bool logOnly = false, IReadOnlyList<AddressPrefix>? exempt = null) =>
        new(new RateLimitOptions { ResponsesPerSecond = rate, Slip = slip, WindowSeconds = window, LogOnly = logOnly, Exempt = exempt ?? [], TableSize = 4096 }, NullLogger.Instance);

    private static RateLimitAction[] Send(ResponseRateLimiter limiter, Answer answer, int count, byte[]? client = null)
    {
        var actions = new RateLimitAction[count];
        for (int i = 0; i < count; i++)
        {
            actions[i] = limiter.Check(client ?? Client, answer.Decision, answer.Response);
        }
        return actions;
    }

    private static int Answered(IEnumerable<RateLimitAction> actions) => actions.Count(a => a == RateLimitAction.Answer);

    [Fact]
    public void A_bucket_lets_its_rate_through_then_drops_with_slip_zero()
    {
        using var limiter = Limiter(rate: 10);
        var actions = Send(limiter, Ask("www.r.test.", RecordType.A), 200);
        // A full bucket holds one second's worth; a few more may be earned while the loop runs.
        Assert.InRange(Answered(actions), 10, 12);
        Assert.All(actions.Skip(12), a => Assert.Equal(RateLimitAction.Drop, a));
    }

    [Theory]
    [InlineData(1, 1.0)]
    [InlineData(2, 0.5)]
    [InlineData(3, 1.0 / 3)]
    public void Every_nth_limited_response_slips(int slip, double share)
    {
        using var limiter = Limiter(rate: 5, slip: slip);
        var limited = Send(limiter, Ask("www.r.test.", RecordType.A), 605).Where(a => a != RateLimitAction.Answer).ToArray();
        Assert.DoesNotContain(RateLimitAction.LogOnly, limited);
        double slipped = limited.Count(a => a == RateLimitAction.Slip) / (double)limited.Length;
        Assert.InRange(slipped, share - 0.01, share + 0.01);
    }

    [Fact]
    public void Log_only_limits_nothing_and_says_what_it_would_have()
    {
        using var limiter = Limiter(rate: 10, slip: 2, logOnly: true);
        var actions = Send(limiter, Ask("www.r.test.", RecordType.A), 100);
        Assert.DoesNotContain(RateLimitAction.Drop, actions);
        Assert.DoesNotContain(RateLimitAction.Slip, actions);
        Assert.InRange(actions.Count(a => a == RateLimitAction.LogOnly), 88, 90);
    }

    [Fact]
    public void Positive_answers_are_keyed_by_name_and_type()
    {
        using var limiter = Limiter(rate: 10);
        Assert.InRange(Answered(Send(limiter, Ask("www.r.test.", RecordType.A), 50)), 10, 12);
        // Another name, or another type of a name that has it (positive), is another bucket.
        Assert.InRange(Answered(Send(limiter, Ask("mail.r.test.", RecordType.A), 50)), 10, 12);
        Assert.InRange(Answered(Send(limiter, Ask("ns.r.test.", RecordType.A), 50)), 10, 12);
        // Case does not make a new bucket (RFC 4343).
        Assert.InRange(Answered(Send(limiter, Ask("WWW.r.test.", RecordType.A), 50)), 0, 2);
    }

    [Fact]
    public void Nodata_for_different_qtypes_of_one_name_is_one_bucket()
    {
        using var limiter = Limiter(rate: 10);
        RecordType[] types = [RecordType.AAAA, RecordType.MX, RecordType.TXT, RecordType.SRV, RecordType.CAA];
        int answered = 0;
        for (int i = 0; i < 100; i++)
        {
            var answer = Ask("www.r.test.", types[i % types.Length]);
            Assert.Equal(ResponseClass.NoData, answer.Decision.Class);
            answered += Answered(Send(limiter, answer, 1));
        }
        Assert.InRange(answered, 10, 12);
    }

    [Fact]
    public void Nxdomain_for_random_subdomains_is_one_bucket_per_zone()
    {
        using var limiter = Limiter(rate: 10);
        int answered = 0;
        for (int i = 0; i < 100; i++)
        {
            var answer = Ask($"r{Random.Shared.Next()}x{i}.r.test.", RecordType.A);
            Assert.Equal(ResponseClass.NxDomain, answer.Decision.Class);
            answered += Answered(Send(limiter, answer, 1));
        }
        Assert.InRange(answered, 10, 12);
    }

    [Fact]
    public void Referrals_are_keyed_by_the_delegation_and_wildcards_by_the_wildcard()
    {
        using var limiter = Limiter(rate: 10);
        int referrals = 0, wildcards = 0;
        for (int i = 0; i < 100; i++)
        {
            referrals += Answered(Send(limiter, Ask($"h{i}.child.r.test.", RecordType.A), 1));
            wildcards += Answered(Send(limiter, Ask($"h{i}.wild.r.test.", RecordType.TXT), 1));
        }
        Assert.InRange(referrals, 10, 12);
        Assert.InRange(wildcards, 10, 12);
    }

    [Fact]
    public void Errors_are_keyed_by_the_prefix_alone()
    {
        using var limiter = Limiter(rate: 10);
        int answered = 0;
        for (int i = 0; i < 100; i++)
        {
            // REFUSED for names of many zones we do not serve, and AXFR refused: one bucket.
            var answer = i % 2 == 0 ? Ask($"n{i}.example{i}.org.", RecordType.A) : Ask("r.test.", RecordType.AXFR);
            Assert.Equal(ResponseClass.Error, answer.Decision.Class);
            answered += Answered(Send(limiter, answer, 1));
        }
        Assert.InRange(answered, 10, 12);
    }

    [Fact]
    public void Clients_share_buckets_within_their_prefix_only()
    {
        using var limiter = Limiter(rate: 10);
        var answer = Ask("www.r.test.", RecordType.A);
        // Two hosts of one /24 share; another /24 does not; IPv6 hosts of one /56 share.
        int sameSlash24 = Answered(Send(limiter, answer, 50, [198, 18, 7, 1])) + Answered(Send(limiter, answer, 50, [198, 18, 7, 200]));
        Assert.InRange(sameSlash24, 10, 13);
        Assert.InRange(Answered(Send(limiter, answer, 50, [198, 18, 8, 1])), 10, 12);
        byte[] v6a = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0x11, .. new byte[8]];
        byte[] v6b = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0x22, .. new byte[7], 1];
        byte[] v6other = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 1, 0, .. new byte[8]];
        Assert.InRange(Answered(Send(limiter, answer, 50, v6a)) + Answered(Send(limiter, answer, 50, v6b)), 10, 13);
        Assert.InRange(Answered(Send(limiter, answer, 50, v6other)), 10, 12);
    }

    [Fact]
    public void Exempt_prefixes_and_valid_cookies_are_never_limited()
    {
        using var limiter = Limiter(rate: 10, exempt: [AddressPrefix.Parse("198.18.7.0/24")]);
        var answer = Ask("www.r.test.", RecordType.A);
        Assert.Equal(500, Answered(Send(limiter, answer, 500)));
        var cookied = answer.Decision with { Cookie = CookieState.Valid };
        byte[] other = [203, 0, 113, 9];
        for (int i = 0; i < 500; i++)
        {
            Assert.Equal(RateLimitAction.Answer, limiter.Check(other, cookied, answer.Response));
        }
    }

    [Fact]
    public void A_flood_runs_the_bucket_into_debt_for_the_window()
    {
        using var limiter = Limiter(rate: 100, window: 5);
        var answer = Ask("www.r.test.", RecordType.A);
        Send(limiter, answer, 2000);
        Thread.Sleep(1100);
        // A second's credit pays back a second of the five seconds of debt: still limited.
        Assert.InRange(Answered(Send(limiter, answer, 50)), 0, 2);
        using var shortWindow = Limiter(rate: 100, window: 1);
        Send(shortWindow, answer, 2000);
        Thread.Sleep(2100);
        Assert.InRange(Answered(Send(shortWindow, answer, 50)), 50, 50);
    }

    [Fact]
    public void A_full_table_reuses_its_oldest_buckets_and_never_grows()
    {
        using var limiter = Limiter(rate: 10);
        int capacity = limiter.Capacity;
        var answer = Ask("www.r.test.", RecordType.A);
        for (int i = 0; i < 20_000; i++)
        {
            byte[] client = [10, (byte)(i >> 16), (byte)(i >> 8), (byte)i];
            limiter.Check(client, answer.Decision, answer.Response);
        }
        Assert.Equal(capacity, limiter.Capacity);
        // A new client is still counted from a full bucket.
        Assert.InRange(Answered(Send(limiter, answer, 50, [203, 0, 113, 1])), 10, 12);
    }

    [Fact]
    public void Checking_a_response_allocates_nothing()
    {
        using var limiter = Limiter(rate: 1000, slip: 2);
        var answers = new[] { Ask("www.r.test.", RecordType.A), Ask("nothere.r.test.", RecordType.A), Ask("x.child.r.test.", RecordType.A) };
        foreach (var answer in answers)
        {
            Send(limiter, answer, 100);
        }
        Assert.Equal(0, Allocations.PerBatch(10_000, i =>
        {
            var answer = answers[i % answers.Length];
            limiter.Check(Client, answer.Decision, answer.Response);
        }));
    }
}
