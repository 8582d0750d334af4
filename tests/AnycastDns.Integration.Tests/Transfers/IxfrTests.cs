using System.Globalization;
using System.Text;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Transfers;

/// <summary>
/// IXFR (RFC 1995) from the real server, read by dnspython: the zone goes through three versions by file edits and
/// reloads; a client at each older serial gets the condensed difference (or the whole zone, or the SOA alone), applies
/// it to the zone it had with <c>dns.query.inbound_xfr</c>, and must end with exactly the zone file of the last version.
/// </summary>
public sealed class IxfrTests : IAsyncLifetime
{
    private const string DebianPython = "/usr/bin/python3";
    private const string Origin = "ixfr.test.";
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>
    /// argv: host, port, origin, base zone file (the client's version), final zone file, mode (tcp|udp). Sends an IXFR
    /// from the base file's serial, prints the answer's form ("form soa|incremental|full N", N the records), then applies
    /// the transfer (over TCP, or UDP first) to the base zone and prints "equal" when it matches the final file.
    /// </summary>
    private const string ApplyScript = """
        import sys
        import dns.flags, dns.message, dns.query, dns.rdatatype, dns.xfr, dns.zone
        host, port, origin, base, final, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
        def records(zone):
            return sorted(f"{n.derelativize(zone.origin)} {rds.ttl} {rd.to_text(origin=zone.origin, relativize=False)}"
                          for n, node in zone.nodes.items() for rds in node.rdatasets for rd in rds)
        zone = dns.zone.from_file(base, origin, relativize=False)
        query, serial = dns.xfr.make_query(zone)
        if mode == "udp":
            answer = dns.query.udp(query, host, port=port, timeout=10, one_rr_per_rrset=True)
        else:
            answer = dns.query.tcp(query, host, port=port, timeout=10, one_rr_per_rrset=True)
        rrs = [(rrset.rdtype, rd) for rrset in answer.answer for rd in rrset]
        if len(rrs) == 1:
            form = "soa"
        elif rrs[1][0] == dns.rdatatype.SOA:
            form = "incremental"
        else:
            form = "full"
        print("form", form, len(rrs), "tc" if answer.flags & dns.flags.TC else "")
        if form != "soa":
            query, serial = dns.xfr.make_query(zone)
            udp_mode = dns.query.UDPMode.TRY_FIRST if mode == "udp" else dns.query.UDPMode.NEVER
            dns.query.inbound_xfr(host, zone, query, port=port, timeout=30, udp_mode=udp_mode)
        expected = dns.zone.from_file(final, origin, relativize=False)
        a, b = records(zone), records(expected)
        print("equal" if a == b else f"differ missing {sorted(set(b) - set(a))[:4]} extra {sorted(set(a) - set(b))[:4]}")
        """;

    private string _folder = "";
    private AnycastDnsServer _server = null!;
    private int _http;

    private string ZoneFile => Path.Combine(_folder, "zones", Origin + "zone");

    private string Version(int serial) => Path.Combine(_folder, $"v{serial}.zone");

    public async Task InitializeAsync()
    {
        _folder = Directory.CreateTempSubdirectory("anycastdns-ixfr-").FullName;
        Directory.CreateDirectory(Path.Combine(_folder, "zones"));
        WriteVersion(1);
        _http = LoopbackPort.FindFreeForUdpAndTcp();
        _server = await AnycastDnsServer.StartAsync(Path.Combine(_folder, "zones"),
            ["--allow-transfer", "127.0.0.1/32", "--http", $"127.0.0.1:{_http}", "--no-watch"], ["127.0.0.1"]);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>
    /// The zone at <paramref name="serial"/>: 400 hosts with an A and a TXT record; version 2 changes h1's address,
    /// deletes h2, adds h401; version 3 changes h1 back, deletes h401 again, changes h3's TTL and adds h402 — so the
    /// condensed difference 1→3 must cancel h1 and h401 out (RFC 1995 §5). Version 4 replaces every TXT record (a
    /// difference larger than 10 % of the zone, which the history does not keep).
    /// </summary>
    private void WriteVersion(int serial)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"$ORIGIN {Origin}\n$TTL 3600\n@ SOA ns1 hostmaster {serial} 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.53\n");
        for (int i = 1; i <= 402; i++)
        {
            bool present = i switch { 2 => serial == 1, 401 => serial == 2, 402 => serial >= 3, _ => i <= 400 };
            if (!present)
            {
                continue;
            }
            string address = i == 1 && serial == 2 ? "198.51.100.1" : $"192.0.2.{i % 250}";
            string ttl = i == 3 && serial >= 3 ? "60 " : "";
            text.Append(CultureInfo.InvariantCulture, $"h{i} {ttl}A {address}\nh{i} TXT \"host {i}{(serial >= 4 ? " v4" : "")}\"\n");
        }
        File.WriteAllText(Version(serial), text.ToString());
        File.Copy(Version(serial), ZoneFile, overwrite: true);
    }

    private async Task ReloadToAsync(int serial)
    {
        WriteVersion(serial);
        using var response = await Http.PostAsync(new Uri($"http://127.0.0.1:{_http}/reload"), null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.True(await _server.WaitForLogAsync($"ixfr history {Origin}: serial {serial - 1} -> {serial}", TimeSpan.FromSeconds(10)), _server.Log);
    }

    private async Task<string[]> ApplyAsync(int from, int to, string mode)
    {
        var result = await ExternalTool.RunAsync(DebianPython,
            ["-c", ApplyScript, "127.0.0.1", _server.Port.ToString(CultureInfo.InvariantCulture), Origin, Version(from), Version(to), mode], RunTimeout);
        Assert.True(result.ExitCode == 0, result.Output);
        return result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    [Fact]
    public async Task Each_older_serial_gets_the_condensed_difference_over_TCP_and_UDP_and_applied_it_equals_the_new_zone()
    {
        // At the current serial: the SOA alone (RFC 1995 §2), over both transports.
        Assert.Equal(["form soa 1 ", "equal"], await ApplyAsync(1, 1, "tcp"));
        Assert.Equal(["form soa 1 ", "equal"], await ApplyAsync(1, 1, "udp"));

        await ReloadToAsync(2);
        // 1→2: SOA(2), SOA(1), deleted h1 A and h2 A+TXT, SOA(2), added h1 A and h401 A+TXT, SOA(2): 10 records.
        Assert.Equal(["form incremental 10 ", "equal"], await ApplyAsync(1, 2, "tcp"));
        Assert.Equal(["form incremental 10 ", "equal"], await ApplyAsync(1, 2, "udp"));

        await ReloadToAsync(3);
        // 1→3 condensed: h1 and h401 cancel out; deleted h2 A+TXT and h3 A (TTL 3600), added h3 A (TTL 60) and h402 A+TXT.
        Assert.Equal(["form incremental 10 ", "equal"], await ApplyAsync(1, 3, "tcp"));
        // 2→3: deleted h1 A, h401 A+TXT, h3 A; added h1 A, h3 A, h402 A+TXT.
        Assert.Equal(["form incremental 12 ", "equal"], await ApplyAsync(2, 3, "udp"));
        Assert.Equal(["form soa 1 ", "equal"], await ApplyAsync(3, 3, "tcp"));

        // Versions 1 and 2 kept for serial 3; IXFRs counted under their own type.
        string metrics = await Http.GetStringAsync(new Uri($"http://127.0.0.1:{_http}/metrics"));
        Assert.Matches(@"(?m)^anycastdns_transfers_history_versions(\{[^}]*\})? 2$", metrics);
        Assert.Matches(@"(?m)^anycastdns_transfers_total\{(?=[^}]*type=""ixfr"")(?=[^}]*outcome=""completed"")[^}]*\} [1-9]", metrics);
    }

    [Fact]
    public async Task An_unknown_serial_or_a_difference_too_big_to_keep_gets_the_whole_zone_and_UDP_gets_the_SOA_alone()
    {
        await ReloadToAsync(2);
        await ReloadToAsync(3);
        await ReloadToAsync(4);
        // 3→4 rewrites every TXT record: more than 10 % of the zone, so no difference is kept (Transfers:HistoryPercent),
        // and with it the chain of older ones ends. Every older serial gets the whole zone (RFC 1995 §4) over TCP...
        foreach (int from in new[] { 1, 3 })
        {
            var lines = await ApplyAsync(from, 4, "tcp");
            Assert.StartsWith("form full ", lines[0], StringComparison.Ordinal);
            Assert.Equal("equal", lines[1]);
        }
        // ...and over UDP, where the whole zone does not fit, the SOA alone, so that the client asks again over TCP.
        var udp = await ApplyAsync(1, 4, "udp");
        Assert.Equal("form soa 1 ", udp[0]);
        Assert.Contains("ixfr-full", _server.Log, StringComparison.Ordinal);
    }
}
