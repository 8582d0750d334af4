using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using AnycastDns.Integration.Tests.Telemetry;
using AnycastDns.Integration.Tests.Transfers;
using AnycastDns.TestSupport;
using Xunit.Abstractions;

namespace AnycastDns.Integration.Tests.Secondary;

/// <summary>
/// Catalog zones as a consumer (RFC 9432) against Knot DNS on loopback: a catalog Knot generates from its member zones
/// (<c>catalog-role: generate</c>), members added and removed by a Knot reconfiguration reaching us by Knot's NOTIFY
/// and our transfer of the catalog, a restart with Knot stopped serving the members from the state folder; and a
/// hand-written catalog served by Knot as a plain zone for what a generator never sends (a wrong schema version, a
/// PTR to a garbage name, a zone under two ids, an unknown group, coo, a unique id change).
/// </summary>
public sealed class CatalogZoneTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Catalog = "catalog.test.";
    private const string MemberA = "alpha.member.test.";
    private const string MemberB = "bravo.member.test.";
    private const string MemberC = "charlie.member.test.";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private string _folder = "";

    private string KnotZones => Path.Combine(_folder, "knot");

    private string OurZones => Path.Combine(_folder, "zones");

    private string State => Path.Combine(_folder, "state");

    private string KeysFile => Path.Combine(_folder, "keys.conf");

    public Task InitializeAsync()
    {
        _folder = Directory.CreateTempSubdirectory("anycastdns-catalog-").FullName;
        Directory.CreateDirectory(KnotZones);
        Directory.CreateDirectory(OurZones);
        File.WriteAllText(KeysFile, TransferFixture.KeysFileText(TransferFixture.Key));
        foreach (var (origin, address) in new[] { (MemberA, "192.0.2.1"), (MemberB, "192.0.2.2"), (MemberC, "192.0.2.3") })
        {
            File.WriteAllText(Path.Combine(KnotZones, origin + "zone"), $"""
                $ORIGIN {origin}
                $TTL 300
                @ IN SOA ns1 hostmaster 1 3600 1 1209600 300
                @ IN NS ns1
                ns1 IN A 192.0.2.53
                www IN A {address}

                """);
        }
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    private List<string> CatalogArguments(int primaryPort, int http) =>
    [
        "--secondary-catalog", $"{Catalog} 127.0.0.1:{primaryPort} key:{TransferFixture.Key.Name}",
        "--secondary-state", State, "--tsig-keys", KeysFile, "--no-watch", "--http", $"127.0.0.1:{http}",
    ];

    [Fact]
    public async Task Catalog_generated_by_Knot_members_added_and_removed_on_the_primary_are_served_and_stopped_and_a_restart_without_Knot_serves_them()
    {
        int primaryPort = LoopbackPort.FindFreeForUdpAndTcp();
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        var arguments = CatalogArguments(primaryPort, http);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var ours = await AnycastDnsServer.StartAsync(OurZones, arguments, ["127.0.0.1"]);
        try
        {
            await using var knot = await KnotPrimary.StartAsync(KnotZones, [MemberA, MemberB], TransferFixture.Key, ours.EndPoint, primaryPort, catalog: Catalog);
            Assert.True(await ours.WaitForAnswerAsync("www." + MemberA, "192.0.2.1", Timeout), "member A never served\n" + ours.Log + knot.Log);
            Assert.True(await ours.WaitForAnswerAsync("www." + MemberB, "192.0.2.2", Timeout), "member B never served\n" + ours.Log + knot.Log);
            await AssertMembersAsync(client, http, [MemberA, MemberB]);
            // RFC 9432 §4.1: the catalog is for servers, not for queries: transferred, never answered.
            Assert.Contains("status: REFUSED", (await Kdig.QueryAsync(ours.EndPoint, [Catalog, "SOA"])).StandardOutput, StringComparison.Ordinal);
            Assert.Contains("status: REFUSED", (await Kdig.QueryAsync(ours.EndPoint, ["www." + MemberC, "A"])).StandardOutput, StringComparison.Ordinal);

            // A member added on the primary: Knot's new catalog version and NOTIFY; served within seconds, no restart.
            var clock = Stopwatch.StartNew();
            await knot.SetCatalogMembersAsync([MemberA, MemberB, MemberC]);
            Assert.True(await ours.WaitForAnswerAsync("www." + MemberC, "192.0.2.3", TimeSpan.FromSeconds(5)), "member C not served within 5 s\n" + ours.Log + knot.Log);
            output.WriteLine($"member added: served {clock.ElapsedMilliseconds} ms after knotc reload");
            await AssertMembersAsync(client, http, [MemberA, MemberB, MemberC]);
            var metrics = await PrometheusText.ParseAsync(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics")));
            Assert.Equal(3, metrics.Value("anycastdns_secondary_catalog_members", ("zone", Catalog)));
            Assert.Equal(1, metrics.Value("anycastdns_secondary_serial", ("zone", MemberC)));

            // A member removed: not served (REFUSED: no zone of ours), its state gone, the others untouched.
            Assert.True(File.Exists(Path.Combine(State, MemberB + "zone")));
            clock.Restart();
            await knot.SetCatalogMembersAsync([MemberA, MemberC]);
            Assert.True(await WaitForStatusAsync(ours, "www." + MemberB, "REFUSED", TimeSpan.FromSeconds(5)), "member B still answered 5 s after its removal\n" + ours.Log + knot.Log);
            output.WriteLine($"member removed: REFUSED {clock.ElapsedMilliseconds} ms after knotc reload");
            await AssertMembersAsync(client, http, [MemberA, MemberC]);
            Assert.False(File.Exists(Path.Combine(State, MemberB + "zone")), "the removed member's kept version is still in the state folder");
            Assert.False(File.Exists(Path.Combine(State, MemberB + "timers")));
            Assert.True(await ours.WaitForAnswerAsync("www." + MemberA, "192.0.2.1", TimeSpan.FromSeconds(1)));
            await knot.StopAsync();
        }
        finally
        {
            await ours.DisposeAsync();
        }

        // Knot is gone: the kept catalog gives the members at once, each from its kept version.
        await using var again = await AnycastDnsServer.StartAsync(OurZones, arguments, ["127.0.0.1"]);
        Assert.Equal("192.0.2.1", (await Kdig.QueryAsync(again.EndPoint, ["www." + MemberA, "A", "+short"])).StandardOutput.Trim());
        Assert.Equal("192.0.2.3", (await Kdig.QueryAsync(again.EndPoint, ["www." + MemberC, "A", "+short"])).StandardOutput.Trim());
        Assert.Contains("status: REFUSED", (await Kdig.QueryAsync(again.EndPoint, ["www." + MemberB, "A"])).StandardOutput, StringComparison.Ordinal);
        await AssertMembersAsync(client, http, [MemberA, MemberC]);
        Assert.Single(Lines(again.Log, $"secondary zone {MemberC} serial 1: "), l => l.Contains("from the state folder", StringComparison.Ordinal));
    }

    /// <summary>A catalog zone file for Knot to serve as a plain zone: version, then member lines as given.</summary>
    private void WriteCatalog(uint serial, string version, params string[] lines) =>
        File.WriteAllText(Path.Combine(KnotZones, Catalog + "zone"), $"""
            $ORIGIN {Catalog}
            $TTL 0
            @ IN SOA invalid. invalid. {serial} 3600 1 1209600 0
            @ IN NS invalid.
            version IN TXT "{version}"
            {string.Join('\n', lines)}

            """);

    [Fact]
    public async Task A_broken_catalog_is_one_log_line_and_the_previous_members_keep_serving_even_after_a_restart_and_bad_members_are_left_out_one_line_each()
    {
        int primaryPort = LoopbackPort.FindFreeForUdpAndTcp();
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        int nobody = LoopbackPort.FindFreeForUdpAndTcp();
        WriteCatalog(1, "2", $"m1.zones PTR {MemberA}", $"m2.zones PTR {MemberB}");
        // The group "far" sends its members to primaries of their own (a port nobody listens on): Groups chooses them.
        var environment = new Dictionary<string, string?> { ["ANYCASTDNS_Secondary__Catalogs__0__Groups__far__0"] = $"127.0.0.1:{nobody}" };
        var ours = await AnycastDnsServer.StartAsync(OurZones, CatalogArguments(primaryPort, http), ["127.0.0.1"], environment: environment);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            await using var knot = await KnotPrimary.StartAsync(KnotZones, [Catalog, MemberA, MemberB, MemberC], TransferFixture.Key, ours.EndPoint, primaryPort);
            await BrokenCatalogsAsync(ours, knot, client, http, primaryPort, nobody);

            // A broken version is what the state folder keeps last: a restart still serves the last good members (§5.1).
            WriteCatalog(6, "1", $"m1.zones PTR {MemberA}");
            await knot.ReloadAsync(Catalog);
            Assert.True(await ours.WaitForLogAsync($"catalog {Catalog} serial 6 is not processed", Timeout), ours.Log);
            await knot.StopAsync();
        }
        finally
        {
            await ours.DisposeAsync();
        }
        await using var again = await AnycastDnsServer.StartAsync(OurZones, CatalogArguments(primaryPort, http), ["127.0.0.1"], environment: environment);
        Assert.Contains($"catalog {Catalog} serial 6 is not processed", again.Log, StringComparison.Ordinal);
        Assert.Equal("192.0.2.1", (await Kdig.QueryAsync(again.EndPoint, ["www." + MemberA, "A", "+short"])).StandardOutput.Trim());
        Assert.Equal("192.0.2.2", (await Kdig.QueryAsync(again.EndPoint, ["www." + MemberB, "A", "+short"])).StandardOutput.Trim());
        await AssertMembersAsync(client, http, [MemberA, MemberB]);
    }

    private async Task BrokenCatalogsAsync(AnycastDnsServer ours, KnotPrimary knot, HttpClient client, int http, int primaryPort, int nobody)
    {
        Assert.True(await ours.WaitForAnswerAsync("www." + MemberA, "192.0.2.1", Timeout), "member A never served\n" + ours.Log + knot.Log);
        Assert.True(await ours.WaitForAnswerAsync("www." + MemberB, "192.0.2.2", Timeout), "member B never served\n" + ours.Log + knot.Log);
        await AssertMembersAsync(client, http, [MemberA, MemberB]);

        // Schema version "1" (RFC 9432 §4.2.1): not processed; C is not added, A and B stay.
        WriteCatalog(2, "1", $"m1.zones PTR {MemberA}", $"m2.zones PTR {MemberB}", $"m3.zones PTR {MemberC}");
        await knot.ReloadAsync(Catalog);
        Assert.True(await ours.WaitForLogAsync($"catalog {Catalog} serial 2 is not processed", Timeout), ours.Log + knot.Log);
        Assert.Single(Lines(ours.Log, "is not processed"));
        Assert.Contains("schema version \"1\"", ours.Log, StringComparison.Ordinal);
        Assert.Contains("status: REFUSED", (await Kdig.QueryAsync(ours.EndPoint, ["www." + MemberC, "A"])).StandardOutput, StringComparison.Ordinal);
        Assert.True(await ours.WaitForAnswerAsync("www." + MemberA, "192.0.2.1", TimeSpan.FromSeconds(1)));
        Assert.True(await ours.WaitForAnswerAsync("www." + MemberB, "192.0.2.2", TimeSpan.FromSeconds(1)));
        await AssertMembersAsync(client, http, [MemberA, MemberB]);

        // Version 2 again, with a PTR to a garbage name: that member alone is left out (one line); C comes; A gets a
        // coo, B an unknown group (one line), C the configured group "far".
        WriteCatalog(3, "2", $"m1.zones PTR {MemberA}", "coo.m1.zones PTR other.catalog.", $"m2.zones PTR {MemberB}", "group.m2.zones TXT \"nobody-configured-this\"",
            $"m3.zones PTR {MemberC}", "group.m3.zones TXT \"far\"", "m4.zones PTR bad\\007name\\032with\\032spaces.test.");
        await knot.ReloadAsync(Catalog);
        Assert.True(await ours.WaitForLogAsync($"catalog {Catalog} serial 3: 3 members (1 added, 0 removed, 1 left out)", Timeout), ours.Log + knot.Log);
        Assert.Single(Lines(ours.Log, "member m4: "));
        Assert.Contains("is not a host name", Lines(ours.Log, "member m4: ")[0], StringComparison.Ordinal);
        Assert.Single(Lines(ours.Log, "group 'nobody-configured-this'"));
        var members = await MembersAsync(client, http);
        Assert.Equal(["m1", "m2", "m3"], members.Values.Select(m => m.GetProperty("memberId").GetString() ?? "").Order(StringComparer.Ordinal).ToArray());
        Assert.Equal("other.catalog.", members[MemberA].GetProperty("coo").GetString());
        Assert.Equal("nobody-configured-this", members[MemberB].GetProperty("group").GetString());
        Assert.StartsWith($"127.0.0.1:{primaryPort} key:{TransferFixture.Key.Name}", members[MemberB].GetProperty("primaries")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal($"127.0.0.1:{nobody}", members[MemberC].GetProperty("primaries")[0].GetString());
        // C's primaries are the group's, where nobody answers: listed, never transferred, SERVFAIL.
        Assert.Contains("status: SERVFAIL", (await Kdig.QueryAsync(ours.EndPoint, ["www." + MemberC, "A"])).StandardOutput, StringComparison.Ordinal);

        // One zone under two unique ids (RFC 9432 §4.1): the catalog is broken, nothing changes.
        WriteCatalog(4, "2", $"m1.zones PTR {MemberA}", $"m2.zones PTR {MemberB}", $"m9.zones PTR {MemberB}");
        await knot.ReloadAsync(Catalog);
        Assert.True(await ours.WaitForLogAsync($"catalog {Catalog} serial 4 is not processed: zone {MemberB} is listed under two unique ids", Timeout), ours.Log);
        Assert.Equal(3, (await MembersAsync(client, http)).Count);

        // B's unique id changes (RFC 9432 §5.4): its state is reset and it is transferred again from nothing; C removed.
        int transfersOfB = Lines(ours.Log, $"zone {MemberB} serial 1: ").Count(l => l.Contains("AXFR from", StringComparison.Ordinal));
        WriteCatalog(5, "2", $"m1.zones PTR {MemberA}", $"m5.zones PTR {MemberB}");
        await knot.ReloadAsync(Catalog);
        Assert.True(await ours.WaitForLogAsync($"member {MemberB} changed unique id m2 -> m5", Timeout), ours.Log);
        var deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline && Lines(ours.Log, $"zone {MemberB} serial 1: ").Count(l => l.Contains("AXFR from", StringComparison.Ordinal)) == transfersOfB)
        {
            await Task.Delay(50);
        }
        Assert.True(Lines(ours.Log, $"zone {MemberB} serial 1: ").Count(l => l.Contains("AXFR from", StringComparison.Ordinal)) > transfersOfB, ours.Log);
        Assert.True(await ours.WaitForAnswerAsync("www." + MemberB, "192.0.2.2", Timeout), ours.Log);
        Assert.True(await WaitForStatusAsync(ours, "www." + MemberC, "REFUSED", Timeout), ours.Log);
        members = await MembersAsync(client, http);
        Assert.Equal([MemberA, MemberB], members.Keys.Order(StringComparer.Ordinal).ToArray());
        Assert.Equal("m5", members[MemberB].GetProperty("memberId").GetString());
    }

    private static List<string> Lines(string log, string text) => [.. log.Split('\n').Where(l => l.Contains(text, StringComparison.Ordinal))];

    /// <summary>The catalog members /zones lists, by origin, each checked to name the catalog.</summary>
    private static async Task<Dictionary<string, JsonElement>> MembersAsync(HttpClient client, int http)
    {
        using var zones = JsonDocument.Parse(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/zones")));
        var members = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var zone in zones.RootElement.GetProperty("secondary").EnumerateArray())
        {
            if (zone.GetProperty("role").GetString() == "member")
            {
                Assert.Equal(Catalog, zone.GetProperty("catalog").GetString());
                members[zone.GetProperty("origin").GetString()!] = zone.Clone();
            }
        }
        return members;
    }

    private static async Task AssertMembersAsync(HttpClient client, int http, string[] expected)
    {
        var members = await MembersAsync(client, http);
        Assert.Equal(expected.Order(StringComparer.Ordinal).ToArray(), members.Keys.Order(StringComparer.Ordinal).ToArray());
    }

    private static async Task<bool> WaitForStatusAsync(AnycastDnsServer server, string name, string status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline && !server.HasExited)
        {
            var answer = await Kdig.QueryAsync(server.EndPoint, [name, "A"]);
            if (answer.StandardOutput.Contains("status: " + status, StringComparison.Ordinal))
            {
                return true;
            }
            await Task.Delay(50);
        }
        return false;
    }
}
