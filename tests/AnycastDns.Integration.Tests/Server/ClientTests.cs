using System.Globalization;
using System.Net;
using System.Text.Json;
using AnycastDns.TestSupport;
using DnsClient;
using DnsClient.Protocol;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// Clients nobody here wrote, against the real <c>anycastdns serve</c> process on IPv4 and IPv6 loopback:
/// dnspython, the DnsClient library, and dig. Each parses our responses with its own code and checks IDs and questions.
/// </summary>
public sealed class ClientTests(AnycastDnsOnTestZones fixture) : IClassFixture<AnycastDnsOnTestZones>
{
    /// <summary>Debian's Python, for which python3-dnspython is installed (the python3 first on PATH may be another).</summary>
    private const string DebianPython = "/usr/bin/python3";

    private const string DigPath = "/usr/bin/dig";

    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Asks the server (argv: address, port) a few questions with dnspython and prints one JSON object: for each
    /// question its rcode, AA and TC flags, EDNS version (-1 without), answers as text, and NSID values.
    /// </summary>
    private const string DnspythonScript = """
        import json, sys
        import dns.edns, dns.flags, dns.message, dns.query, dns.rcode
        host, port = sys.argv[1], int(sys.argv[2])

        def summary(response):
            return {
                "rcode": dns.rcode.to_text(response.rcode()),
                "aa": bool(response.flags & dns.flags.AA),
                "tc": bool(response.flags & dns.flags.TC),
                "edns": response.edns,
                "answers": sorted(rr.to_text() for rrset in response.answer for rr in rrset),
                "nsid": [o.to_wire().decode() for o in response.options if o.otype == dns.edns.NSID],
            }

        def query(name, rdtype, **kwargs):
            return dns.message.make_query(name, rdtype, want_dnssec=False, **kwargs)

        nsid = [dns.edns.GenericOption(dns.edns.NSID, b"")]
        out = {
            "udp_a": summary(dns.query.udp(query("www.example.test", "A", use_edns=False), host, port=port, timeout=5)),
            "tcp_mx": summary(dns.query.tcp(query("example.test", "MX", use_edns=0), host, port=port, timeout=5)),
            "udp_nsid": summary(dns.query.udp(query("www.example.test", "A", use_edns=0, options=nsid), host, port=port, timeout=5)),
            "tcp_nsid": summary(dns.query.tcp(query("mail.example.test", "AAAA", use_edns=0, options=nsid), host, port=port, timeout=5)),
            "udp_nxdomain": summary(dns.query.udp(query("nothere.example.test", "TXT", use_edns=0), host, port=port, timeout=5)),
            "udp_refused": summary(dns.query.udp(query("www.example.org", "A", use_edns=0), host, port=port, timeout=5)),
            "chaos_id": summary(dns.query.udp(query("id.server", "TXT", rdclass="CH", use_edns=False), host, port=port, timeout=5)),
        }
        # 100 A records do not fit 512 octets: TC over UDP, then the whole answer over TCP.
        truncated = dns.query.udp(query("huge.example.test", "A", use_edns=False), host, port=port, timeout=5, ignore_trailing=True)
        out["udp_truncated"] = summary(truncated)
        response, used_tcp = dns.query.udp_with_fallback(query("huge.example.test", "A", use_edns=False), host, port=port, timeout=5)
        out["fallback"] = dict(summary(response), used_tcp=used_tcp)
        print(json.dumps(out))
        """;

    private AnycastDnsServer Server => fixture.Server;

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    public async Task Dnspython_gets_the_zone_answers_over_UDP_and_TCP_with_and_without_EDNS(string address)
    {
        ExternalTool.RequireInstalled(DebianPython, "python3-dnspython");

        var result = await ExternalTool.RunAsync(DebianPython, ["-c", DnspythonScript, address, Server.Port.ToString(CultureInfo.InvariantCulture)], RunTimeout);

        Assert.True(result.ExitCode == 0, result.Output);
        using var json = JsonDocument.Parse(result.StandardOutput);
        var answers = json.RootElement;

        AssertAnswer(answers, "udp_a", "NOERROR", aa: true, edns: -1, ["192.0.2.80"]);
        AssertAnswer(answers, "tcp_mx", "NOERROR", aa: true, edns: 0, ["10 mail.example.test.", "20 mx.external.test."]);
        AssertAnswer(answers, "udp_nsid", "NOERROR", aa: true, edns: 0, ["192.0.2.80"], nsid: "test-pop");
        AssertAnswer(answers, "tcp_nsid", "NOERROR", aa: true, edns: 0, ["2001:db8::25"], nsid: "test-pop");
        AssertAnswer(answers, "udp_nxdomain", "NXDOMAIN", aa: true, edns: 0, []);
        AssertAnswer(answers, "udp_refused", "REFUSED", aa: false, edns: 0, []);
        // RFC 4892 §2: not from a zone, so not authoritative.
        AssertAnswer(answers, "chaos_id", "NOERROR", aa: false, edns: -1, ["\"test-pop\""]);

        var truncated = answers.GetProperty("udp_truncated");
        Assert.True(truncated.GetProperty("tc").GetBoolean(), truncated.ToString());
        var fallback = answers.GetProperty("fallback");
        Assert.True(fallback.GetProperty("used_tcp").GetBoolean(), fallback.ToString());
        Assert.False(fallback.GetProperty("tc").GetBoolean(), fallback.ToString());
        Assert.Equal(100, fallback.GetProperty("answers").GetArrayLength());
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public async Task DnsClient_gets_A_MX_and_TXT_answers(bool ipv6, bool tcpOnly)
    {
        var client = Client(ipv6 ? Server.EndPointV6 : Server.EndPoint, tcpOnly);

        var a = await client.QueryAsync("www.example.test", QueryType.A);
        var mx = await client.QueryAsync("example.test", QueryType.MX);
        var txt = await client.QueryAsync("example.test", QueryType.TXT);
        var missing = await client.QueryAsync("nothere.example.test", QueryType.A);

        foreach (var response in new[] { a, mx, txt })
        {
            Assert.False(response.HasError, response.ErrorMessage);
            Assert.True(response.Header.HasAuthorityAnswer, "AA is not set");
        }
        Assert.Equal(IPAddress.Parse("192.0.2.80"), Assert.Single(a.Answers.ARecords()).Address);
        Assert.Equal(
            ["10 mail.example.test.", "20 mx.external.test."],
            mx.Answers.MxRecords().Select(r => $"{r.Preference} {r.Exchange.Value}").Order(StringComparer.Ordinal));
        Assert.Equal(
            ["apex text", "v=spf1 mx -all"],
            txt.Answers.TxtRecords().SelectMany(r => r.Text).Order(StringComparer.Ordinal));
        Assert.Equal(DnsHeaderResponseCode.NotExistentDomain, missing.Header.ResponseCode);
        Assert.Empty(missing.Answers);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task DnsClient_asks_id_server_in_class_CH_and_gets_the_pop_id(bool tcpOnly)
    {
        var client = Client(Server.EndPoint, tcpOnly);

        var response = await client.QueryAsync("id.server", QueryType.TXT, QueryClass.CH);

        Assert.False(response.HasError, response.ErrorMessage);
        var record = Assert.Single(response.Answers.TxtRecords());
        Assert.Equal(QueryClass.CH, record.RecordClass);
        Assert.Equal(["test-pop"], record.Text);
    }

    [Theory]
    [InlineData("127.0.0.1", "+notcp")]
    [InlineData("::1", "+tcp")]
    public async Task Dig_with_nsid_shows_the_pop_id(string address, string transport)
    {
        var result = await DigAsync(Server, address, ["+nsid", transport, "www.example.test", "A"]);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("status: NOERROR", result.StandardOutput, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^; NSID: [0-9a-f ]+ \(""test-pop""\)$", result.StandardOutput);
        Assert.Matches(@"(?m)^www\.example\.test\.\s+\d+\s+IN\s+A\s+192\.0\.2\.80$", result.StandardOutput);
    }

    [Fact]
    public async Task Dig_version_bind_is_refused_when_no_version_string_is_configured()
    {
        var result = await DigAsync(Server, "127.0.0.1", ["CH", "TXT", "version.bind"]);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("status: REFUSED", result.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("ANSWER: 0,", result.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dig_version_bind_and_version_server_are_answered_with_the_configured_version_string()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--version-string", "1.2.3"]);

        var bind = await DigAsync(server, "127.0.0.1", ["CH", "TXT", "version.bind"]);
        var version = await DigAsync(server, "::1", ["+tcp", "CH", "TXT", "version.server"]);

        foreach (var (result, name) in new[] { (bind, "version.bind"), (version, "version.server") })
        {
            Assert.True(result.ExitCode == 0, result.Output);
            Assert.Contains("status: NOERROR", result.StandardOutput, StringComparison.Ordinal);
            Assert.Matches($@"(?m)^{name.Replace(".", @"\.", StringComparison.Ordinal)}\.\s+0\s+CH\s+TXT\s+""1\.2\.3""$", result.StandardOutput);
        }
    }

    private static LookupClient Client(IPEndPoint server, bool tcpOnly) => new(new LookupClientOptions(new NameServer(server))
    {
        UseCache = false,
        Retries = 0,
        Timeout = TimeSpan.FromSeconds(5),
        UseTcpOnly = tcpOnly,
        ThrowDnsErrors = false,
    });

    private static Task<ToolResult> DigAsync(AnycastDnsServer server, string address, IEnumerable<string> arguments)
    {
        ExternalTool.RequireInstalled(DigPath, "bind9-dnsutils");
        string[] prefix = ["@" + address, "-p", server.Port.ToString(CultureInfo.InvariantCulture), "+time=2", "+tries=1"];
        return ExternalTool.RunAsync(DigPath, prefix.Concat(arguments), RunTimeout);
    }

    private static void AssertAnswer(JsonElement answers, string key, string rcode, bool aa, int edns, string[] expected, string? nsid = null)
    {
        var answer = answers.GetProperty(key);
        string what = $"{key}: {answer}";
        Assert.True(answer.GetProperty("rcode").GetString() == rcode, what);
        Assert.True(answer.GetProperty("aa").GetBoolean() == aa, what);
        Assert.True(!answer.GetProperty("tc").GetBoolean(), what);
        Assert.True(answer.GetProperty("edns").GetInt32() == edns, what);
        Assert.True(expected.SequenceEqual(answer.GetProperty("answers").EnumerateArray().Select(e => e.GetString()!)), what);
        var nsids = answer.GetProperty("nsid").EnumerateArray().Select(e => e.GetString()!).ToArray();
        Assert.True(nsid is null ? nsids.Length == 0 : nsids.SequenceEqual([nsid]), what);
    }
}
