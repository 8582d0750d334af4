using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority.Tests;

/// <summary>
/// What the responder says it decided (the class of answer, the name that keys a rate-limiting bucket, the RCODE),
/// the Extended DNS Errors it attaches (RFC 8914), and the rate-limited "slip" reply.
/// </summary>
public class ResponseDecisionTests
{
    private const string Zone = """
        $TTL 300
        @        SOA ns.d.test. h.d.test. 1 3600 600 86400 60
                 NS  ns
        ns       A   192.0.2.1
        www      A   192.0.2.80
        alias    CNAME www
        gone     CNAME nothing
        *.wild   TXT "wildcard"
        child    NS  ns.child
        ns.child A   192.0.2.53
        """;

    private static readonly Responder Responder = new(
        new ZoneSet([Engine.BuildZone("d.test.", Zone)], notReady: [DnsName.Parse("pending.test."), DnsName.Parse("sub.d.test.")]),
        new ResponderOptions { PopId = "pop-test" });

    private static readonly byte[] ClientAddress = [192, 0, 2, 7];

    private static (DnsMessage Message, ResponseDecision Decision, byte[] Wire) Ask(string name, RecordType type, RecordClass cls = RecordClass.IN, EdnsRecord? edns = null)
    {
        var buffer = new byte[Responder.MaxResponseSize];
        var query = DnsMessage.CreateQuery(DnsName.Parse(name), type, cls, 0x4321, edns).Encode();
        int length = Responder.Respond(query, buffer, Transport.Udp, ClientAddress, out var decision);
        Assert.Equal(length, decision.Length);
        return (DnsMessage.Parse(buffer.AsSpan(0, length)), decision, buffer[..length]);
    }

    [Theory]
    [InlineData("www.d.test.", RecordType.A, ResponseClass.Positive, null)]
    [InlineData("WWW.d.test.", RecordType.AAAA, ResponseClass.NoData, null)]
    [InlineData("alias.d.test.", RecordType.A, ResponseClass.Positive, null)]
    [InlineData("random123.d.test.", RecordType.A, ResponseClass.NxDomain, "d.test.")]
    [InlineData("gone.d.test.", RecordType.A, ResponseClass.NxDomain, "d.test.")]
    [InlineData("x.y.child.d.test.", RecordType.A, ResponseClass.Referral, "child.d.test.")]
    [InlineData("a.wild.d.test.", RecordType.TXT, ResponseClass.Wildcard, "*.wild.d.test.")]
    [InlineData("b.wild.d.test.", RecordType.A, ResponseClass.Wildcard, "*.wild.d.test.")]
    [InlineData("www.example.org.", RecordType.A, ResponseClass.Error, null)]
    [InlineData("id.server.", RecordType.TXT, ResponseClass.Positive, null)]
    public void Says_what_kind_of_answer_it_gave_and_which_name_keys_it(string name, RecordType type, ResponseClass kind, string? bucket)
    {
        var (message, decision, wire) = Ask(name, type, name == "id.server." ? RecordClass.CH : RecordClass.IN);
        Assert.Equal(kind, decision.Class);
        Assert.Equal((ushort)message.ResponseCode, decision.Rcode);
        Assert.Equal((ushort)type, decision.QType);
        Assert.Equal(message.Truncated, decision.Truncated);
        Assert.Equal(CookieState.None, decision.Cookie);
        Assert.Equal(bucket, decision.Bucket?.ToString());
        // The question name as the client wrote it, case included, read from the response itself.
        Assert.Equal(DnsName.Parse(name).Wire.ToArray(), decision.QName(wire).ToArray());
    }

    [Fact]
    public void A_message_that_is_not_a_query_is_dropped_and_says_so()
    {
        var query = DnsMessage.CreateQuery(DnsName.Parse("www.d.test."), RecordType.A, RecordClass.IN, 1).Encode();
        query[2] |= 0x80; // QR: a response
        Assert.Equal(0, Responder.Respond(query, new byte[512], Transport.Udp, ClientAddress, out var decision));
        Assert.Equal(ResponseClass.Dropped, decision.Class);
    }

    public static TheoryData<string, RecordType, RecordClass, ResponseCode, ushort> ExtendedErrors => new()
    {
        // RFC 8914 §4.21: REFUSED for a name in no zone we serve.
        { "www.example.org.", RecordType.A, RecordClass.IN, ResponseCode.Refused, ExtendedErrorCode.NotAuthoritative },
        // §4.22: a CHAOS name or a class we do not serve.
        { "nothing.server.", RecordType.TXT, RecordClass.CH, ResponseCode.Refused, ExtendedErrorCode.NotSupported },
        { "version.bind.", RecordType.TXT, RecordClass.CH, ResponseCode.Refused, ExtendedErrorCode.NotSupported },
        { "www.d.test.", RecordType.A, (RecordClass)4, ResponseCode.Refused, ExtendedErrorCode.NotSupported },
        // §4.19: a transfer refused.
        { "d.test.", RecordType.AXFR, RecordClass.IN, ResponseCode.Refused, ExtendedErrorCode.Prohibited },
        { "d.test.", RecordType.IXFR, RecordClass.IN, ResponseCode.Refused, ExtendedErrorCode.Prohibited },
        // §4.15: a zone whose file is there but has never loaded, also under a zone that has.
        { "www.pending.test.", RecordType.A, RecordClass.IN, ResponseCode.ServFail, ExtendedErrorCode.NotReady },
        { "pending.test.", RecordType.SOA, RecordClass.IN, ResponseCode.ServFail, ExtendedErrorCode.NotReady },
        { "a.sub.d.test.", RecordType.A, RecordClass.IN, ResponseCode.ServFail, ExtendedErrorCode.NotReady },
    };

    [Theory]
    [MemberData(nameof(ExtendedErrors))]
    public void Errors_carry_an_extended_error_when_the_query_had_edns(string name, RecordType type, RecordClass cls, ResponseCode rcode, ushort info)
    {
        var (message, decision, _) = Ask(name, type, cls, new EdnsRecord());
        Assert.Equal(rcode, message.ResponseCode);
        Assert.Equal(ResponseClass.Error, decision.Class);
        var ede = Assert.Single(message.Edns!.Options, o => o.Code == EdnsOptionCode.ExtendedError);
        Assert.Equal(info, (ushort)((ede.Data[0] << 8) | ede.Data[1]));
        // Without EDNS there is nowhere to put it (RFC 8914 §2), and the RCODE alone says it.
        var (plain, _, _) = Ask(name, type, cls);
        Assert.Null(plain.Edns);
        Assert.Equal(rcode, plain.ResponseCode);
    }

    [Theory]
    [InlineData("www.d.test.", RecordType.A)]
    [InlineData("d.test.", RecordType.SOA)]
    [InlineData("nothere.d.test.", RecordType.A)]
    public void Answers_from_zones_that_loaded_carry_no_extended_error(string name, RecordType type)
    {
        var (message, _, _) = Ask(name, type, edns: new EdnsRecord());
        Assert.DoesNotContain(message.Edns!.Options, o => o.Code == EdnsOptionCode.ExtendedError);
    }

    [Fact]
    public void The_slip_reply_is_truncated_authoritative_and_empty_and_echoes_the_question()
    {
        var buffer = new byte[512];
        var query = DnsMessage.CreateQuery(DnsName.Parse("WWW.d.test."), RecordType.A, RecordClass.IN, 0x5555, new EdnsRecord { DnssecOk = true }).Encode();
        int length = Responder.RespondLimited(query, buffer, ClientAddress, out var decision);
        var message = DnsMessage.Parse(buffer.AsSpan(0, length));
        Assert.Equal(0x5555, message.Id);
        Assert.True(message.Truncated);
        Assert.True(message.AuthoritativeAnswer);
        Assert.Equal(ResponseCode.NoError, message.ResponseCode);
        Assert.Empty(message.Answers);
        Assert.Empty(message.Authority);
        Assert.Equal("WWW.d.test.", Assert.Single(message.Questions).Name.ToString());
        Assert.True(message.Edns!.DnssecOk);
        Assert.True(decision.Truncated);
        Assert.Equal(length, decision.Length);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(9)]
    [InlineData(15)]
    [InlineData(41)]
    public void A_malformed_cookie_option_is_formerr(int length)
    {
        var edns = new EdnsRecord();
        edns.Options.Add(new EdnsOption(EdnsOptionCode.Cookie, new byte[length]));
        var (message, decision, _) = Ask("www.d.test.", RecordType.A, edns: edns);
        Assert.Equal(ResponseCode.FormErr, message.ResponseCode);
        Assert.Equal(CookieState.Invalid, decision.Cookie);
        Assert.Equal(ResponseClass.Error, decision.Class);
    }
}
