using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;

namespace AnycastDns.Authority.Tests;

/// <summary>
/// Answering a query allocates nothing (STYLE.md: "prove 0 B/op"): the same cases as bench/EngineBenchmarks, counted
/// with the thread's allocation counter rather than timed, so the proof runs with every test run.
/// </summary>
public class ZeroAllocationTests
{
    private const int Calls = 1000;

    // example.test has no zone cut, so lookups take the direct path; parent.test has one, so they walk from the apex.
    private const string ExampleZone = """
        $TTL 3600
        @         IN SOA ns1 hostmaster 2024010101 7200 900 1209600 300
                  IN NS  ns1
                  IN NS  ns2
                  IN MX  10 mail
        ns1       IN A   192.0.2.1
        ns2       IN A   192.0.2.2
        mail      IN A   192.0.2.25
                  IN AAAA 2001:db8::25
        www       IN A   192.0.2.80
        *.wild    IN A   192.0.2.99
        chain1    IN CNAME chain2
        chain2    IN CNAME chain3
        chain3    IN CNAME www
        """;

    private const string ParentZone = """
        $TTL 3600
        @         IN SOA ns1 hostmaster 2024010101 7200 900 1209600 300
                  IN NS  ns1
        ns1       IN A   192.0.2.1
        www       IN A   192.0.2.80
        sub       IN NS  ns.sub
        ns.sub    IN A   192.0.2.53
        """;

    private static readonly Engine SharedEngine = new(
        new ResponderOptions { PopId = "pop-test", VersionString = "AnycastDns test" },
        ("example.test.", ExampleZone),
        ("parent.test.", ParentZone));

    private readonly byte[] _response = new byte[Responder.MaxResponseSize];

    /// <summary>The EDNS a case's query carries.</summary>
    public enum EdnsKind
    {
        None,
        /// <summary>OPT with an empty NSID option (RFC 5001 §2.1).</summary>
        Nsid,
        /// <summary>OPT with an empty edns-tcp-keepalive option (RFC 7828 §3.2.1), for TCP.</summary>
        Keepalive,
        /// <summary>OPT with an empty EXPIRE option (RFC 7314 §2): the answer carries the zone's SOA expire.</summary>
        Expire,
        /// <summary>OPT with the DO bit (RFC 3225), no option: asked of the signed zones of tests/zones-dnssec.</summary>
        Dnssec,
    }

    /// <summary>Each case: the question, and the shape of the answer, so that the count is taken on the path the case names.</summary>
    public static TheoryData<string, string, RecordType, RecordClass, EdnsKind, Transport, ResponseCode, int, int, int> Cases => new()
    {
        // case,                name,                          type,           class,          EDNS,               transport,     RCODE,                  an, ns, ar
        { "exact A",             "www.example.test.",           RecordType.A,   RecordClass.IN, EdnsKind.None,      Transport.Udp, ResponseCode.NoError,  1,  0,  0 },
        { "MX + additional",     "example.test.",               RecordType.MX,  RecordClass.IN, EdnsKind.None,      Transport.Udp, ResponseCode.NoError,  1,  0,  2 },
        { "NXDOMAIN",            "nothere.example.test.",       RecordType.A,   RecordClass.IN, EdnsKind.None,      Transport.Udp, ResponseCode.NXDomain, 0,  1,  0 },
        { "wildcard",            "anything.wild.example.test.", RecordType.A,   RecordClass.IN, EdnsKind.None,      Transport.Udp, ResponseCode.NoError,  1,  0,  0 },
        { "CNAME chain",         "chain1.example.test.",        RecordType.A,   RecordClass.IN, EdnsKind.None,      Transport.Udp, ResponseCode.NoError,  4,  0,  0 },
        { "EDNS + NSID",         "www.example.test.",           RecordType.A,   RecordClass.IN, EdnsKind.Nsid,      Transport.Udp, ResponseCode.NoError,  1,  0,  1 },
        { "EDNS + EXPIRE SOA",   "example.test.",               RecordType.SOA, RecordClass.IN, EdnsKind.Expire,    Transport.Udp, ResponseCode.NoError,  1,  0,  1 },
        { "TCP + keepalive",     "www.example.test.",           RecordType.A,   RecordClass.IN, EdnsKind.Keepalive, Transport.Tcp, ResponseCode.NoError,  1,  0,  1 },
        { "referral",            "www.sub.parent.test.",        RecordType.A,   RecordClass.IN, EdnsKind.None,      Transport.Udp, ResponseCode.NoError,  0,  1,  1 },
        { "exact, cut zone",     "www.parent.test.",            RecordType.A,   RecordClass.IN, EdnsKind.None,      Transport.Udp, ResponseCode.NoError,  1,  0,  0 },
        { "NXDOMAIN, cut zone",  "nothere.parent.test.",        RecordType.A,   RecordClass.IN, EdnsKind.None,      Transport.Udp, ResponseCode.NXDomain, 0,  1,  0 },
        { "CHAOS id.server",     "id.server.",                  RecordType.TXT, RecordClass.CH, EdnsKind.None,      Transport.Udp, ResponseCode.NoError,  1,  0,  0 },
        // DO to signed zones (RRSIGs beside every RRset; NSEC/NSEC3 proofs hashed and searched on the stack).
        { "DO positive",         "www.nsec.test.",              RecordType.A,   RecordClass.IN, EdnsKind.Dnssec,    Transport.Udp, ResponseCode.NoError,  2,  0,  1 },
        { "DO NXDOMAIN NSEC",    "nothere.nsec.test.",          RecordType.A,   RecordClass.IN, EdnsKind.Dnssec,    Transport.Udp, ResponseCode.NXDomain, 0,  6,  1 },
        { "DO NXDOMAIN NSEC3",   "nothere.nsec3.test.",         RecordType.A,   RecordClass.IN, EdnsKind.Dnssec,    Transport.Tcp, ResponseCode.NXDomain, 0,  8,  1 },
        { "DO NXDOMAIN Opt-Out", "nothere.optout.test.",        RecordType.A,   RecordClass.IN, EdnsKind.Dnssec,    Transport.Tcp, ResponseCode.NXDomain, 0,  8,  1 },
        { "DO NODATA NSEC3",     "www.nsec3.test.",             RecordType.TXT, RecordClass.IN, EdnsKind.Dnssec,    Transport.Udp, ResponseCode.NoError,  0,  4,  1 },
        { "DO wildcard NSEC",    "host.wild.nsec.test.",        RecordType.A,   RecordClass.IN, EdnsKind.Dnssec,    Transport.Udp, ResponseCode.NoError,  2,  2,  1 },
        { "DO wildcard NSEC3",   "host.wild.nsec3.test.",       RecordType.A,   RecordClass.IN, EdnsKind.Dnssec,    Transport.Udp, ResponseCode.NoError,  2,  2,  1 },
        { "DO referral + DS",    "www.secure.nsec.test.",       RecordType.A,   RecordClass.IN, EdnsKind.Dnssec,    Transport.Udp, ResponseCode.NoError,  0,  3,  2 },
        { "DO referral Opt-Out", "www.insecure.optout.test.",   RecordType.A,   RecordClass.IN, EdnsKind.Dnssec,    Transport.Udp, ResponseCode.NoError,  0,  5,  2 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Answering_allocates_nothing(
        string @case, string name, RecordType type, RecordClass cls, EdnsKind ednsKind, Transport transport,
        ResponseCode rcode, int answers, int authority, int additional)
    {
        var edns = ednsKind == EdnsKind.None ? null : new EdnsRecord { DnssecOk = ednsKind == EdnsKind.Dnssec };
        if (ednsKind is EdnsKind.Nsid or EdnsKind.Keepalive or EdnsKind.Expire)
        {
            ushort code = ednsKind switch { EdnsKind.Nsid => EdnsOptionCode.Nsid, EdnsKind.Keepalive => EdnsOptionCode.TcpKeepalive, _ => EdnsOptionCode.Expire };
            edns!.Options.Add(new EdnsOption(code, []));
        }
        var query = DnsMessage.CreateQuery(DnsName.Parse(name), type, cls, 0x1234, edns).Encode();
        var responder = ednsKind == EdnsKind.Dnssec ? new SignedEngineFixture().Engine.Responder : SharedEngine.Responder;

        int length = responder.Respond(query, _response, transport);
        var response = DnsMessage.Parse(_response.AsSpan(0, length));
        Assert.Equal(rcode, response.ResponseCode);
        Assert.Equal(answers, response.Answers.Count);
        Assert.Equal(authority, response.Authority.Count);
        // The OPT record counts in ARCOUNT but is kept apart from the parsed additional section.
        Assert.Equal(additional, response.Additional.Count + (response.Edns is null ? 0 : 1));
        // The option asked for comes back, so the OPT-writing path is the one counted.
        Assert.Equal(ednsKind is EdnsKind.Nsid or EdnsKind.Keepalive or EdnsKind.Expire ? 1 : 0, response.Edns?.Options.Count ?? 0);
        if (ednsKind == EdnsKind.Expire)
        {
            // RFC 7314 §2: four octets, the SOA EXPIRE above (1209600).
            Assert.Equal([0, 0x12, 0x75, 0], response.Edns!.Options.Single(o => o.Code == EdnsOptionCode.Expire).Data);
        }
        Assert.False(response.Truncated);

        long allocated = Allocations.PerBatch(Calls, _ => responder.Respond(query, _response, transport));

        Assert.True(allocated == 0, $"{@case}: {allocated} bytes allocated over {Calls} responses ({allocated / (double)Calls:0.#} B per query)");
    }
}
