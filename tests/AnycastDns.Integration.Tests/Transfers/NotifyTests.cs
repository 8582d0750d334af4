using Xunit.Abstractions;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AnycastDns.Integration.Tests.Telemetry;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Transfers;

/// <summary>
/// NOTIFY out (RFC 1996) from the real server, each test with its own zones folder and server: Knot and NSD as
/// secondaries that accept our NOTIFY hold a new serial within 2 s of the reload (their SOA refresh is an hour away);
/// a target that never answers gets the set number of attempts, then one "gave up" line and the metric; the keys file
/// reloads without a restart, and a broken one keeps the old keys.
/// </summary>
[Collection(TransferFixture.Name)]
public sealed class NotifyTests(TransferFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private const string Origin = "notify.test.";
    private const string DebianPython = "/usr/bin/python3";
    private const string DigPath = "/usr/bin/dig";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private string _folder = "";

    private string Zones => Path.Combine(_folder, "zones");

    private string KeysFile => Path.Combine(_folder, "keys.conf");

    public Task InitializeAsync()
    {
        _folder = Directory.CreateTempSubdirectory("anycastdns-notify-").FullName;
        Directory.CreateDirectory(Zones);
        WriteZone(1);
        File.WriteAllText(KeysFile, TransferFixture.KeysFileText(TransferFixture.Key, TransferFixture.OtherKey));
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Knot_and_NSD_hold_the_new_serial_within_2_s_of_the_reload(bool tsig)
    {
        int knotPort = LoopbackPort.FindFreeForUdpAndTcp();
        int nsdPort = LoopbackPort.FindFreeForUdpAndTcp();
        string keySuffix = tsig ? " key:" + TransferFixture.Key.Name : "";
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var primary = await AnycastDnsServer.StartAsync(Zones,
            ["--allow-transfer", tsig ? "key:" + TransferFixture.Key.Name : "127.0.0.1/32", "--tsig-keys", KeysFile, "--no-watch", "--http", $"127.0.0.1:{http}",
             "--notify", $"127.0.0.1:{knotPort}{keySuffix}", "--notify", $"127.0.0.1:{nsdPort}{keySuffix}", "--notify-interval", "0.5", "--notify-attempts", "10"],
            ["127.0.0.1"]);
        var key = tsig ? TransferFixture.Key : null;
        await using var knot = SecondaryServer.Start(SecondaryKind.Knot, primary.EndPoint, [Origin], key, knotPort, acceptNotify: true);
        await using var nsd = SecondaryServer.Start(SecondaryKind.Nsd, primary.EndPoint, [Origin], key, nsdPort, acceptNotify: true);
        foreach (var secondary in new[] { knot, nsd })
        {
            Assert.True(await WaitForSerialAsync(secondary, 1, Timeout), $"{secondary} never held serial 1:\n{secondary.Log}\n--- anycastdns ---\n{primary.Log}");
        }

        WriteZone(2);
        using (var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) })
        {
            (await client.PostAsync(new Uri($"http://127.0.0.1:{http}/reload"), null)).EnsureSuccessStatusCode();
        }
        var clock = Stopwatch.StartNew();
        foreach (var secondary in new[] { knot, nsd })
        {
            Assert.True(await WaitForSerialAsync(secondary, 2, TimeSpan.FromSeconds(2) - clock.Elapsed),
                $"{secondary} did not hold serial 2 within 2 s:\n{secondary.Log}\n--- anycastdns ---\n{primary.Log}");
        }
        var theirs = TransferFixture.Records((await knot.AxfrAsync(Origin)).StandardOutput);
        Assert.Contains(theirs, r => r.Contains("192.0.2.2", StringComparison.Ordinal));
        Assert.True(await primary.WaitForLogAsync($"notify {Origin} serial 2 to 127.0.0.1:{nsdPort}{(tsig ? " key:" + TransferFixture.Key.Name + "." : "")}: acknowledged", Timeout), primary.Log);
        Assert.Contains($"notify {Origin} serial 2 to 127.0.0.1:{knotPort}", primary.Log, StringComparison.Ordinal);
        // The change came by IXFR (RFC 1995), the difference only: Knot logs an incoming IXFR, and our log has a line
        // for each secondary's IXFR answered with the difference ("ixfr", not "ixfr-full").
        Assert.Contains("IXFR, incoming", knot.Log, StringComparison.Ordinal);
        Assert.DoesNotContain("fallback to AXFR", knot.Log, StringComparison.Ordinal);
        Assert.True(await primary.WaitForLogAsync($"ixfr {Origin} serial 2 to 127.0.0.1", Timeout), primary.Log);
        Assert.Equal(2, primary.Log.Split('\n').Count(l => l.Contains($"ixfr {Origin} serial 2 to 127.0.0.1", StringComparison.Ordinal)));
        output.WriteLine(string.Join('\n', primary.Log.Split('\n').Where(l => l.Contains("xfr", StringComparison.Ordinal))));
        if (tsig)
        {
            // Knot 3.2 does not name the key in its notify line, but its ACL for notify requires the key, and the
            // "acknowledged" above needed its signed reply to verify.
            Assert.True(knot.Log.Contains("notify, incoming, remote 127.0.0.1", StringComparison.Ordinal) && !knot.Log.Contains("denied", StringComparison.Ordinal), knot.Log);
        }
    }

    [Fact]
    public async Task A_target_that_never_answers_gets_the_set_attempts_then_one_gave_up_line()
    {
        using var silent = new UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        int port = ((IPEndPoint)silent.Client.LocalEndPoint!).Port;
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var primary = await AnycastDnsServer.StartAsync(Zones,
            ["--tsig-keys", KeysFile, "--no-watch", "--http", $"127.0.0.1:{http}",
             "--notify", $"127.0.0.1:{port} key:{TransferFixture.Key.Name}", "--notify-interval", "0.3", "--notify-attempts", "3"],
            ["127.0.0.1"]);
        var received = new List<byte[]>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (DateTime.UtcNow < deadline)
        {
            using var wait = new CancellationTokenSource(deadline - DateTime.UtcNow);
            try
            {
                received.Add((await silent.ReceiveAsync(wait.Token)).Buffer);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        Assert.Equal(3, received.Count);
        // dnspython reads the NOTIFY and verifies its TSIG with the key.
        var check = await ExternalTool.RunAsync(DebianPython, ["-c", """
            import sys, dns.message, dns.name, dns.tsig, dns.opcode, dns.flags
            name = dns.name.from_text(sys.argv[1])
            m = dns.message.from_wire(bytes.fromhex(sys.argv[3]), keyring={name: dns.tsig.Key(name, sys.argv[2], dns.tsig.HMAC_SHA256)})
            print(dns.opcode.to_text(m.opcode()), bool(m.flags & dns.flags.AA), m.question[0].to_text(), m.answer[0][0].serial, m.had_tsig)
            """, TransferFixture.Key.Name, TransferFixture.Key.Secret, Convert.ToHexString(received[0])], Timeout);
        Assert.True(check.ExitCode == 0, check.Output);
        Assert.Equal($"NOTIFY True {Origin} IN SOA 1 True", check.StandardOutput.Trim());
        Assert.True(await primary.WaitForLogAsync("gave up after 3 attempts", Timeout), primary.Log);
        await Task.Delay(1000);
        Assert.Single(primary.Log.Split('\n'), l => l.Contains("notify " + Origin, StringComparison.Ordinal) && l.Contains("gave up", StringComparison.Ordinal));
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var samples = await PrometheusText.ParseAsync(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics")));
        Assert.Equal(1, samples.Value("anycastdns_notifies_total", ("outcome", "failed")));
        Assert.Equal(0, samples.Value("anycastdns_notifies_total", ("outcome", "acknowledged")));
        Assert.Equal(3, samples.Value("anycastdns_notifies_sent_total"));
    }

    [Fact]
    public async Task A_target_that_answers_with_an_error_RCODE_is_one_rejected_line()
    {
        // Another AnycastDns is no secondary: it answers NOTIFY with NOTIMP, echoing the ID and question.
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var primary = await AnycastDnsServer.StartAsync(Zones,
            ["--no-watch", "--http", $"127.0.0.1:{http}", "--notify", $"127.0.0.1:{fixture.Open.Port}", "--notify-interval", "0.3", "--notify-attempts", "3"], ["127.0.0.1"]);
        Assert.True(await primary.WaitForLogAsync($"notify {Origin} serial 1 to 127.0.0.1:{fixture.Open.Port}: rejected with NOTIMP", Timeout), primary.Log);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var samples = await PrometheusText.ParseAsync(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics")));
        Assert.Equal(1, samples.Value("anycastdns_notifies_total", ("outcome", "rejected")));
        Assert.Equal(1, samples.Value("anycastdns_notifies_sent_total"));
    }

    [Fact]
    public async Task A_keys_file_edit_takes_effect_and_a_broken_one_keeps_the_old_keys()
    {
        var first = new TsigKeyText("first-key", "hmac-sha256", "Zmlyc3RzZWNyZXRmaXJzdHNlY3JldGZpcnN0c2VjcmV0MQ==");
        var second = new TsigKeyText("second-key", "hmac-sha256", "c2Vjb25kc2VjcmV0c2Vjb25kc2VjcmV0c2Vjb25kc2VjcmV0");
        var rotated = first with { Secret = "cm90YXRlZHNlY3JldHJvdGF0ZWRzZWNyZXRyb3RhdGVkMTI=" };
        File.WriteAllText(KeysFile, TransferFixture.KeysFileText(first, second));
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(Zones,
            ["--allow-transfer", "127.0.0.1/32", "--allow-transfer", "key:" + first.Name, "--tsig-keys", KeysFile, "--http", $"127.0.0.1:{http}"], ["127.0.0.1"]);
        Assert.Equal("NOERROR", await DigStatusAsync(server, second));

        // The file edited in place (the folder is watched): first-key's secret rotated, second-key gone.
        File.WriteAllText(KeysFile, TransferFixture.KeysFileText(rotated));
        Assert.True(await server.WaitForLogAsync("TSIG keys reloaded", Timeout), server.Log);
        Assert.Equal("NOERROR", await DigStatusAsync(server, rotated));
        Assert.Equal("NOTAUTH BADSIG", await DigStatusAsync(server, first));
        Assert.Equal("NOTAUTH BADKEY", await DigStatusAsync(server, second));

        // A broken file, then one without the key Transfers:Allow names: both keep the keys in force, one line each.
        File.WriteAllText(KeysFile, "key \"first-key\" {\n\talgorithm hmac-sha256;\n\tsecret \"not base64!\";\n};\n");
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string? reload = await ReloadErrorAsync(client, http);
        Assert.Equal($"Transfers:KeysFile: {KeysFile}:3: key 'first-key': the secret is not base64", reload);
        Assert.Equal("NOERROR", await DigStatusAsync(server, rotated));
        File.WriteAllText(KeysFile, TransferFixture.KeysFileText(second));
        reload = await ReloadErrorAsync(client, http);
        Assert.Equal($"Transfers:Allow: key:{first.Name}. is not a key of {KeysFile}", reload);
        Assert.Equal("NOERROR", await DigStatusAsync(server, rotated));
        Assert.Contains("TSIG keys not reloaded (POST /reload)", server.Log, StringComparison.Ordinal);

        string state = await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/state"));
        foreach (var secret in new[] { first.Secret, second.Secret, rotated.Secret })
        {
            Assert.DoesNotContain(secret, state, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, server.Log, StringComparison.Ordinal);
        }
    }

    /// <summary>POST /reload; the TSIG keys' error it reports.</summary>
    private static async Task<string?> ReloadErrorAsync(HttpClient client, int http)
    {
        string body = await (await client.PostAsync(new Uri($"http://127.0.0.1:{http}/reload"), null)).Content.ReadAsStringAsync();
        using var json = System.Text.Json.JsonDocument.Parse(body);
        var keys = json.RootElement.GetProperty("tsigKeys");
        return keys.TryGetProperty("error", out var error) ? error.GetString() : keys.GetProperty("change").GetString();
    }

    /// <summary>dig -y AXFR: "NOERROR" when the zone came, else the RCODE and the TSIG error dig reports.</summary>
    private async Task<string> DigStatusAsync(AnycastDnsServer server, TsigKeyText key)
    {
        var result = await ExternalTool.RunAsync(DigPath,
            ["@127.0.0.1", "-p", server.Port.ToString(CultureInfo.InvariantCulture), "-y", $"{key.Algorithm}:{key.Name}:{key.Secret}", Origin, "AXFR", "+time=2", "+tries=1"], Timeout);
        string output = result.StandardOutput;
        if (output.Contains("\tSOA\t", StringComparison.Ordinal) && !output.Contains("failed", StringComparison.Ordinal))
        {
            return "NOERROR";
        }
        return output.Contains("BADSIG", StringComparison.Ordinal) ? "NOTAUTH BADSIG"
            : output.Contains("BADKEY", StringComparison.Ordinal) ? "NOTAUTH BADKEY"
            : result.Output;
    }

    private void WriteZone(int serial) => File.WriteAllText(Path.Combine(Zones, "notify.test.zone"), $"""
        $ORIGIN {Origin}
        $TTL 300
        @ IN SOA ns1 hostmaster {serial} 3600 600 86400 300
        @ IN NS ns1
        ns1 IN A 192.0.2.53
        www IN A 192.0.2.{serial}
        {Hosts}
        """);

    /// <summary>40 names that never change: with them, a change to www is small enough for the IXFR history to keep (10 % of the zone).</summary>
    private static readonly string Hosts = string.Join('\n', Enumerable.Range(1, 40).Select(i => $"h{i} IN A 198.51.100.{i}"));

    private static async Task<bool> WaitForSerialAsync(SecondaryServer secondary, int serial, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        do
        {
            var soa = await Kdig.QueryAsync(secondary.EndPoint, [Origin, "SOA", "+short"]);
            var fields = soa.StandardOutput.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 3 && fields[2] == serial.ToString(CultureInfo.InvariantCulture))
            {
                return true;
            }
            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);
        return false;
    }
}
