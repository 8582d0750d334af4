using System.Globalization;
using System.Text.Json;
using AnycastDns.Integration.Tests.Telemetry;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// Response rate limiting and DNS cookies as a client sees them, on the real server over loopback: bursts sent by
/// dnspython, every reply sorted into answered, slipped (TC, RFC 5452 §9.2-style truncated reply), BADCOOKIE or never
/// sent. Loopback is exempt by default, so these servers run with <c>--rrl-exempt none</c>.
/// </summary>
public class RateLimitingTests
{
    private const string DebianPython = "/usr/bin/python3";

    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Responses a bucket may get each second in these tests; a burst of <see cref="Burst"/> is far over it.</summary>
    private const int Rate = 20;

    private const int Burst = 200;

    /// <summary>
    /// argv: host, port, phases (JSON list). Each phase sends <c>count</c> queries for <c>names</c> (round robin,
    /// <c>{i}</c> replaced by the query's number) as fast as one socket can, then reads replies for up to 2 s and
    /// prints, per phase: answered (records in answer or authority, no TC; <c>type</c> may be a comma-separated list,
    /// used round robin), slipped (TC, no records), badcookie, other, dropped (no reply).
    /// <c>cookie</c>: none, client (a client cookie alone), valid (the server cookie one query earned), stale (zeros).
    /// With <c>tcp</c> the queries go one by one over TCP.
    /// </summary>
    private const string BurstScript = """
        import json, socket, sys, time
        import dns.edns, dns.flags, dns.message, dns.query, dns.rcode
        host, port, phases = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
        CLIENT = bytes.fromhex("0102030405060708")

        def cookie_of(response):
            for o in response.options:
                if o.otype == dns.edns.COOKIE:
                    return o.to_wire()
            return b""

        def query(name, rdtype, cookie, qid):
            options = [] if cookie is None else [dns.edns.GenericOption(dns.edns.COOKIE, cookie)]
            q = dns.message.make_query(name, rdtype, use_edns=0, options=options)
            q.id = qid
            return q

        def classify(tally, r):
            if r.rcode() == dns.rcode.BADCOOKIE:
                tally["badcookie"] += 1
                tally["server_cookie_lengths"].add(len(cookie_of(r)) - 8)
            elif r.flags & dns.flags.TC and not r.answer and not r.authority and r.flags & dns.flags.AA:
                tally["slipped"] += 1
            elif not r.flags & dns.flags.TC and (r.answer or r.authority):
                tally["answered"] += 1
            else:
                tally["other"] += 1

        out = {}
        for p in phases:
            cookie = None
            if p["cookie"] == "client":
                cookie = CLIENT
            elif p["cookie"] == "stale":
                cookie = CLIENT + bytes(16)
            elif p["cookie"] == "valid":
                first = dns.query.tcp(query("example.test", "SOA", CLIENT, 1), host, port=port, timeout=5)
                cookie = cookie_of(first)
                assert len(cookie) == 24, cookie
            tally = {"answered": 0, "slipped": 0, "badcookie": 0, "other": 0, "server_cookie_lengths": set()}
            types = p["type"].split(",")
            names = [n.replace("{i}", str(i)) for i, n in enumerate(p["names"] * ((p["count"] // len(p["names"])) + 1))][: p["count"]]
            if p.get("tcp"):
                for i, name in enumerate(names):
                    classify(tally, dns.query.tcp(query(name, types[i % len(types)], cookie, i), host, port=port, timeout=5))
                received = p["count"]
            else:
                s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 21)
                s.connect((host, port))
                for i, name in enumerate(names):
                    s.send(query(name, types[i % len(types)], cookie, i).to_wire())
                seen = set()
                s.settimeout(0.25)
                deadline = time.time() + 2
                while len(seen) < p["count"] and time.time() < deadline:
                    try:
                        r = dns.message.from_wire(s.recv(65535))
                    except socket.timeout:
                        continue
                    if r.id in seen:
                        continue
                    seen.add(r.id)
                    classify(tally, r)
                received = len(seen)
                s.close()
            tally["dropped"] = p["count"] - received
            tally["server_cookie_lengths"] = sorted(tally["server_cookie_lengths"])
            out[p["name"]] = tally
        print(json.dumps(out))
        """;

    private sealed record Phase(string Name, string[] Names, string Type = "A", int Count = Burst, string Cookie = "none", bool Tcp = false);

    private sealed record Tally(int Answered, int Slipped, int BadCookie, int Other, int Dropped, int[] ServerCookieLengths)
    {
        public int Limited => Slipped + BadCookie + Dropped;
    }

    private static async Task<Dictionary<string, Tally>> BurstAsync(AnycastDnsServer server, params Phase[] phases)
    {
        ExternalTool.RequireInstalled(DebianPython, "python3-dnspython");
        string spec = JsonSerializer.Serialize(phases.Select(p => new { name = p.Name, names = p.Names, type = p.Type, count = p.Count, cookie = p.Cookie, tcp = p.Tcp }));
        var result = await ExternalTool.RunAsync(DebianPython, ["-c", BurstScript, "127.0.0.1", server.Port.ToString(CultureInfo.InvariantCulture), spec], RunTimeout);
        Assert.True(result.ExitCode == 0, result.Output);
        var json = JsonDocument.Parse(result.StandardOutput).RootElement;
        return phases.ToDictionary(p => p.Name, p =>
        {
            var t = json.GetProperty(p.Name);
            return new Tally(
                t.GetProperty("answered").GetInt32(), t.GetProperty("slipped").GetInt32(), t.GetProperty("badcookie").GetInt32(),
                t.GetProperty("other").GetInt32(), t.GetProperty("dropped").GetInt32(),
                [.. t.GetProperty("server_cookie_lengths").EnumerateArray().Select(e => e.GetInt32())]);
        });
    }

    private static Task<AnycastDnsServer> StartAsync(params string[] arguments) =>
        AnycastDnsServer.StartAsync(RepositoryPaths.TestZones,
            ["--rrl-rate", Rate.ToString(CultureInfo.InvariantCulture), "--rrl-exempt", "none", .. arguments], ["127.0.0.1"]);

    /// <summary>
    /// A bucket starts with one second's worth of responses and earns <see cref="Rate"/> a second; the burst takes well
    /// under a second to send, so about <see cref="Rate"/> are answered (a few more if the sender is slow).
    /// </summary>
    private static void AssertAboutOneSecondAnswered(Tally tally, string what) =>
        Assert.True(tally.Answered >= Rate && tally.Answered <= Rate + 10 && tally.Other == 0, $"{what}: {tally}");

    [Fact]
    public async Task A_flood_gets_one_seconds_worth_then_every_second_limited_reply_slips_and_metrics_and_log_agree()
    {
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await StartAsync("--http", $"127.0.0.1:{http}");

        var tally = (await BurstAsync(server, new Phase("flood", ["www.example.test"])))["flood"];
        AssertAboutOneSecondAnswered(tally, "flood");
        Assert.Equal(Burst, tally.Answered + tally.Limited);
        // Slip 2 (the default): the 2nd, 4th, ... limited responses go out truncated, the others not at all.
        Assert.InRange(tally.Slipped, tally.Limited / 2 - 1, tally.Limited / 2 + 1);
        Assert.Equal(0, tally.BadCookie);

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var samples = await PrometheusText.ParseAsync(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics")));
        Assert.Equal(tally.Dropped, samples.Value("anycastdns_rrl_responses_total", ("action", "dropped")));
        Assert.Equal(tally.Slipped, samples.Value("anycastdns_rrl_responses_total", ("action", "slipped")));

        // One line when 127.0.0.0/24 starts being limited, not one per query (the sweep runs each second).
        Assert.True(await server.WaitForLogAsync("rrl: limiting responses to 127.0.0.0/24", TimeSpan.FromSeconds(5)), server.Log);
        Assert.Equal(1, Occurrences(server.Log, "rrl: limiting responses"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public async Task Slip_0_drops_every_limited_response_and_slip_1_truncates_every_one(int slip)
    {
        await using var server = await StartAsync("--rrl-slip", slip.ToString(CultureInfo.InvariantCulture));
        var tally = (await BurstAsync(server, new Phase("flood", ["www.example.test"])))["flood"];
        AssertAboutOneSecondAnswered(tally, "flood");
        Assert.Equal(slip == 0 ? 0 : Burst - tally.Answered, tally.Slipped);
        Assert.Equal(slip == 0 ? Burst - tally.Answered : 0, tally.Dropped);
    }

    [Fact]
    public async Task Loopback_is_exempt_by_default()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--rrl-rate", "20"], ["127.0.0.1"]);
        var tally = (await BurstAsync(server, new Phase("flood", ["www.example.test"])))["flood"];
        Assert.Equal(Burst, tally.Answered);
    }

    [Fact]
    public async Task Rate_0_turns_it_off()
    {
        await using var server = await AnycastDnsServer.StartAsync(RepositoryPaths.TestZones, ["--rrl-rate", "0", "--rrl-exempt", "none"], ["127.0.0.1"]);
        var tally = (await BurstAsync(server, new Phase("flood", ["www.example.test"])))["flood"];
        Assert.Equal(Burst, tally.Answered);
    }

    [Fact]
    public async Task Buckets_are_per_name_and_type_an_nxdomain_flood_is_one_bucket_per_zone_and_tcp_is_never_limited()
    {
        await using var server = await StartAsync();
        var tallies = await BurstAsync(server,
            new Phase("www", ["www.example.test"]),
            // Random names under one zone: every NXDOMAIN is keyed by the zone (RFC-less but as BIND and NSD do), so
            // a random-subdomain flood cannot earn a fresh bucket per name.
            new Phase("nxdomain", ["r{i}.example.test"]),
            // NODATA is keyed by the name alone: asking for every type www lacks is still one bucket.
            new Phase("nodata", ["www.example.test"], Type: "MX,SRV,CAA,NAPTR,LOC"),
            // Another name and type: a separate bucket, still fully served.
            new Phase("mail", ["mail.example.test"], Type: "AAAA", Count: Rate),
            // After all that, TCP (which proves the address) is answered in full.
            new Phase("tcp", ["www.example.test"], Count: 30, Tcp: true));

        AssertAboutOneSecondAnswered(tallies["www"], "www");
        AssertAboutOneSecondAnswered(tallies["nxdomain"], "nxdomain");
        AssertAboutOneSecondAnswered(tallies["nodata"], "nodata");
        Assert.Equal(Rate, tallies["mail"].Answered);
        Assert.Equal(30, tallies["tcp"].Answered);
    }

    [Fact]
    public async Task A_valid_cookie_is_never_limited_and_a_client_cookie_alone_slips_as_badcookie_with_a_cookie_to_retry_with()
    {
        await using var server = await StartAsync();
        var tallies = await BurstAsync(server,
            new Phase("valid", ["www.example.test"], Cookie: "valid"),
            new Phase("client", ["mail.example.test"], Cookie: "client"),
            new Phase("stale", ["ns1.example.test"], Cookie: "stale"));

        Assert.Equal(Burst, tallies["valid"].Answered);

        // RFC 7873 §5.2.3: a client cookie alone may be answered BADCOOKIE with a server cookie; the resolver then
        // retries with it, and that retry is valid, so it is answered (the "valid" phase shows it is never limited).
        foreach (var name in new[] { "client", "stale" })
        {
            var tally = tallies[name];
            AssertAboutOneSecondAnswered(tally, name);
            Assert.Equal(0, tally.Slipped);
            Assert.InRange(tally.BadCookie, tally.Limited / 2 - 1, tally.Limited / 2 + 1);
            Assert.Equal([16], tally.ServerCookieLengths);
        }
    }

    private static int Occurrences(string text, string what)
    {
        int count = 0;
        for (int at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }
}
