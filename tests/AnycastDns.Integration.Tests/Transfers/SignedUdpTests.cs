using System.Globalization;
using System.Text.RegularExpressions;
using AnycastDns.Integration.Tests.Telemetry;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Transfers;

/// <summary>
/// TSIG over UDP (RFC 8945 §5.2, §5.3) with clients nobody here wrote — dig, kdig, dnspython — and how rate limiting
/// treats signed queries; the EDNS EXPIRE option (RFC 7314) against Knot as the primary of the same zones; and the
/// requests answered by the zone transfers counted in <c>anycastdns_queries_total</c>.
/// </summary>
[Collection(TransferFixture.Name)]
public sealed partial class SignedUdpTests(TransferFixture fixture)
{
    private const string DebianPython = "/usr/bin/python3";
    private const string DigPath = "/usr/bin/dig";
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static string GoodKey => $"hmac-sha256:{TransferFixture.Key.Name}:{TransferFixture.Key.Secret}";

    private static string WrongKey => $"hmac-sha256:{TransferFixture.Key.Name}:{TransferFixture.WrongSecret}";

    [Fact]
    public async Task Dig_and_kdig_over_UDP_get_a_signed_answer_that_verifies_and_a_wrong_secret_gets_BADSIG()
    {
        string port = fixture.Keyed.Port.ToString(CultureInfo.InvariantCulture);
        var soa = await Dig(port, "-y", GoodKey, "example.test", "SOA");
        Assert.Contains("status: NOERROR", soa.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("(UDP)", soa.StandardOutput, StringComparison.Ordinal);
        // dig checks the answer's MAC against the request's and says so when it cannot.
        Assert.Matches(@"TSIG PSEUDOSECTION:\s+xfr-key\.\s+0\s+ANY\s+TSIG\s+hmac-sha256\. \d+ 300 32 \S+ \d+ NOERROR 0", soa.StandardOutput);
        Assert.DoesNotContain("Couldn't verify", soa.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("could not be validated", soa.Output, StringComparison.Ordinal);

        // RFC 8945 §5.2.2: NOTAUTH, BADSIG, unsigned (MAC size 0).
        var wrong = await Dig(port, "-y", WrongKey, "example.test", "SOA");
        Assert.Contains("status: NOTAUTH", wrong.StandardOutput, StringComparison.Ordinal);
        Assert.Matches(@"TSIG\s+hmac-sha256\. \d+ 300 0 \d+ BADSIG 0", wrong.StandardOutput);
        Assert.Contains("(UDP)", wrong.StandardOutput, StringComparison.Ordinal);

        var kdig = await Kdig.QueryAsync(fixture.Keyed.EndPoint, ["-y", GoodKey, "example.test", "SOA", "+notcp"]);
        Assert.True(kdig.ExitCode == 0, kdig.Output);
        Assert.Contains("status: NOERROR", kdig.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("(UDP)", kdig.StandardOutput, StringComparison.Ordinal);
        Assert.Matches(@"TSIG\s+hmac-sha256\. \d+ 300 32 \S+ \d+ NOERROR", kdig.StandardOutput);
        Assert.DoesNotContain("WARNING", kdig.Output, StringComparison.Ordinal);
        var kdigWrong = await Kdig.QueryAsync(fixture.Keyed.EndPoint, ["-y", WrongKey, "example.test", "SOA", "+notcp"]);
        // kdig shows the TSIG error as the status, and says it could not verify the unsigned answer.
        Assert.Contains("status: BADSIG", kdigWrong.Output, StringComparison.Ordinal);
        Assert.Contains("(UDP) (failed to verify TSIG)", kdigWrong.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// argv: host, port, key name, secret. Each case prints "label rcode tc=0|1 tsig=True|False size=N" for the answer
    /// dnspython parsed with the keyring and the request's MAC (which verifies the answer's TSIG), or
    /// "label ExceptionType" when it would not parse.
    /// </summary>
    private const string UdpScript = """
        import sys, socket
        import dns.message, dns.name, dns.tsig, dns.flags, dns.rcode
        host, port, keyname, secret = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
        name = dns.name.from_text(keyname)
        keyring = {name: dns.tsig.Key(name, secret, dns.tsig.HMAC_SHA256)}
        def ask(label, qname, qtype, payload=None, key=name, ring=keyring):
            q = dns.message.make_query(qname, qtype, use_edns=(0 if payload else False), payload=payload or 512)
            if key is not None:
                q.use_tsig(ring, keyname=key)
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(5)
                s.sendto(q.to_wire(), (host, port))
                wire = s.recv(65535)
            try:
                r = dns.message.from_wire(wire, keyring=ring if key is not None else None, request_mac=q.mac if key is not None else b"")
            except Exception as e:
                print(label, type(e).__name__, len(wire))
                return len(wire)
            print(label, dns.rcode.to_text(r.rcode()), "tc=%d" % (1 if r.flags & dns.flags.TC else 0), "tsig=%s" % r.had_tsig, "size=%d" % len(wire))
            return len(wire)
        ask("soa", "example.test.", "SOA", 1232)
        # An answer that fits the payload size unsigned, and not with the TSIG record: truncated, then signed.
        unsigned = ask("long-unsigned", "longtxt.example.test.", "TXT", 1232, key=None)
        payload = unsigned + 20
        print("payload", payload)
        ask("long-fits-unsigned", "longtxt.example.test.", "TXT", payload, key=None)
        ask("long-signed", "longtxt.example.test.", "TXT", payload)
        ask("long-signed-roomy", "longtxt.example.test.", "TXT", 1232)
        ask("long-no-edns", "longtxt.example.test.", "TXT")
        ask("axfr", "example.test.", "AXFR", 1232)
        other = dns.name.from_text("nobody-key")
        ask("badkey", "example.test.", "SOA", 1232, key=other, ring={other: dns.tsig.Key(other, secret, dns.tsig.HMAC_SHA256)})
        """;

    [Fact]
    public async Task Dnspython_over_UDP_verifies_every_signed_answer_and_one_too_long_comes_back_truncated_and_signed()
    {
        var result = await ExternalTool.RunAsync(DebianPython,
            ["-c", UdpScript, "127.0.0.1", fixture.Keyed.Port.ToString(CultureInfo.InvariantCulture), TransferFixture.Key.Name, TransferFixture.Key.Secret], RunTimeout);
        Assert.True(result.ExitCode == 0, result.Output);
        var lines = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(l => l.Split(' ')[0], l => l);
        int payload = int.Parse(lines["payload"].Split(' ')[1], CultureInfo.InvariantCulture);

        Assert.StartsWith("soa NOERROR tc=0 tsig=True", lines["soa"], StringComparison.Ordinal);
        Assert.StartsWith("long-fits-unsigned NOERROR tc=0 tsig=False", lines["long-fits-unsigned"], StringComparison.Ordinal);
        // RFC 8945 §5.3 with RFC 6891 §7: the TSIG record counts against the client's size; what does not fit is
        // truncated, and the truncated answer is signed, so that the client trusts the TC and retries over TCP.
        Assert.StartsWith("long-signed NOERROR tc=1 tsig=True", lines["long-signed"], StringComparison.Ordinal);
        Assert.InRange(Size(lines["long-signed"]), 12, payload);
        Assert.StartsWith("long-signed-roomy NOERROR tc=0 tsig=True", lines["long-signed-roomy"], StringComparison.Ordinal);
        Assert.StartsWith("long-no-edns NOERROR tc=1 tsig=True", lines["long-no-edns"], StringComparison.Ordinal);
        Assert.InRange(Size(lines["long-no-edns"]), 12, 512);
        // RFC 5936 §4.2: no AXFR over UDP, and the refusal is signed as any answer to a verified request.
        Assert.StartsWith("axfr REFUSED tc=0 tsig=True", lines["axfr"], StringComparison.Ordinal);
        // RFC 8945 §5.2.1: BADKEY, which dnspython reports as the peer's.
        Assert.StartsWith("badkey PeerBadKey", lines["badkey"], StringComparison.Ordinal);
    }

    /// <summary>argv: host, port, key name, secret, wrong secret, count: how many of count queries got an answer, each kind.</summary>
    private const string RateScript = """
        import sys, socket
        import dns.message, dns.name, dns.tsig, dns.flags
        host, port, keyname, secret, wrong, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
        name = dns.name.from_text(keyname)
        good = {name: dns.tsig.Key(name, secret, dns.tsig.HMAC_SHA256)}
        bad = {name: dns.tsig.Key(name, wrong, dns.tsig.HMAC_SHA256)}
        def run(label, ring):
            answered = verified = 0
            for i in range(count):
                q = dns.message.make_query("example.test.", "SOA")
                if ring is not None:
                    q.use_tsig(ring, keyname=name)
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.settimeout(0.3)
                    s.sendto(q.to_wire(), (host, port))
                    try:
                        wire = s.recv(65535)
                    except socket.timeout:
                        continue
                answered += 1
                if ring is good:
                    r = dns.message.from_wire(wire, keyring=good, request_mac=q.mac)
                    if r.had_tsig and not (r.flags & dns.flags.TC):
                        verified += 1
            print(label, answered, verified)
        run("signed", good)
        run("unsigned", None)
        run("badsig", bad)
        """;

    [Fact]
    public async Task Rate_limiting_never_limits_a_verified_signed_client_and_limits_unsigned_and_failed_ones()
    {
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(fixture.ZonesFolder,
            ["--tsig-keys", fixture.KeysFile, "--rrl-rate", "1", "--rrl-slip", "0", "--rrl-exempt", "none", "--http", $"127.0.0.1:{http}", "--no-watch"], ["127.0.0.1"]);
        const int Count = 20;
        var result = await ExternalTool.RunAsync(DebianPython,
            ["-c", RateScript, "127.0.0.1", server.Port.ToString(CultureInfo.InvariantCulture), TransferFixture.Key.Name, TransferFixture.Key.Secret, TransferFixture.WrongSecret, Count.ToString(CultureInfo.InvariantCulture)], RunTimeout);
        Assert.True(result.ExitCode == 0, result.Output);
        var counts = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToDictionary(l => l.Split(' ')[0], l => l.Split(' ')[1..].Select(int.Parse).ToArray());
        // A MAC that verifies proves the client holds the key whatever its address: every answer sent, signed.
        Assert.Equal([Count, Count], counts["signed"]);
        // The same queries unsigned, and signed with a wrong secret (NOTAUTH BADSIG, which anyone can provoke with
        // a forged source address), go through the limiter: at one a second most are dropped.
        Assert.InRange(counts["unsigned"][0], 0, Count / 2);
        Assert.InRange(counts["badsig"][0], 0, Count / 2);
    }

    /// <summary>argv: host, port, zone: an AXFR with an EXPIRE option over TCP; prints each message's EXPIRE ("-" for none), space separated.</summary>
    private const string AxfrExpireScript = """
        import sys, socket, struct
        import dns.message, dns.edns, dns.rdatatype
        host, port, zone = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        q = dns.message.make_query(zone, "AXFR", use_edns=0, options=[dns.edns.GenericOption(9, b"")])
        wire = q.to_wire()
        seen = []
        with socket.create_connection((host, port), timeout=20) as s:
            s.sendall(struct.pack("!H", len(wire)) + wire)
            def read(n):
                data = b""
                while len(data) < n:
                    chunk = s.recv(n - len(data))
                    if not chunk:
                        raise EOFError()
                    data += chunk
                return data
            soas = 0
            while soas < 2 and len(seen) < 1000:
                m = dns.message.from_wire(read(struct.unpack("!H", read(2))[0]), one_rr_per_rrset=True)
                expire = [o for o in m.options if o.otype == 9]
                seen.append(str(struct.unpack("!I", expire[0].to_wire())[0]) if expire else "-")
                soas += sum(1 for rrset in m.answer if rrset.rdtype == dns.rdatatype.SOA)
        print(" ".join(seen))
        """;

    /// <summary>"first" and "rest" forms of a per-message EXPIRE list: the first message's value, then the distinct others.</summary>
    private static string Pattern(string messages)
    {
        var values = messages.Trim().Split(' ');
        return values[0] + " then " + string.Join(",", values.Skip(1).Distinct());
    }

    [Fact]
    public async Task EXPIRE_is_the_SOA_expire_in_SOA_and_AXFR_answers_as_Knot_answers_as_a_primary()
    {
        await using var knot = await KnotServer.StartAsync(RepositoryPaths.TestZones, CancellationToken.None, allowTransfer: true);
        var us = fixture.Open.EndPoint;
        string[][] cases =
        [
            ["example.test", "SOA", "+expire", "+notcp"],
            ["example.test", "SOA", "+expire", "+tcp"],
            ["example.test", "AXFR", "+expire", "+tcp"],
            // Not asked: no option. Asked with another QTYPE, or a name below the apex, or a name outside every zone:
            // as Knot does (the option with any answer from a zone, none with REFUSED).
            ["example.test", "SOA", "+notcp"],
            ["www.example.test", "SOA", "+expire", "+notcp"],
            ["www.example.test", "A", "+expire", "+notcp"],
            ["missing.example.test", "A", "+expire", "+notcp"],
            ["example.org", "SOA", "+expire", "+notcp"],
        ];
        foreach (var arguments in cases)
        {
            var ours = await Kdig.QueryAsync(us, arguments);
            var theirs = await Kdig.QueryAsync(knot.EndPoint, arguments);
            Assert.True(ours.ExitCode == 0, ours.Output);
            Assert.True(theirs.ExitCode == 0, theirs.Output);
            Assert.True(Expire(theirs.StandardOutput) == Expire(ours.StandardOutput),
                $"kdig {string.Join(' ', arguments)}: Knot says {Expire(theirs.StandardOutput) ?? "nothing"}, we say {Expire(ours.StandardOutput) ?? "nothing"}\n{ours.StandardOutput}");
        }
        // RFC 7314 §3: a primary sends its SOA EXPIRE (1209600 in tests/zones/example.test.zone).
        var soa = await Kdig.QueryAsync(us, ["example.test", "SOA", "+expire"]);
        Assert.Equal("1209600", Expire(soa.StandardOutput));

        // kdig and dig do not print the OPT of a transfer's messages: dnspython reads each message's EXPIRE, for a
        // zone long enough to take several messages, from us and from Knot.
        string folder = Directory.CreateTempSubdirectory("anycastdns-expire-").FullName;
        try
        {
            var text = new System.Text.StringBuilder("$ORIGIN long.test.\n$TTL 300\n@ SOA ns host 7 7200 3600 864000 300\n@ NS ns\nns A 192.0.2.1\n");
            for (int i = 0; i < 6000; i++)
            {
                text.Append(CultureInfo.InvariantCulture, $"name-{i} TXT \"filler text of record {i}, so that the transfer takes several messages\"\n");
            }
            File.WriteAllText(Path.Combine(folder, "long.test.zone"), text.ToString());
            await using var knotLong = await KnotServer.StartAsync(folder, CancellationToken.None, allowTransfer: true);
            await using var usLong = await AnycastDnsServer.StartAsync(folder, ["--allow-transfer", "127.0.0.1/32", "--no-watch"], ["127.0.0.1"]);
            var ourMessages = await ExternalTool.RunAsync(DebianPython, ["-c", AxfrExpireScript, "127.0.0.1", usLong.Port.ToString(CultureInfo.InvariantCulture), "long.test."], RunTimeout);
            var knotMessages = await ExternalTool.RunAsync(DebianPython, ["-c", AxfrExpireScript, "127.0.0.1", knotLong.EndPoint.Port.ToString(CultureInfo.InvariantCulture), "long.test."], RunTimeout);
            Assert.True(ourMessages.ExitCode == 0, ourMessages.Output);
            Assert.True(knotMessages.ExitCode == 0, knotMessages.Output);
            Assert.StartsWith("864000", ourMessages.StandardOutput, StringComparison.Ordinal);
            Assert.True(ourMessages.StandardOutput.Split(' ').Length > 2, ourMessages.StandardOutput);
            // Which messages carry it, message by message, as Knot sends them (the count of messages may differ).
            Assert.Equal(Pattern(knotMessages.StandardOutput), Pattern(ourMessages.StandardOutput));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }

        // dig prints the option too, over UDP and signed.
        string port = fixture.Keyed.Port.ToString(CultureInfo.InvariantCulture);
        var dig = await Dig(port, "-y", GoodKey, "+expire", "example.test", "SOA");
        Assert.Contains("; EXPIRE: 1209600 (2 weeks)", dig.StandardOutput, StringComparison.Ordinal);
        Assert.DoesNotContain("Couldn't verify", dig.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transfers_and_signed_queries_are_counted_in_the_query_totals_once_each()
    {
        // A server of its own: the shared ones answer the other tests, and the secondaries some of them start.
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(fixture.ZonesFolder,
            ["--allow-transfer", "key:" + TransferFixture.Key.Name, "--tsig-keys", fixture.KeysFile, "--http", $"127.0.0.1:{http}", "--no-watch"], ["127.0.0.1"]);
        // The exporter caches a scrape for 300 ms: the baseline is taken after the cache has seen the start's probes.
        await Task.Delay(400);
        var before = await ScrapeAsync(http);
        string port = server.Port.ToString(CultureInfo.InvariantCulture);
        var axfr = await Dig(port, "-y", GoodKey, "example.test", "AXFR");
        Assert.Matches(@";; XFR size: \d+ records \(messages 1", axfr.StandardOutput);
        var refused = await Dig(port, "example.test", "AXFR");
        Assert.Contains("Transfer failed", refused.Output, StringComparison.Ordinal);
        // Types the server's own health probes (SOA, and CHAOS TXT) do not use.
        Assert.Contains("status: NOERROR", (await Dig(port, "-y", GoodKey, "+tcp", "example.test", "MX")).StandardOutput, StringComparison.Ordinal);
        Assert.Contains("status: NOERROR", (await Dig(port, "-y", GoodKey, "example.test", "NS")).StandardOutput, StringComparison.Ordinal);
        Assert.Contains("status: NOTAUTH", (await Dig(port, "-y", WrongKey, "example.test", "SOA")).StandardOutput, StringComparison.Ordinal);

        (string, string) tcp = ("network_transport", "tcp"), udp = ("network_transport", "udp");
        double Delta(IReadOnlyList<PrometheusSample> after, (string, string) transport, string type, string rcode) =>
            Sum(after, transport, type, rcode) - Sum(before, transport, type, rcode);
        // The exporter caches a scrape for 300 ms: wait for one taken after the last query.
        var after = await ScrapeAsync(http);
        for (int i = 0; i < 50 && Delta(after, udp, "SOA", "NOTAUTH") == 0; i++)
        {
            await Task.Delay(100);
            after = await ScrapeAsync(http);
        }
        Assert.Equal(1, Delta(after, tcp, "AXFR", "NOERROR"));
        Assert.Equal(1, Delta(after, tcp, "AXFR", "REFUSED"));
        Assert.Equal(1, Delta(after, tcp, "MX", "NOERROR"));
        Assert.Equal(1, Delta(after, udp, "NS", "NOERROR"));
        Assert.Equal(1, Delta(after, udp, "SOA", "NOTAUTH"));
    }

    /// <summary>The queries counted with these labels (over both address families; 0 before the first).</summary>
    private static double Sum(IReadOnlyList<PrometheusSample> samples, (string, string) transport, string type, string rcode) =>
        samples.Where(s => s.Name == "anycastdns_queries_total" && s.Has(transport, ("dns_question_type", type), ("dns_response_code", rcode))).Sum(s => s.Value);

    private static string? Expire(string output)
    {
        var match = ExpirePattern().Match(output);
        return match.Success ? match.Groups[1].Value : null;
    }

    [GeneratedRegex(@"EXPIRE: (\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex ExpirePattern();

    private static int Size(string line) => int.Parse(line[(line.LastIndexOf("size=", StringComparison.Ordinal) + 5)..], CultureInfo.InvariantCulture);

    private static Task<ToolResult> Dig(string port, params string[] arguments) =>
        ExternalTool.RunAsync(DigPath, ["@127.0.0.1", "-p", port, "+time=3", "+tries=1", .. arguments], RunTimeout);

    private static async Task<IReadOnlyList<PrometheusSample>> ScrapeAsync(int http)
    {
        using var client = new HttpClient { Timeout = Timeout };
        return await PrometheusText.ParseAsync(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics")));
    }
}
