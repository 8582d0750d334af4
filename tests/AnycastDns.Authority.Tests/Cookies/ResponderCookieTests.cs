using AnycastDns.Authority.Cookies;
using AnycastDns.Protocol;
using AnycastDns.Zones;
using AnycastDns.TestSupport;

namespace AnycastDns.Authority.Tests.Cookies;

/// <summary>
/// DNS cookies on the query path (RFC 7873 §5.2, RFC 9018 §4.3): what the responder sends back for each kind of
/// COOKIE option, and what it tells rate limiting the query's cookie was worth.
/// </summary>
public class ResponderCookieTests
{
    private const string Zone = """
        $TTL 300
        @    SOA ns.c.test. h.c.test. 1 3600 600 86400 60
             NS  ns
        ns   A   192.0.2.1
        www  A   192.0.2.80
        """;

    private static readonly byte[] Secret1 = Convert.FromHexString("e5e973e5a6b2a43f48e7dc849e37bfcf");
    private static readonly byte[] Secret2 = Convert.FromHexString("0102030405060708090a0b0c0d0e0f10");
    private static readonly byte[] ClientCookie = Convert.FromHexString("2464c4abcf10c957");
    private static readonly byte[] Client = [198, 51, 100, 9];

    private static readonly ZoneSet Zones = new([Engine.BuildZone("c.test.", Zone)]);

    private static Responder PoP(params byte[][] secrets) =>
        new(new ZoneSetHolder(Zones), new ResponderOptions { PopId = "pop" }, new CookieSecretsHolder(new CookieSecrets(secrets)));

    private static uint Now => (uint)DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>Asks for www.c.test/A with <paramref name="cookie"/> as the COOKIE option's data (none when null).</summary>
    private static (DnsMessage Message, ResponseDecision Decision) Ask(Responder responder, byte[]? cookie, byte[]? client = null, bool limited = false)
    {
        var edns = new EdnsRecord();
        if (cookie is not null)
        {
            edns.Options.Add(new EdnsOption(EdnsOptionCode.Cookie, cookie));
        }
        var query = DnsMessage.CreateQuery(DnsName.Parse("www.c.test."), RecordType.A, RecordClass.IN, 0x1234, edns).Encode();
        var buffer = new byte[Responder.MaxResponseSize];
        int length = limited
            ? responder.RespondLimited(query, buffer, client ?? Client, out var decision)
            : responder.Respond(query, buffer, Transport.Udp, client ?? Client, out decision);
        Assert.True(length > 0);
        return (DnsMessage.Parse(buffer.AsSpan(0, length)), decision);
    }

    /// <summary>The COOKIE option of a response: the client cookie it echoes and the server cookie it carries.</summary>
    private static (byte[] Client, byte[] Server) CookieOf(DnsMessage message)
    {
        var option = Assert.Single(message.Edns!.Options, o => o.Code == EdnsOptionCode.Cookie);
        return (option.Data[..8], option.Data[8..]);
    }

    private static byte[] Concat(byte[] a, byte[] b) => [.. a, .. b];

    [Fact]
    public void A_client_cookie_alone_gets_an_answer_and_a_server_cookie_that_verifies()
    {
        var (message, decision) = Ask(PoP(Secret1), ClientCookie);
        Assert.Equal(ResponseCode.NoError, message.ResponseCode);
        Assert.Single(message.Answers);
        Assert.Equal(CookieState.ClientOnly, decision.Cookie);
        var (client, server) = CookieOf(message);
        Assert.Equal(ClientCookie, client);
        Assert.Equal(ServerCookie.Length, server.Length);
        Assert.Equal(ServerCookie.Version, server[0]);
        Assert.Equal(ServerCookieStatus.Valid, ServerCookie.Verify(server, ClientCookie, Client, new CookieSecrets([Secret1]), Now));
    }

    [Fact]
    public void The_cookie_it_gave_is_valid_when_it_comes_back_and_is_echoed_unchanged()
    {
        var pop = PoP(Secret1);
        var (_, server) = CookieOf(Ask(pop, ClientCookie).Message);
        var (message, decision) = Ask(pop, Concat(ClientCookie, server));
        Assert.Equal(CookieState.Valid, decision.Cookie);
        Assert.Equal(ResponseCode.NoError, message.ResponseCode);
        Assert.Equal(server, CookieOf(message).Server);
    }

    [Fact]
    public void A_cookie_made_at_one_pop_is_valid_at_another_holding_the_same_secret()
    {
        var (_, server) = CookieOf(Ask(PoP(Secret1), ClientCookie).Message);
        Assert.Equal(CookieState.Valid, Ask(PoP(Secret1), Concat(ClientCookie, server)).Decision.Cookie);
        Assert.Equal(CookieState.Invalid, Ask(PoP(Secret2), Concat(ClientCookie, server)).Decision.Cookie);
    }

    [Fact]
    public void During_a_rollover_a_cookie_of_the_second_secret_verifies_and_new_ones_use_the_first()
    {
        var (_, old) = CookieOf(Ask(PoP(Secret2), ClientCookie).Message);
        var rolled = PoP(Secret1, Secret2);
        var (message, decision) = Ask(rolled, Concat(ClientCookie, old));
        Assert.Equal(CookieState.Valid, decision.Cookie);
        Assert.Equal(old, CookieOf(message).Server);

        var (_, fresh) = CookieOf(Ask(rolled, ClientCookie).Message);
        Assert.Equal(ServerCookieStatus.Valid, ServerCookie.Verify(fresh, ClientCookie, Client, new CookieSecrets([Secret1]), Now));
    }

    [Fact]
    public void A_cookie_for_another_address_or_client_cookie_is_invalid_and_answered_with_a_fresh_one()
    {
        var pop = PoP(Secret1);
        var (_, server) = CookieOf(Ask(pop, ClientCookie).Message);

        var (elsewhere, decision) = Ask(pop, Concat(ClientCookie, server), client: [198, 51, 100, 10]);
        Assert.Equal(CookieState.Invalid, decision.Cookie);
        // RFC 7873 §5.2.4: answered normally, as if only the client cookie had come.
        Assert.Equal(ResponseCode.NoError, elsewhere.ResponseCode);
        Assert.Single(elsewhere.Answers);
        Assert.Equal(ServerCookieStatus.Valid, ServerCookie.Verify(CookieOf(elsewhere).Server, ClientCookie, [198, 51, 100, 10], new CookieSecrets([Secret1]), Now));

        byte[] otherClient = Convert.FromHexString("0000000000000001");
        Assert.Equal(CookieState.Invalid, Ask(pop, Concat(otherClient, server)).Decision.Cookie);
    }

    [Fact]
    public void An_ipv4_client_seen_on_a_dual_stack_socket_is_the_same_client()
    {
        var pop = PoP(Secret1);
        var (_, server) = CookieOf(Ask(pop, ClientCookie).Message);
        byte[] mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, .. Client];
        Assert.Equal(CookieState.Valid, Ask(pop, Concat(ClientCookie, server), client: mapped).Decision.Cookie);
    }

    [Fact]
    public void A_valid_cookie_older_than_half_an_hour_is_replaced_and_one_older_than_an_hour_is_invalid()
    {
        var pop = PoP(Secret1);
        var secrets = new CookieSecrets([Secret1]);
        var stale = new byte[ServerCookie.Length];
        Assert.True(ServerCookie.TryCreate(stale, ClientCookie, Client, secrets, Now - 40 * 60));
        var (message, decision) = Ask(pop, Concat(ClientCookie, stale));
        Assert.Equal(CookieState.Valid, decision.Cookie);
        var fresh = CookieOf(message).Server;
        Assert.NotEqual(stale, fresh);
        Assert.Equal(ServerCookieStatus.Valid, ServerCookie.Verify(fresh, ClientCookie, Client, secrets, Now));

        var expired = new byte[ServerCookie.Length];
        Assert.True(ServerCookie.TryCreate(expired, ClientCookie, Client, secrets, Now - 61 * 60));
        Assert.Equal(CookieState.Invalid, Ask(pop, Concat(ClientCookie, expired)).Decision.Cookie);
    }

    [Theory]
    [InlineData(8)]
    [InlineData(24)]
    [InlineData(32)]
    public void A_server_cookie_of_another_length_is_invalid_but_the_query_is_answered(int length)
    {
        var (message, decision) = Ask(PoP(Secret1), Concat(ClientCookie, new byte[length]));
        Assert.Equal(CookieState.Invalid, decision.Cookie);
        Assert.Equal(ResponseCode.NoError, message.ResponseCode);
        Assert.Equal(ServerCookie.Length, CookieOf(message).Server.Length);
    }

    [Fact]
    public void The_limited_reply_to_a_cookie_query_is_badcookie_with_a_server_cookie_to_retry_with()
    {
        var pop = PoP(Secret1);
        var (message, decision) = Ask(pop, ClientCookie, limited: true);
        Assert.Equal(ResponseCode.BadCookie, message.ResponseCode);
        Assert.Empty(message.Answers);
        var (client, server) = CookieOf(message);
        Assert.Equal(ClientCookie, client);
        // The retry with it is valid, so rate limiting lets it through.
        Assert.Equal(CookieState.Valid, Ask(pop, Concat(ClientCookie, server)).Decision.Cookie);
        Assert.Equal(CookieState.ClientOnly, decision.Cookie);
    }

    [Fact]
    public void Without_a_cookie_option_none_is_sent()
    {
        var (message, decision) = Ask(PoP(Secret1), null);
        Assert.Equal(CookieState.None, decision.Cookie);
        Assert.DoesNotContain(message.Edns!.Options, o => o.Code == EdnsOptionCode.Cookie);
    }

    [Fact]
    public void A_swapped_secret_takes_effect_at_the_next_query()
    {
        var holder = new CookieSecretsHolder(new CookieSecrets([Secret1]));
        var pop = new Responder(new ZoneSetHolder(Zones), new ResponderOptions { PopId = "pop" }, holder);
        var (_, server) = CookieOf(Ask(pop, ClientCookie).Message);
        holder.Current = new CookieSecrets([Secret2]);
        Assert.Equal(CookieState.Invalid, Ask(pop, Concat(ClientCookie, server)).Decision.Cookie);
    }

    [Fact]
    public void Checking_making_and_echoing_cookies_allocates_nothing()
    {
        var pop = PoP(Secret2, Secret1);
        var (_, server) = CookieOf(Ask(pop, ClientCookie).Message);
        byte[][] queries =
        [
            Query(ClientCookie),                                  // a fresh cookie made
            Query(Concat(ClientCookie, server)),                  // a valid one echoed
            Query(Concat(ClientCookie, new byte[16])),            // an invalid one: both secrets tried, a fresh one made
        ];
        var buffer = new byte[Responder.MaxResponseSize];
        foreach (var query in queries)
        {
            Assert.Equal(0, Allocations.PerBatch(1000, i =>
            {
                pop.Respond(query, buffer, Transport.Udp, Client, out _);
                pop.RespondLimited(query, buffer, Client, out _);
            }));
        }

        static byte[] Query(byte[] cookie)
        {
            var edns = new EdnsRecord();
            edns.Options.Add(new EdnsOption(EdnsOptionCode.Cookie, cookie));
            return DnsMessage.CreateQuery(DnsName.Parse("www.c.test."), RecordType.A, RecordClass.IN, 7, edns).Encode();
        }
    }
}
