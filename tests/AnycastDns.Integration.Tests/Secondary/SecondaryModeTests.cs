using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using AnycastDns.Integration.Tests.Telemetry;
using AnycastDns.Integration.Tests.Transfers;
using AnycastDns.TestSupport;
using Xunit.Abstractions;

namespace AnycastDns.Integration.Tests.Secondary;

/// <summary>
/// Secondary mode against Knot DNS as the real hidden primary on loopback: the first version by AXFR with TSIG, an
/// edit on Knot reaching us by Knot's NOTIFY and our IXFR within 2 s, our records equal to Knot's, a restart with
/// the primary stopped serving the kept version at once, expiry, and a key mismatch keeping the zone unserved.
/// </summary>
public sealed class SecondaryModeTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Origin = "secondary.test.";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private string _folder = "";

    private string KnotZones => Path.Combine(_folder, "knot");

    private string OurZones => Path.Combine(_folder, "zones");

    private string State => Path.Combine(_folder, "state");

    private string KeysFile => Path.Combine(_folder, "keys.conf");

    public Task InitializeAsync()
    {
        _folder = Directory.CreateTempSubdirectory("anycastdns-secondary-mode-").FullName;
        Directory.CreateDirectory(KnotZones);
        Directory.CreateDirectory(OurZones);
        File.WriteAllText(KeysFile, TransferFixture.KeysFileText(TransferFixture.Key));
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Version <paramref name="serial"/> of the zone: www moves, and host{serial} comes and host{serial-1} goes.</summary>
    private void WriteZone(uint serial, uint expire = 1209600, uint refresh = 3600)
    {
        var text = new System.Text.StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"""
            $ORIGIN {Origin}
            $TTL 300
            @ IN SOA ns1 hostmaster {serial} {refresh} 1 {expire} 300
            @ IN NS ns1
            ns1 IN A 192.0.2.53
            www IN A 192.0.2.{serial}
            host{serial} IN AAAA 2001:db8::{serial}
            mail IN MX 10 mx.example.
            txt IN TXT "version {serial}" "second string"

            """);
        // Enough names for Knot to send the AXFR in several messages, each signed: RFC 8945 §5.3.1's chained MACs.
        for (int i = 0; i < 6000; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"n{i} IN A 198.51.{100 + i / 256}.{i % 256}\n");
        }
        File.WriteAllText(Path.Combine(KnotZones, Origin + "zone"), text.ToString());
    }

    private List<string> SecondaryArguments(KnotPrimaryAddress primary, string keyName) =>
    [
        "--secondary-zone", $"{Origin} 127.0.0.1:{primary.Port} key:{keyName}",
        "--secondary-state", State, "--tsig-keys", KeysFile, "--allow-transfer", "127.0.0.1/32", "--no-watch",
    ];

    private sealed record KnotPrimaryAddress(int Port);

    [Fact]
    public async Task Knot_primary_AXFR_then_NOTIFY_and_IXFR_within_2_s_records_equal_and_a_restart_without_the_primary_serves_at_once()
    {
        WriteZone(1);
        var primaryAddress = new KnotPrimaryAddress(LoopbackPort.FindFreeForUdpAndTcp());
        var arguments = SecondaryArguments(primaryAddress, TransferFixture.Key.Name);
        var ours = await AnycastDnsServer.StartAsync(OurZones, arguments, ["127.0.0.1"]);
        try
        {
            await using var knot = await KnotPrimary.StartAsync(KnotZones, [Origin], TransferFixture.Key, ours.EndPoint, primaryAddress.Port);
            Assert.True(await ours.WaitForAnswerAsync("www." + Origin, "192.0.2.1", Timeout), "first version never served\n" + ours.Log + knot.Log);
            // The console logger writes from a queue: a version can answer before its line is out.
            Assert.True(await ours.WaitForLogAsync("AXFR from 127.0.0.1", Timeout), ours.Log);
            var messages = System.Text.RegularExpressions.Regex.Match(knot.Log, @"AXFR, outgoing, remote [^,]+, finished, [0-9.]+ seconds, (\d+) messages");
            Assert.True(messages.Success && int.Parse(messages.Groups[1].Value, CultureInfo.InvariantCulture) >= 2, knot.Log);
            await AssertSameRecordsAsync(ours, knot);

            WriteZone(2);
            var clock = Stopwatch.StartNew();
            await knot.ReloadAsync(Origin);
            Assert.True(await ours.WaitForAnswerAsync("www." + Origin, "192.0.2.2", TimeSpan.FromSeconds(2)), "serial 2 not served within 2 s\n" + ours.Log + knot.Log);
            output.WriteLine($"serial 2 served {clock.ElapsedMilliseconds} ms after knotc zone-reload");
            Assert.True(await ours.WaitForLogAsync("serial 1 -> 2", Timeout), ours.Log);
            Assert.Contains("IXFR from 127.0.0.1", ours.Log, StringComparison.Ordinal);
            Assert.DoesNotContain("whole zone", ours.Log, StringComparison.Ordinal);
            await AssertSameRecordsAsync(ours, knot);
            await knot.StopAsync();
            // SIGTERM ends a secondary cleanly: the host disposes the server twice, and the second time once threw
            // ObjectDisposedException out of the refresh loops' Dispose, an unhandled exception and exit code 134.
            int exit = await ours.TerminateAsync(TimeSpan.FromSeconds(30));
            Assert.True(exit == 0 && !ours.Log.Contains("Unhandled exception", StringComparison.Ordinal), $"exit code {exit}\n" + ours.Log);
        }
        finally
        {
            await ours.DisposeAsync();
        }

        // The primary is gone: the kept version answers as soon as the listeners are up.
        await using var again = await AnycastDnsServer.StartAsync(OurZones, arguments, ["127.0.0.1"]);
        var answer = await Kdig.QueryAsync(again.EndPoint, ["www." + Origin, "A", "+short"]);
        Assert.Equal("192.0.2.2", answer.StandardOutput.Trim());
        Assert.Contains("from the state folder", again.Log, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(State, Origin + "zone")));
        Assert.Empty(Directory.GetFiles(State, "*.tmp"));
    }

    /// <summary>The output of <c>anycastdns fleet-check</c> against one PoP with its status endpoint.</summary>
    private async Task<string> FleetCheck(System.Net.IPEndPoint pop, int http)
    {
        var result = await ExternalTool.RunAsync("dotnet", ["exec", AnycastDnsServer.DllPath, "fleet-check", $"{pop},http=127.0.0.1:{http}", "--timeout", "5"], TimeSpan.FromSeconds(60));
        output.WriteLine(result.Output);
        return result.StandardOutput;
    }

    [Fact]
    public async Task A_zone_not_refreshed_within_its_SOA_expire_answers_SERVFAIL_and_comes_back_after_a_refresh()
    {
        // EXPIRE 8 s: the query just after the primary stops must come before the expiry also when Knot takes seconds
        // to stop on a loaded machine (with 4 s, CI once saw SERVFAIL there).
        WriteZone(1, expire: 8, refresh: 1);
        // A file zone beside it: the snapshot is never empty, so only the expired secondary zone can make the PoP unhealthy.
        File.WriteAllText(Path.Combine(OurZones, "local.test.zone"), "$ORIGIN local.test.\n$TTL 300\n@ SOA ns1 h 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.9\n");
        var primaryAddress = new KnotPrimaryAddress(LoopbackPort.FindFreeForUdpAndTcp());
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var ours = await AnycastDnsServer.StartAsync(OurZones, [.. SecondaryArguments(primaryAddress, TransferFixture.Key.Name), "--http", $"127.0.0.1:{http}"], ["127.0.0.1"]);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var knot = await KnotPrimary.StartAsync(KnotZones, [Origin], TransferFixture.Key, ours.EndPoint, primaryAddress.Port);
        try
        {
            Assert.True(await ours.WaitForAnswerAsync("www." + Origin, "192.0.2.1", Timeout), "first version never served\n" + ours.Log + knot.Log);
            // fleet-check shows the PoP's secondary zone: its serial, refreshed seconds ago, ok (issue 16 item 5).
            Assert.Matches($@"(?m)^{Regex.Escape(Origin)}\s+test-pop\s+1\s+\d+ s ago\s+ok\s*$", await FleetCheck(ours.EndPoint, http));
        }
        finally
        {
            await knot.DisposeAsync();
        }
        var stopped = Stopwatch.StartNew();
        // Refreshes (every second: SOA REFRESH and RETRY 1) fail, and expiry counts from the last success: served until then.
        var early = await Kdig.QueryAsync(ours.EndPoint, ["www." + Origin, "A", "+expire"]);
        Assert.Contains("status: NOERROR", early.StandardOutput, StringComparison.Ordinal);
        // RFC 7314 §4: as a secondary, the seconds left (at most the SOA's 8), not the SOA field itself.
        var expireOption = System.Text.RegularExpressions.Regex.Match(early.StandardOutput, @"EXPIRE: (\d+)");
        Assert.True(expireOption.Success, early.StandardOutput);
        Assert.InRange(int.Parse(expireOption.Groups[1].Value, CultureInfo.InvariantCulture), 0, 8);
        string? status = null;
        while (stopped.Elapsed < TimeSpan.FromSeconds(16))
        {
            status = (await Kdig.QueryAsync(ours.EndPoint, ["www." + Origin, "A", "+edns"])).StandardOutput;
            if (status.Contains("status: SERVFAIL", StringComparison.Ordinal))
            {
                break;
            }
            await Task.Delay(200);
        }
        output.WriteLine($"SERVFAIL {stopped.ElapsedMilliseconds} ms after the primary stopped:\n{status}");
        Assert.Contains("status: SERVFAIL", status, StringComparison.Ordinal);
        Assert.Contains("24 (Invalid Data): 'zone expired'", status, StringComparison.Ordinal);
        Assert.Contains("expired", ours.Log, StringComparison.Ordinal);
        string zones = await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/zones"));
        Assert.Contains("\"status\": \"expired\"", zones, StringComparison.Ordinal);
        Assert.Matches($@"(?m)^{Regex.Escape(Origin)}\s+test-pop\s+1\s+\d+ s ago\s+expired\s*$", await FleetCheck(ours.EndPoint, http));
        // The self-check counts the expired zone: the PoP turns unhealthy (its route withdrawn), and says why.
        string state = "";
        for (var until = DateTime.UtcNow + TimeSpan.FromSeconds(10); DateTime.UtcNow < until; await Task.Delay(200))
        {
            state = await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/state"));
            // Unhealthy from shortly before the expiry ("expires at ..., withdrawn ahead of it"), then "expired".
            if (state.Contains("\"state\": \"unhealthy\"", StringComparison.Ordinal) && state.Contains("secondary zone secondary.test. expired", StringComparison.Ordinal))
            {
                break;
            }
        }
        Assert.Contains("\"state\": \"unhealthy\"", state, StringComparison.Ordinal);
        Assert.Contains("secondary zone secondary.test. expired", state, StringComparison.Ordinal);
        var samples = await PrometheusText.ParseAsync(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics")));
        Assert.Equal(1, samples.Value("anycastdns_secondary_expired", ("zone", Origin)));
        Assert.Equal(1, samples.Value("anycastdns_secondary_serial", ("zone", Origin)));
        Assert.True(samples.Value("anycastdns_secondary_refresh_failures_total", ("zone", Origin)) >= 1);
        Assert.Contains("refresh failed", ours.Log, StringComparison.Ordinal);

        // The primary back (same port): the next retry refreshes and the zone is served again.
        await using var back = await KnotPrimary.StartAsync(KnotZones, [Origin], TransferFixture.Key, ours.EndPoint, primaryAddress.Port);
        Assert.True(await ours.WaitForAnswerAsync("www." + Origin, "192.0.2.1", Timeout), "not served again after the primary came back\n" + ours.Log);
        // The exporter gives a scrape made less than 300 ms before again (its response cache), and the last one above
        // said expired: look until it is made again, a few times.
        double expired = double.NaN;
        for (var until = DateTime.UtcNow + TimeSpan.FromSeconds(5); DateTime.UtcNow < until && expired != 0; await Task.Delay(200))
        {
            var after = await PrometheusText.ParseAsync(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics")));
            expired = after.Value("anycastdns_secondary_expired", ("zone", Origin));
        }
        Assert.Equal(0, expired);
    }

    /// <summary>
    /// A primary that takes the connection and never answers (as one behind a firewall that drops silently) holds each
    /// refresh for the whole transfer timeout, 30 s here. The zone expires at its SOA EXPIRE all the same, not when that
    /// refresh gives up: the refresh is cut at the expiry (it used to run on, and the zone served 30 s too long).
    /// </summary>
    [Fact]
    public async Task A_primary_that_never_answers_does_not_hold_the_expiry_back()
    {
        WriteZone(1, expire: 4, refresh: 1);
        var primaryAddress = new KnotPrimaryAddress(LoopbackPort.FindFreeForUdpAndTcp());
        await using var ours = await AnycastDnsServer.StartAsync(OurZones,
            [.. SecondaryArguments(primaryAddress, TransferFixture.Key.Name), "--secondary-transfer-timeout", "30"], ["127.0.0.1"]);
        var knot = await KnotPrimary.StartAsync(KnotZones, [Origin], TransferFixture.Key, ours.EndPoint, primaryAddress.Port);
        try
        {
            Assert.True(await ours.WaitForAnswerAsync("www." + Origin, "192.0.2.1", Timeout), "first version never served\n" + ours.Log + knot.Log);
        }
        finally
        {
            await knot.DisposeAsync();
        }
        // At once on the primary's port: a listener whose backlog completes each connection, and nothing that reads.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, primaryAddress.Port));
        silent.Listen(16);
        var stopped = Stopwatch.StartNew();
        string status = "";
        while (stopped.Elapsed < TimeSpan.FromSeconds(12))
        {
            status = (await Kdig.QueryAsync(ours.EndPoint, ["www." + Origin, "A"])).StandardOutput;
            if (status.Contains("status: SERVFAIL", StringComparison.Ordinal))
            {
                break;
            }
            await Task.Delay(200);
        }
        output.WriteLine($"SERVFAIL {stopped.ElapsedMilliseconds} ms after the primary went silent (EXPIRE 4 s, transfer timeout 30 s)");
        Assert.True(status.Contains("status: SERVFAIL", StringComparison.Ordinal) && stopped.Elapsed <= TimeSpan.FromSeconds(6),
            $"not expired within 6 s of the last refresh possible ({stopped.ElapsedMilliseconds} ms): {status}\n{ours.Log}");
        Assert.Contains("no answer from the primaries before the expiry", ours.Log, StringComparison.Ordinal);
    }

    /// <summary>
    /// File zones beside a secondary one, reloaded: a file of the secondary zone's origin wins over it (and is served
    /// from the file), removing that file gives the zone back to the primary's version, and an edited file zone serves
    /// its new serial; the snapshot is patched for the files that changed, and must say what one built whole would.
    /// </summary>
    [Fact]
    public async Task File_zones_reloaded_beside_a_secondary_zone_win_over_it_and_give_it_back()
    {
        WriteZone(1);
        string local = Path.Combine(OurZones, "local.test.zone");
        File.WriteAllText(local, "$ORIGIN local.test.\n$TTL 300\n@ SOA ns1 h 1 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.9\n");
        var primaryAddress = new KnotPrimaryAddress(LoopbackPort.FindFreeForUdpAndTcp());
        await using var ours = await AnycastDnsServer.StartAsync(OurZones, SecondaryArguments(primaryAddress, TransferFixture.Key.Name), ["127.0.0.1"]);
        await using var knot = await KnotPrimary.StartAsync(KnotZones, [Origin], TransferFixture.Key, ours.EndPoint, primaryAddress.Port);
        Assert.True(await ours.WaitForAnswerAsync("www." + Origin, "192.0.2.1", Timeout), "never served\n" + ours.Log + knot.Log);

        string shadow = Path.Combine(OurZones, Origin + "zone");
        File.WriteAllText(shadow, $"$ORIGIN {Origin}\n$TTL 300\n@ SOA ns1 h 7 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.53\nwww A 192.0.2.77\n");
        File.WriteAllText(local, "$ORIGIN local.test.\n$TTL 300\n@ SOA ns1 h 2 3600 600 86400 300\n@ NS ns1\nns1 A 192.0.2.10\n");
        ours.Signal(AnycastDnsServer.SigHup);
        Assert.True(await ours.WaitForAnswerAsync("www." + Origin, "192.0.2.77", Timeout), "the file of the same origin does not win\n" + ours.Log);
        Assert.True(await ours.WaitForAnswerAsync("ns1.local.test.", "192.0.2.10", Timeout), "the edited file zone is not served\n" + ours.Log);

        File.Delete(shadow);
        ours.Signal(AnycastDnsServer.SigHup);
        Assert.True(await ours.WaitForAnswerAsync("www." + Origin, "192.0.2.1", Timeout), "the secondary version is not served again\n" + ours.Log);
        Assert.Equal("192.0.2.10", (await Kdig.QueryAsync(ours.EndPoint, ["ns1.local.test.", "A", "+short"])).StandardOutput.Trim());
    }

    /// <summary>
    /// With one refresh at a time (<c>--secondary-max-concurrent 1</c>), a zone whose primary takes the connection and
    /// never answers holds the slot for its transfer timeout (8 s here), and the other zone's refresh, though Knot's
    /// NOTIFY asks for it at once, waits its turn: served only after that attempt gave up. The bound a catalog of
    /// thousands of members needs, so as not to open a connection per member to its primary at once.
    /// </summary>
    [Fact]
    public async Task Refreshes_beyond_the_concurrent_bound_wait_their_turn()
    {
        WriteZone(1);
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, LoopbackPort.FindFreeForUdpAndTcp()));
        silent.Listen(16);
        int silentPort = ((IPEndPoint)silent.LocalEndPoint!).Port;
        var primaryAddress = new KnotPrimaryAddress(LoopbackPort.FindFreeForUdpAndTcp());
        await using var ours = await AnycastDnsServer.StartAsync(OurZones,
            [.. SecondaryArguments(primaryAddress, TransferFixture.Key.Name), "--secondary-zone", $"silent.test. 127.0.0.1:{silentPort}",
                "--secondary-transfer-timeout", "8", "--secondary-max-concurrent", "1"], ["127.0.0.1"]);
        // The silent zone's attempt holds the slot once its connection waits in the listener's queue; Knot starts only
        // then (after ours: it is told where to send its NOTIFY), so our zone's refresh cannot have come first.
        Assert.True(silent.Poll(TimeSpan.FromSeconds(20), SelectMode.SelectRead), "no refresh of silent.test. came\n" + ours.Log);
        await using var knot = await KnotPrimary.StartAsync(KnotZones, [Origin], TransferFixture.Key, ours.EndPoint, primaryAddress.Port);
        Assert.True(await ours.WaitForAnswerAsync("www." + Origin, "192.0.2.1", Timeout), "never served\n" + ours.Log + knot.Log);
        // The swap answers before its log line is written (the console logger writes from a queue): wait for the line.
        Assert.True(await ours.WaitForLogAsync($"zone {Origin} serial 1", Timeout), ours.Log);
        int gaveUp = ours.Log.IndexOf("secondary zone silent.test.: refresh failed", StringComparison.Ordinal);
        int served = ours.Log.IndexOf($"zone {Origin} serial 1", StringComparison.Ordinal);
        Assert.True(gaveUp >= 0 && gaveUp < served, $"served before the silent primary's attempt gave up:\n{ours.Log}");
        Assert.Contains("no complete answer within 8 s", ours.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_the_primary_does_not_share_gets_one_line_per_attempt_and_serves_nothing()
    {
        WriteZone(1);
        var primaryAddress = new KnotPrimaryAddress(LoopbackPort.FindFreeForUdpAndTcp());
        var wrong = TransferFixture.Key with { Secret = TransferFixture.WrongSecret };
        File.WriteAllText(KeysFile, TransferFixture.KeysFileText(wrong));
        await using var ours = await AnycastDnsServer.StartAsync(OurZones, SecondaryArguments(primaryAddress, TransferFixture.Key.Name), ["127.0.0.1"]);
        await using var knot = await KnotPrimary.StartAsync(KnotZones, [Origin], TransferFixture.Key, ours.EndPoint, primaryAddress.Port);
        Assert.True(await ours.WaitForLogAsync("BADSIG", Timeout), ours.Log);
        var answer = await Kdig.QueryAsync(ours.EndPoint, ["www." + Origin, "A"]);
        Assert.Contains("status: SERVFAIL", answer.StandardOutput, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(State, Origin + "zone")));
    }

    /// <summary>
    /// NSD as the hidden primary: the first version by AXFR with TSIG; a zone file edit and SIGHUP -> NSD's NOTIFY -> our
    /// IXFR, which NSD 4.6 (keeping no differences) answers with the whole zone in AXFR form (RFC 1995 §4): taken as
    /// the new version, records equal NSD's.
    /// </summary>
    [Fact]
    public async Task Nsd_primary_AXFR_then_NOTIFY_and_an_IXFR_answered_in_AXFR_form_records_equal()
    {
        WriteZone(1);
        var primaryAddress = new KnotPrimaryAddress(LoopbackPort.FindFreeForUdpAndTcp());
        await using var ours = await AnycastDnsServer.StartAsync(OurZones, SecondaryArguments(primaryAddress, TransferFixture.Key.Name), ["127.0.0.1"]);
        await using var nsd = await NsdPrimary.StartAsync(KnotZones, [Origin], TransferFixture.Key, ours.EndPoint, primaryAddress.Port);
        Assert.True(await ours.WaitForAnswerAsync("www." + Origin, "192.0.2.1", Timeout), "first version never served\n" + ours.Log + nsd.Log);
        Assert.True(await ours.WaitForLogAsync("AXFR from 127.0.0.1", Timeout), ours.Log);
        await AssertSameRecordsAsync(ours, (await nsd.AxfrAsync(Origin)).StandardOutput);

        WriteZone(2);
        var clock = Stopwatch.StartNew();
        nsd.Reload();
        Assert.True(await ours.WaitForAnswerAsync("www." + Origin, "192.0.2.2", Timeout), "serial 2 not served\n" + ours.Log + nsd.Log);
        output.WriteLine($"serial 2 served {clock.ElapsedMilliseconds} ms after SIGHUP to nsd");
        // The swap answers before its log line is written (the console logger writes from a queue): wait for the line.
        Assert.True(await ours.WaitForLogAsync("serial 1 -> 2", Timeout), ours.Log);
        Assert.Contains("IXFR from 127.0.0.1:" + primaryAddress.Port.ToString(CultureInfo.InvariantCulture) + " (whole zone)", ours.Log, StringComparison.Ordinal);
        await AssertSameRecordsAsync(ours, (await nsd.AxfrAsync(Origin)).StandardOutput);
        var gone = await Kdig.QueryAsync(ours.EndPoint, ["host1." + Origin, "AAAA"]);
        Assert.Contains("status: NXDOMAIN", gone.StandardOutput, StringComparison.Ordinal);
    }

    private static async Task AssertSameRecordsAsync(AnycastDnsServer ours, KnotPrimary knot) =>
        await AssertSameRecordsAsync(ours, (await knot.AxfrAsync(Origin)).StandardOutput);

    private static async Task AssertSameRecordsAsync(AnycastDnsServer ours, string primaryAxfr)
    {
        // The primary's signed answer carries a TSIG record per message: not zone data.
        var theirs = TransferFixture.Records(primaryAxfr).Where(r => r.Split(' ')[3] != "TSIG").ToList();
        var mine = TransferFixture.Records((await Kdig.QueryAsync(ours.EndPoint, [Origin, "AXFR", "+tcp"])).StandardOutput);
        Assert.True(theirs.Count > 50, string.Join('\n', theirs));
        Assert.Equal(theirs, mine);
    }
}
