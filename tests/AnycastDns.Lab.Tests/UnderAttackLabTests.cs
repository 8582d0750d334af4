using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using AnycastDns.TestSupport;
using AnycastDns.TestSupport.Lab;
using Xunit.Abstractions;

namespace AnycastDns.Lab.Tests;

/// <summary>
/// Issue 13's lab proof, in the anycast lab (<see cref="AnycastLab"/>: two PoPs with anycastdns, BIRD 2 and the
/// watchdog announcing 198.19.53.53/32 to a router that spreads flows over both): response rate limiting against a
/// spoofed reflection attack, counted where the reflected packets land, and a DNS cookie earned at one PoP and
/// honoured at the other after the first drained. Each test builds its own lab and tears it down, by PID and by
/// namespace name, whatever happened.
/// </summary>
public sealed class UnderAttackLabTests(ITestOutputHelper output)
{
    /// <summary>Longer than the Prometheus exporter's scrape cache (300 ms), so that a scrape after traffic counts it.</summary>
    private static readonly TimeSpan ScrapeCache = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(90);

    private static readonly TimeSpan AnnounceTimeout = TimeSpan.FromSeconds(10);

    private const string RrlResponses = "anycastdns_rrl_responses_total";

    private const string CookieQueries = "anycastdns_cookie_queries_total";

    // --- the reflection attack ---------------------------------------------------------------------------------

    /// <summary>Responses a second per bucket at each PoP: low, so that a few seconds of flood are far over it.</summary>
    private const int Rate = 50;

    /// <summary>The server's default: every second limited response goes out as a small TC answer.</summary>
    private const int Slip = 2;

    private const int FloodPerSecond = 3000;

    private static readonly TimeSpan FloodLength = TimeSpan.FromSeconds(4);

    /// <summary>The victim: a /24 behind the router, routed to a namespace of its own, where the reflection is counted.</summary>
    private static readonly IPNetwork Victim = IPNetwork.Parse("198.18.50.0/24");

    private const int AttackerSubnet = 4;

    private const int VictimSubnet = 5;

    /// <summary>
    /// The amplifier's favourite: an MX RRset with its RRSIG and signed addresses of every exchange, 847 octets of DNS
    /// for a 44-octet query with EDNS 4096 and DO (tests/zones-dnssec, signed per run).
    /// </summary>
    private const string AttackName = "bigmx.nsec.test.";

    private const string AttackType = "MX";

    /// <summary>The resolver: 200 queries at 40 a second for the very name under attack, below the rate even if ECMP sent every one to one PoP.</summary>
    private const int ResolverQueries = 200;

    private static readonly TimeSpan ResolverInterval = TimeSpan.FromMilliseconds(25);

    /// <summary>After the last spoofed query, how long the reflections still in flight get to land before the counters are read.</summary>
    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(750);

    [Fact]
    public async Task A_spoofed_flood_reflects_at_most_the_rate_to_the_victim_and_a_resolver_elsewhere_gets_every_answer()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var signed = await SignedTestZones.GetAsync();
        // Loopback stays exempt (the default); no lab address is.
        await using var lab = await AnycastLab.StartAsync(_ => signed.Folder, ["--rrl-rate", Rate.ToString(CultureInfo.InvariantCulture)], timeout.Token);
        var attacker = await lab.AttachAsync("attacker", AttackerSubnet, timeout.Token);
        var victim = await lab.AttachAsync("victim", VictimSubnet, timeout.Token);
        await lab.Router.AddRouteAsync(Victim.ToString(), $"198.18.{VictimSubnet}.1", timeout.Token);
        await RequirePathsAsync(lab, ["pop1", "pop2"], timeout.Token);

        var before = await RateLimitedAsync(lab, timeout.Token);
        await using var capture = await ResponseCapture.StartAsync(victim, AnycastLab.UpstreamInterface, AnycastLab.Anycast, TimeSpan.FromSeconds(60), timeout.Token);
        var attackerLink = await lab.Router.LinkCountersAsync("attacker", timeout.Token);
        var victimLink = await lab.Router.LinkCountersAsync("victim", timeout.Token);

        // The resolver from its own prefix (the client, 198.18.3.0/24), all along the flood.
        await using var resolver = ResolverLoad.Start(lab.Client, AnycastLab.Anycast, [$"{AnswerName}/{AttackType}"], ResolverQueries, ResolverInterval, TimeSpan.FromSeconds(1), tries: 3);
        var flood = await SpoofedQueryFlood.RunAsync(attacker, AnycastLab.Anycast, Victim, AttackName, AttackType, 4096, FloodPerSecond, FloodLength, timeout.Token);
        await Task.Delay(Settle, timeout.Token);
        var fromAttacker = (await lab.Router.LinkCountersAsync("attacker", timeout.Token)).Since(attackerLink);
        var towardVictim = (await lab.Router.LinkCountersAsync("victim", timeout.Token)).Since(victimLink);
        var seen = await capture.StopAsync();
        var resolved = await resolver.CompleteAsync();
        var after = await RateLimitedAsync(lab, timeout.Token);

        var limited = after.Select((a, i) => (Dropped: a.Dropped - before[i].Dropped, Slipped: a.Slipped - before[i].Slipped)).ToList();
        long slipped = limited.Sum(l => l.Slipped);
        long dropped = limited.Sum(l => l.Dropped);
        output.WriteLine($"attacker: {flood}");
        output.WriteLine($"router, from the attacker: {fromAttacker.ReceivedFrames} frames, {fromAttacker.ReceivedOctets} octets; toward the victim: {towardVictim.SentFrames} frames, {towardVictim.SentOctets} octets"
            + $" ({(double)towardVictim.SentOctets / Math.Max(1, fromAttacker.ReceivedOctets):0.00} octets out per octet in)");
        output.WriteLine($"victim capture: {seen}");
        output.WriteLine(string.Join("; ", lab.Pops.Select((p, i) => $"{p.Name}: {limited[i].Dropped} dropped, {limited[i].Slipped} slipped")));
        output.WriteLine($"resolver ({AnycastLab.ClientAddress}, {AnswerName} {AttackType} every {ResolverInterval.TotalMilliseconds} ms): {resolved}");

        // The attack happened as planned, and reached the router.
        long planned = (long)(FloodPerSecond * FloodLength.TotalSeconds);
        Assert.True(flood.Sent >= planned * 95 / 100 && flood.Failed == 0, $"the flood sent {flood.Sent} of {planned}: {flood}");
        Assert.True(fromAttacker.ReceivedFrames >= flood.Sent, $"the router got {fromAttacker.ReceivedFrames} frames of {flood.Sent} sent");
        // The capture missed nothing: the kernel dropped none for it, and it saw every frame the router sent its way.
        Assert.Equal(0, seen.KernelDropped);
        Assert.True(seen.Frames + seen.OtherFrames >= towardVictim.SentFrames, $"the capture saw {seen.Frames + seen.OtherFrames} frames, the router sent {towardVictim.SentFrames}");
        Assert.Equal(0, seen.OtherResponses);

        // What reached the victim: no more full answers than each PoP's rate over the flood plus one second's
        // balance, and besides them only the slips each PoP counted, every one a TC answer without records.
        double bound = lab.Pops.Count * Rate * (flood.Seconds + 1);
        Assert.True(seen.Answers <= bound, $"the victim got {seen.Answers} full answers, more than {lab.Pops.Count} PoPs × {Rate}/s × {flood.Seconds + 1:0.00} s = {bound:0}");
        Assert.True(seen.Truncated <= slipped, $"the victim got {seen.Truncated} truncated answers, the PoPs say they slipped {slipped}");
        Assert.True(seen.Responses <= bound + slipped, $"the victim got {seen.Responses} responses, more than {bound:0} + {slipped} slipped");
        // The limiting was RRL's doing: the PoPs dropped or slipped nearly all the rest, about one in Slip slipped.
        Assert.True(dropped + slipped + seen.Answers >= flood.Sent * 90 / 100, $"{dropped} dropped + {slipped} slipped + {seen.Answers} answered of {flood.Sent} spoofed queries");
        Assert.InRange(slipped, (dropped + slipped) / Slip - lab.Pops.Count, (dropped + slipped) / Slip + lab.Pops.Count);
        // No amplification: fewer octets left toward the victim than the attacker sent in (Ethernet headers both ways).
        Assert.True(towardVictim.SentOctets <= fromAttacker.ReceivedOctets,
            $"{towardVictim.SentOctets} octets toward the victim, more than the {fromAttacker.ReceivedOctets} the attacker sent");

        // The resolver in another prefix, asking the same question all along, got every answer, none truncated.
        Assert.True(resolved.Queries == ResolverQueries && resolved.Answered == ResolverQueries, $"resolver: {resolved}");
        Assert.Equal(0, resolved.Truncated);
    }

    /// <summary>The name the resolver asks: the one under attack, so only the prefix tells its buckets apart.</summary>
    private const string AnswerName = AttackName;

    /// <summary>Dropped and slipped responses so far at each PoP, from its /metrics.</summary>
    private static async Task<List<(long Dropped, long Slipped)>> RateLimitedAsync(AnycastLab lab, CancellationToken cancellationToken)
    {
        var counts = new List<(long, long)>();
        foreach (var pop in lab.Pops)
        {
            string metrics = await pop.MetricsAsync(cancellationToken);
            counts.Add(((long)PrometheusText.Sum(metrics, RrlResponses, ("action", "dropped")), (long)PrometheusText.Sum(metrics, RrlResponses, ("action", "slipped"))));
        }
        return counts;
    }

    // --- cookies across PoPs -----------------------------------------------------------------------------------

    /// <summary>Low, so that a burst of <see cref="Burst"/> without a valid cookie is limited, one with it is not.</summary>
    private const int CookieRate = 10;

    private const int Burst = 60;

    /// <summary>
    /// dnspython as a client that keeps its cookie: each query from one fixed source port (so one flow, one path through
    /// the router's ECMP hash) with EDNS0, a COOKIE option and an empty NSID option (RFC 5001: the PoP names itself).
    /// <c>find</c> tries ports until a PoP named as asked answers, and prints the port and the cookie it gave;
    /// <c>burst</c> sends a number of queries at once from a port and tallies the answers.
    /// </summary>
    private const string CookieClient = """
        import json, socket, sys, time
        import dns.edns, dns.flags, dns.message, dns.rcode, dns.rdatatype

        def query(name, rdtype, cookie, qid):
            q = dns.message.make_query(name, dns.rdatatype.from_text(rdtype), use_edns=0, payload=1232,
                                       options=[dns.edns.GenericOption(dns.edns.COOKIE, cookie), dns.edns.GenericOption(dns.edns.NSID, b"")])
            q.id = qid
            return q

        def option(response, code):
            for o in response.options:
                if o.otype == code:
                    return o.data
            return None

        def bound(port):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("0.0.0.0", port))
            s.connect((target, 53))
            return s

        mode, target = sys.argv[1], sys.argv[2]
        if mode == "find":
            cookie, want, first, ports = bytes.fromhex(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
            seen = []
            for port in range(first, first + ports):
                with bound(port) as s:
                    s.settimeout(1)
                    s.send(query("example.com.", "SOA", cookie, port).to_wire())
                    try:
                        r = dns.message.from_wire(s.recv(65535))
                    except socket.timeout:
                        seen.append("%d: timeout" % port)
                        continue
                nsid = (option(r, dns.edns.NSID) or b"").decode()
                seen.append("%d: %s" % (port, nsid))
                if nsid == want:
                    print(json.dumps({"port": port, "cookie": (option(r, dns.edns.COOKIE) or b"").hex(),
                                      "rcode": dns.rcode.to_text(r.rcode()), "seen": seen}))
                    sys.exit(0)
            print(json.dumps({"port": None, "seen": seen}))
        elif mode == "burst":
            port, cookie, count, name, rdtype = int(sys.argv[3]), bytes.fromhex(sys.argv[4]), int(sys.argv[5]), sys.argv[6], sys.argv[7]
            tally = {"answered": 0, "badcookie": 0, "truncated": 0, "other": 0, "unanswered": 0, "pops": [], "cookies": []}
            with bound(port) as s:
                for i in range(count):
                    s.send(query(name, rdtype, cookie, i).to_wire())
                waiting = set(range(count))
                end = time.monotonic() + 2
                while waiting and time.monotonic() < end:
                    s.settimeout(max(0.01, end - time.monotonic()))
                    try:
                        r = dns.message.from_wire(s.recv(65535))
                    except socket.timeout:
                        break
                    if r.id not in waiting:
                        continue
                    waiting.discard(r.id)
                    if r.rcode() == dns.rcode.BADCOOKIE:
                        tally["badcookie"] += 1
                    elif r.flags & dns.flags.TC:
                        tally["truncated"] += 1
                    elif r.rcode() == dns.rcode.NOERROR and r.answer:
                        tally["answered"] += 1
                    else:
                        tally["other"] += 1
                    nsid = (option(r, dns.edns.NSID) or b"").decode()
                    echoed = (option(r, dns.edns.COOKIE) or b"").hex()
                    if nsid not in tally["pops"]:
                        tally["pops"].append(nsid)
                    if echoed not in tally["cookies"]:
                        tally["cookies"].append(echoed)
            tally["unanswered"] = len(waiting)
            print(json.dumps(tally))
        """;

    private const int FirstPort = 41000;

    private const int PortsToTry = 64;

    [Fact]
    public async Task A_cookie_from_pop1_is_valid_at_pop2_after_pop1_drains_and_is_never_rate_limited_there()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        string secrets = Directory.CreateTempSubdirectory("anycastdns-lab-cookies-").FullName;
        try
        {
            // One secret for the whole anycast set (RFC 9018 §4.3), in one file both PoPs read.
            string secretFile = Path.Combine(secrets, "cookie-secrets.txt");
            File.WriteAllText(secretFile, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)) + "\n");
            await using var lab = await AnycastLab.StartAsync(null,
                ["--cookie-secret-file", secretFile, "--rrl-rate", CookieRate.ToString(CultureInfo.InvariantCulture)], timeout.Token);
            await RequirePathsAsync(lab, ["pop1", "pop2"], timeout.Token);
            string clientCookie = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

            // A flow the router hashes to pop1: its answer carries pop1's server cookie.
            using var found = JsonDocument.Parse(await CookieClientAsync(lab, ["find", AnycastLab.AnycastAddress, clientCookie, "pop1", Str(FirstPort), Str(PortsToTry)], timeout.Token));
            var foundRoot = found.RootElement;
            Assert.True(foundRoot.GetProperty("port").ValueKind == JsonValueKind.Number, $"no port of {PortsToTry} reached pop1: {foundRoot}");
            int port = foundRoot.GetProperty("port").GetInt32();
            string cookie = foundRoot.GetProperty("cookie").GetString()!;
            Assert.Equal("NOERROR", foundRoot.GetProperty("rcode").GetString());
            // RFC 9018 §4.2: the client cookie, then version 1, three reserved octets, a timestamp and a hash.
            Assert.Matches($"^{clientCookie}01000000[0-9a-f]{{24}}$", cookie);
            output.WriteLine($"port {port} reaches pop1 ({foundRoot.GetProperty("seen")}); pop1's cookie {cookie}");

            // pop1 drains: BIRD withdraws its route, and the same flow now ends at pop2.
            var drain = await lab.Pop1.AnycastdnsAsync(["drain", "--http", lab.Pop1.HttpAddress], timeout.Token);
            Assert.True(drain.ExitCode == 0, drain.Output);
            await RequirePathsAsync(lab, ["pop2"], timeout.Token);
            string pop2Before = await lab.Pop2.MetricsAsync(timeout.Token);

            // A burst far over pop2's rate, every query with pop1's cookie: each verifies at pop2 (valid), comes back
            // unchanged (younger than 30 minutes, RFC 9018 §4.3) and is answered, none limited.
            var valid = await BurstAsync(lab, port, cookie, timeout.Token);
            // The Prometheus exporter serves a scrape from its cache for 300 ms (ScrapeResponseCacheDurationMilliseconds):
            // a burst shorter than that would not show yet.
            await Task.Delay(ScrapeCache, timeout.Token);
            string pop2Middle = await lab.Pop2.MetricsAsync(timeout.Token);
            // The same burst with the client cookie alone: the rate limit holds for it, slipping BADCOOKIE with a fresh cookie.
            var clientOnly = await BurstAsync(lab, port, clientCookie, timeout.Token);
            await Task.Delay(ScrapeCache, timeout.Token);
            string pop2After = await lab.Pop2.MetricsAsync(timeout.Token);
            output.WriteLine($"after the drain, {Burst} queries at once with pop1's cookie: {valid}");
            output.WriteLine($"the same with the client cookie alone: {clientOnly}");

            double Delta(string from, string to, string metric, params (string, string)[] labels) =>
                PrometheusText.Sum(to, metric, labels) - PrometheusText.Sum(from, metric, labels);
            double validAtPop2 = Delta(pop2Before, pop2Middle, CookieQueries, ("state", "valid"));
            double invalidAtPop2 = Delta(pop2Before, pop2Middle, CookieQueries, ("state", "invalid"));
            double limitedWithCookie = Delta(pop2Before, pop2Middle, RrlResponses, ("action", "dropped")) + Delta(pop2Before, pop2Middle, RrlResponses, ("action", "slipped"));
            double limitedWithout = Delta(pop2Middle, pop2After, RrlResponses, ("action", "dropped")) + Delta(pop2Middle, pop2After, RrlResponses, ("action", "slipped"));
            output.WriteLine($"pop2 /metrics: cookie valid +{validAtPop2}, invalid +{invalidAtPop2}, rrl limited +{limitedWithCookie} with the cookie, +{limitedWithout} without");

            Assert.Equal(["pop2"], valid.Pops);
            Assert.Equal([cookie], valid.Cookies);
            Assert.True(valid.Answered == Burst, $"with pop1's cookie at pop2: {valid}");
            Assert.Equal(Burst, validAtPop2);
            Assert.Equal(0, invalidAtPop2);
            Assert.Equal(0, limitedWithCookie);

            Assert.Equal(["pop2"], clientOnly.Pops);
            Assert.True(clientOnly.Answered <= CookieRate + 1 && clientOnly.BadCookie > 0, $"with the client cookie alone at pop2: {clientOnly}");
            Assert.True(limitedWithout >= Burst - CookieRate - 1, $"pop2 limited {limitedWithout} of {Burst}");
        }
        finally
        {
            Directory.Delete(secrets, recursive: true);
        }
    }

    private sealed record BurstTally(int Answered, int BadCookie, int Truncated, int Other, int Unanswered, IReadOnlyList<string> Pops, IReadOnlyList<string> Cookies)
    {
        public override string ToString() =>
            $"{Answered} answered, {BadCookie} BADCOOKIE, {Truncated} TC, {Other} other, {Unanswered} unanswered; from [{string.Join(", ", Pops)}]; cookies back [{string.Join(", ", Cookies)}]";
    }

    /// <summary><see cref="Burst"/> queries for www.example.com A at once from <paramref name="port"/> with <paramref name="cookie"/>, tallied.</summary>
    private static async Task<BurstTally> BurstAsync(AnycastLab lab, int port, string cookie, CancellationToken cancellationToken)
    {
        using var json = JsonDocument.Parse(await CookieClientAsync(lab, ["burst", AnycastLab.AnycastAddress, Str(port), cookie, Str(Burst), "www.example.com.", "A"], cancellationToken));
        var o = json.RootElement;
        return new BurstTally(o.GetProperty("answered").GetInt32(), o.GetProperty("badcookie").GetInt32(), o.GetProperty("truncated").GetInt32(),
            o.GetProperty("other").GetInt32(), o.GetProperty("unanswered").GetInt32(),
            [.. o.GetProperty("pops").EnumerateArray().Select(p => p.GetString()!)], [.. o.GetProperty("cookies").EnumerateArray().Select(c => c.GetString()!)]);
    }

    private static async Task<string> CookieClientAsync(AnycastLab lab, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        ExternalTool.RequireInstalled(QueryStream.Python, "python3-dnspython");
        var result = await lab.Client.RunAsync(QueryStream.Python, ["-c", CookieClient, .. arguments], TimeSpan.FromSeconds(PortsToTry + 30), cancellationToken);
        Assert.True(result.ExitCode == 0, $"cookie client: exit {result.ExitCode}: {result.Output}");
        return result.StandardOutput.Trim();
    }

    private static string Str(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Waits until the router forwards the anycast address to exactly <paramref name="pops"/>, or fails with the route and every log.</summary>
    private static async Task RequirePathsAsync(AnycastLab lab, string[] pops, CancellationToken cancellationToken)
    {
        if (await lab.WaitForPathsAsync(pops, AnnounceTimeout, cancellationToken) is null)
        {
            Assert.Fail($"after {AnnounceTimeout.TotalSeconds} s the router does not forward {AnycastLab.AnycastAddress} to exactly [{string.Join(", ", pops)}]: "
                + $"'{(await lab.RouterKernelRouteAsync(cancellationToken)).Trim()}'\n{lab.Logs}");
        }
    }
}
