using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using AnycastDns.TestSupport;
using AnycastDns.TestSupport.Lab;
using Xunit.Abstractions;

namespace AnycastDns.Lab.Tests;

/// <summary>
/// Issue 16's expiry in the anycast lab: both PoPs are secondaries of Knot DNS, a hidden primary behind the router
/// (its own namespace, 198.18.4.1), for a zone with short SOA timers. pop1 loses its way to the primary; it serves the
/// zone until the SOA EXPIRE, and its route leaves the router shortly before (RFC 1034 §4.3.5: an expired zone is not
/// served; the fleet's other PoPs are current; the PoP withdraws before it stops answering) while pop2, which still reaches the primary, stays announced and answers the
/// anycast address throughout. With the way back, the next refresh succeeds and pop1 is announced again.
/// </summary>
public sealed partial class SecondaryExpiryLabTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Origin = "secondary.test.";

    private const string Www = "www." + Origin;

    private const string WwwAddress = "192.0.2.1";

    /// <summary>SOA REFRESH 2 s, RETRY 1 s, EXPIRE 8 s: pop1 serves 6 to 8 s after it loses the primary (no floor on these in SecondaryZones).</summary>
    private const int Refresh = 2;

    private const int Retry = 1;

    private const int Expire = 8;

    /// <summary>The primary's namespace hangs off the router on subnet 4: it is 198.18.4.1, the router 198.18.4.2.</summary>
    private const int PrimarySubnet = 4;

    private static readonly IPAddress PrimaryAddress = IPAddress.Parse("198.18.4.1");

    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(90);

    /// <summary>From the servers' start to the zone transferred and both routes at the router (three good self-checks a second apart).</summary>
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Slack past the expiry for the sampling loop (each look is two kdig runs and a BIRD route read).</summary>
    private static readonly TimeSpan WithdrawBound = TimeSpan.FromSeconds(3);

    /// <summary>From the way back to the route back: a retry (1 s), then three good self-checks a second apart.</summary>
    private static readonly TimeSpan ReannounceBound = TimeSpan.FromSeconds(8);

    private static readonly TimeSpan SampleInterval = TimeSpan.FromMilliseconds(200);

    private string _zones = "";

    public Task InitializeAsync()
    {
        _zones = Directory.CreateTempSubdirectory("anycastdns-lab-primary-zones-").FullName;
        File.WriteAllText(Path.Combine(_zones, Origin + "zone"), $"""
            $ORIGIN {Origin}
            $TTL 60
            @ IN SOA ns1 hostmaster 1 {Refresh} {Retry} {Expire} 60
            @ IN NS ns1
            ns1 IN A 192.0.2.53
            www IN A {WwwAddress}

            """);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_zones, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task SecondaryExpiry_a_pop_cut_off_from_its_primary_serves_until_expire_then_withdraws_and_returns_after_a_refresh_while_the_other_stays()
    {
        using var timeout = new CancellationTokenSource(TestTimeout);
        var total = Stopwatch.StartNew();
        // Each PoP keeps its transferred versions in its own working directory ("secondary", a relative path); the
        // example zones beside the secondary zone keep the snapshot non-empty, so only the expiry can make pop1 unhealthy.
        string[] serverArguments =
        [
            "--secondary-zone", $"{Origin} {PrimaryAddress}:53",
            "--secondary-state", "secondary",
            "--secondary-transfer-timeout", "2",
        ];
        KnotPrimary? primary = null;
        await using var lab = await AnycastLab.StartAsync(null, serverArguments, async (built, token) =>
        {
            // The primary is up before the servers start, as in a deployment: their first refresh finds it.
            var space = await built.AttachAsync("primary", PrimarySubnet, token);
            primary = built.Adopt(await KnotPrimary.StartInAsync(space, PrimaryAddress, _zones, [Origin], LabAddress.Range.ToString(),
                [.. built.Pops.Select(p => new IPEndPoint(p.LinkAddress, 53))], token));
        }, timeout.Token);
        var pop1 = lab.Pop1;
        var pop2 = lab.Pop2;
        string Logs() => lab.Logs + $"--- knot (primary) ---\n{primary!.Log}";

        // Both PoPs transferred the zone and answer it on their own addresses, and both are announced.
        foreach (var pop in lab.Pops)
        {
            var served = await BoundedPoll.UntilAsync(async token => (await AskAsync(lab, pop.LinkAddress, token)).Answered(WwwAddress), ReadyTimeout, SampleInterval, timeout.Token);
            Assert.True(served is not null, $"{pop.Name} does not answer {Www} from the primary within {ReadyTimeout.TotalSeconds} s\n{Logs()}");
        }
        var announced = await lab.WaitForPathsAsync(["pop1", "pop2"], ReadyTimeout, timeout.Token);
        Assert.True(announced is not null, $"not both PoPs announced: '{(await lab.RouterKernelRouteAsync(timeout.Token)).Trim()}'\n{Logs()}");
        Assert.Contains($"AXFR from {PrimaryAddress}:53", pop1.Server!.Log, StringComparison.Ordinal);
        output.WriteLine($"both PoPs serve {Origin} from Knot at {PrimaryAddress} and are announced, {Ms(total.Elapsed)} after the start");

        // pop1 loses its way to the primary; pop2 keeps it. An unreachable route: the kernel refuses at once (as an ICMP
        // host unreachable from a router would), so each refresh fails fast and the SOA RETRY sets the pace, not a timeout.
        await pop1.Space.AddDroppingRouteAsync("unreachable", PrimaryAddress + "/32", timeout.Token);
        var cut = Stopwatch.StartNew();
        // RFC 7314 §4: a secondary sends the seconds left. Asked after the cut, so no refresh can restart the clock
        // later; the server truncates, so the expiry falls in [left, left + 1) s from when it was asked.
        await Task.Delay(SampleInterval, timeout.Token);
        var asked = cut.Elapsed;
        var withExpire = await AskAsync(lab, pop1.LinkAddress, timeout.Token, "+expire");
        var left = ExpireOption().Match(withExpire.Output);
        Assert.True(withExpire.Answered(WwwAddress) && left.Success, $"pop1 right after the cut: {withExpire.Output}");
        var expiresFrom = asked + TimeSpan.FromSeconds(int.Parse(left.Groups[1].Value, CultureInfo.InvariantCulture));
        var expiresBy = expiresFrom + TimeSpan.FromSeconds(1);
        Assert.True(expiresBy <= TimeSpan.FromSeconds(Expire + 1), $"pop1 says {left.Groups[1].Value} s left with EXPIRE {Expire}");

        // Until past the expiry: pop1's own address, the anycast address and the router's paths, every 200 ms. pop1
        // withdraws ahead of its expiry (the lab's drain time and 2 s, at most half the EXPIRE: 4 s here) and serves the
        // zone up to the expiry itself, so the anycast address never answers SERVFAIL.
        var margin = TimeSpan.FromSeconds(Math.Min(LabPop.DrainSeconds + 2, Expire / 2.0));
        var unicast = new List<Sample>();
        var anycast = new List<Sample>();
        var paths = new List<(TimeSpan At, IReadOnlyList<string> Pops)>();
        var pastExpiry = expiresBy + SampleInterval;
        var sampled = await BoundedPoll.UntilAsync(async token =>
        {
            unicast.Add(await AskAsync(lab, pop1.LinkAddress, token, at: cut.Elapsed));
            anycast.Add(await AskAsync(lab, AnycastLab.Anycast, token, at: cut.Elapsed));
            paths.Add((cut.Elapsed, await lab.RouterPathsAsync(token)));
            return cut.Elapsed >= pastExpiry;
        }, pastExpiry + WithdrawBound - cut.Elapsed, SampleInterval, timeout.Token);
        Assert.True(sampled is not null, $"sampling did not reach {Ms(pastExpiry)} after the cut\n{Logs()}");
        var firstGone = paths.FindIndex(p => !p.Pops.Contains("pop1"));
        Assert.True(firstGone >= 0,
            $"pop1 still announced {Ms(cut.Elapsed)} after the cut, expiry due by {Ms(expiresBy)}: '{(await lab.RouterKernelRouteAsync(timeout.Token)).Trim()}'\n{Logs()}");
        var gone = paths[firstGone].At;
        // pop2 was at the router at every look; pop1 until its margin before the expiry, and not again after it left.
        Assert.All(paths, p => Assert.True(p.Pops.Contains("pop2"), $"pop2's route missing {Ms(p.At)} after the cut\n{Logs()}"));
        Assert.All(paths.Where(p => p.At < expiresFrom - margin), p => Assert.True(p.Pops.Contains("pop1"), $"pop1 withdrawn {Ms(p.At)} after the cut, before its margin ({Ms(margin)}) ahead of the expiry ({Ms(expiresFrom)})\n{Logs()}"));
        Assert.All(paths.Skip(firstGone), p => Assert.False(p.Pops.Contains("pop1"), $"pop1 announced again {Ms(p.At)} after the cut\n{Logs()}"));
        Assert.True(gone <= expiresFrom, $"pop1's route gone {Ms(gone)} after the cut, not before the expiry at {Ms(expiresFrom)} or later");
        // pop1 served the zone up to the expiry: every query to it before then answered, some within the last second;
        // and SERVFAIL after it.
        var beforeExpiry = unicast.Where(s => s.At < expiresFrom).ToList();
        Assert.All(beforeExpiry, s => Assert.True(s.Answered(WwwAddress), $"pop1 {Ms(s.At)} after the cut, before its expiry ({Ms(expiresFrom)}): {s.Output}"));
        Assert.Contains(beforeExpiry, s => s.At >= expiresFrom - TimeSpan.FromSeconds(1));
        Assert.Equal("SERVFAIL", unicast[^1].Status);
        // The anycast address answered every query, never SERVFAIL: pop1 was gone from the router before it expired.
        Assert.All(anycast, s => Assert.True(s.Answered(WwwAddress), $"anycast {Ms(s.At)} after the cut (expiry {Ms(expiresFrom)}, withdrawn {Ms(gone)}): {s.Output}"));
        output.WriteLine($"pop1 cut off from the primary; EDNS EXPIRE {left.Groups[1].Value} s {Ms(asked)} after: expiry at {Ms(expiresFrom)} to {Ms(expiresBy)} after the cut");
        output.WriteLine($"pop1 answered {Www} {beforeExpiry.Count} times before its expiry, the last {Ms(beforeExpiry[^1].At)} after the cut; "
            + $"its route left the router {Ms(gone)} after the cut ({Ms(expiresFrom - gone)} to {Ms(expiresBy - gone)} before the expiry, margin {Ms(margin)}); pop2 there at all {paths.Count} looks");
        output.WriteLine($"anycast: {anycast.Count} queries, all answered: {anycast.Count(s => s.Nsid == "pop1")} by pop1, {anycast.Count(s => s.Nsid == "pop2")} by pop2");

        // Withdrawn, pop1 says why: SERVFAIL with EDE 24 on its own address, unhealthy on /state; the anycast address is pop2's.
        var expired = await AskAsync(lab, pop1.LinkAddress, timeout.Token);
        // Its NSID too: the anycast samples above tell a SERVFAIL's PoP by it.
        Assert.True(expired.Status == "SERVFAIL" && expired.Nsid == "pop1" && expired.Output.Contains("24 (Invalid Data): 'zone expired'", StringComparison.Ordinal), expired.Output);
        // /state shows the self-check's last reason, and the self-check runs once a second: up to a second after the
        // expiry it may still give the reason it withdrew ahead of it ("expires at"), so look a few times.
        string? problem = null;
        var sawExpired = await BoundedPoll.UntilAsync(async token =>
        {
            using var state = JsonDocument.Parse(await pop1.StateAsync(token));
            Assert.Equal("unhealthy", state.RootElement.GetProperty("state").GetString());
            problem = state.RootElement.GetProperty("problem").GetString();
            return problem?.StartsWith($"secondary zone {Origin} expired", StringComparison.Ordinal) == true;
        }, TimeSpan.FromSeconds(5), SampleInterval, timeout.Token);
        Assert.True(sawExpired is not null, $"pop1's /state problem 5 s after its expiry: {problem}");
        for (int i = 0; i < 5; i++)
        {
            var answer = await AskAsync(lab, AnycastLab.Anycast, timeout.Token);
            Assert.True(answer.Answered(WwwAddress) && answer.Nsid == "pop2", answer.Output);
        }

        // The way back: the next retry refreshes, pop1 serves the zone again and is announced again; pop2 stays.
        await pop1.Space.DeleteRouteAsync(PrimaryAddress + "/32", timeout.Token);
        var back = Stopwatch.StartNew();
        TimeSpan? servedAgain = null;
        var lookedBack = 0;
        var reannounced = await BoundedPoll.UntilAsync(async token =>
        {
            servedAgain ??= (await AskAsync(lab, pop1.LinkAddress, token)).Answered(WwwAddress) ? back.Elapsed : null;
            var now = await lab.RouterPathsAsync(token);
            lookedBack++;
            Assert.True(now.Contains("pop2"), $"pop2's route missing {Ms(back.Elapsed)} after pop1's way back\n{Logs()}");
            return servedAgain is not null && now.Contains("pop1");
        }, ReannounceBound, SampleInterval, timeout.Token);
        Assert.True(reannounced is not null,
            $"pop1 {(servedAgain is null ? "does not serve the zone" : $"serves the zone since {Ms(servedAgain.Value)} but is not announced")} {Ms(back.Elapsed)} after its way back\n{Logs()}");
        Assert.True(servedAgain <= reannounced, $"pop1 announced ({Ms(reannounced!.Value)}) before it served the zone ({Ms(servedAgain!.Value)})");
        using (var state = JsonDocument.Parse(await pop1.StateAsync(timeout.Token)))
        {
            Assert.Equal("announced", state.RootElement.GetProperty("state").GetString());
        }
        Assert.True((await lab.RouterPathsAsync(timeout.Token)).SequenceEqual(["pop1", "pop2"]), await lab.RouterKernelRouteAsync(timeout.Token));
        output.WriteLine($"way back: pop1 serves {Origin} again {Ms(servedAgain!.Value)} and is announced again {Ms(reannounced.Value)} after it; pop2 there at all {lookedBack} looks");
        output.WriteLine($"test body {Ms(total.Elapsed)}");
    }

    private static string Ms(TimeSpan time) => $"{time.TotalMilliseconds:0} ms";

    /// <summary>
    /// <c>kdig @target www.secondary.test. A +nsid</c> from the client namespace (one try, 2 s): the status, the PoP
    /// that answered (NSID, RFC 5001, is the PoP's id) and the text; <paramref name="at"/> is when it was sent.
    /// </summary>
    private static async Task<Sample> AskAsync(AnycastLab lab, IPAddress target, CancellationToken cancellationToken, string? extra = null, TimeSpan at = default)
    {
        string[] arguments = extra is null ? [Www, "A", "+nsid"] : [Www, "A", "+nsid", extra];
        var result = await Kdig.QueryInAsync(lab.Client, new IPEndPoint(target, 53), arguments, cancellationToken);
        string text = result.StandardOutput;
        var status = Status().Match(text);
        var nsid = Nsid().Match(text);
        return new Sample(at, status.Success ? status.Groups[1].Value : "no answer", nsid.Success ? nsid.Groups[1].Value : null, text + result.StandardError);
    }

    private sealed record Sample(TimeSpan At, string Status, string? Nsid, string Output)
    {
        public bool Answered(string address) => Status == "NOERROR" && Regex.IsMatch(Output, $@"\sIN\s+A\s+{Regex.Escape(address)}\s");
    }

    [GeneratedRegex(@"status: ([A-Z]+)")]
    private static partial Regex Status();

    [GeneratedRegex(@"NSID: [0-9A-Fa-f]+ ""([^""]*)""")]
    private static partial Regex Nsid();

    [GeneratedRegex(@"EXPIRE: (\d+)")]
    private static partial Regex ExpireOption();
}
