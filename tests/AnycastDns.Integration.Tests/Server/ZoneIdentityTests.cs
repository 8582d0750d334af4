using System.Net;
using System.Net.Http;
using System.Text.Json;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// Every PoP can prove which zones it serves: CHAOS zones.server, the /zones endpoint, fleet-check across PoPs,
/// and ZONEMD records written by check --zonemd-write that an independent verifier (ldns) accepts.
/// </summary>
public sealed class ZoneIdentityTests : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);
    private readonly string _root = Directory.CreateTempSubdirectory("anycastdns-identity-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static Task<ToolResult> Anycastdns(params string[] arguments) =>
        ExternalTool.RunAsync("dotnet", ["exec", AnycastDnsServer.DllPath, .. arguments], RunTimeout);

    /// <summary>A copy of the example zones in its own folder; <paramref name="serial"/> replaces example.com's serial.</summary>
    private string Zones(string name, string serial = "2024010101")
    {
        string folder = Path.Combine(_root, name);
        Directory.CreateDirectory(folder);
        string text = File.ReadAllText(Path.Combine(RepositoryPaths.ExampleZones, "example.com.zone"));
        File.WriteAllText(Path.Combine(folder, "example.com.zone"), text.Replace("2024010101", serial, StringComparison.Ordinal));
        File.Copy(Path.Combine(RepositoryPaths.TestZones, "other.test.zone"), Path.Combine(folder, "other.test.zone"));
        return folder;
    }

    /// <summary>A cookie secret file of these secrets, in its own file.</summary>
    private string Secrets(string name, params string[] secrets)
    {
        string file = Path.Combine(_root, name + ".secrets");
        File.WriteAllText(file, string.Join('\n', secrets) + "\n");
        return file;
    }

    private const string Secret1 = "445536bcd2513298075a5d379663c962"; // fingerprint d15777da
    private const string Secret2 = "dd3bdf9344b678b185a6f5cb60fca715"; // fingerprint 766b21ce

    private static string Row(ToolResult result, IPEndPoint pop) =>
        result.StandardOutput.Split('\n').Single(l => l.StartsWith(pop.ToString(), StringComparison.Ordinal)).TrimEnd();

    [Fact]
    public async Task Fleet_check_names_the_pop_with_the_older_zone_and_exits_1()
    {
        string secrets = Secrets("fleet", Secret1);
        await using var a = await AnycastDnsServer.StartAsync(Zones("a", "2024010102"), ["--pop-id", "ams1", "--cookie-secret-file", secrets], ["127.0.0.1"]);
        await using var b = await AnycastDnsServer.StartAsync(Zones("b", "2024010102"), ["--pop-id", "fra1", "--cookie-secret-file", secrets], ["127.0.0.1"]);
        await using var c = await AnycastDnsServer.StartAsync(Zones("c", "2024010101"), ["--pop-id", "lhr1", "--cookie-secret-file", secrets], ["127.0.0.1"]);

        var differ = await Anycastdns("fleet-check", a.EndPoint.ToString(), b.EndPoint.ToString(), c.EndPoint.ToString());
        Assert.True(differ.ExitCode == 1, differ.Output);
        Assert.Matches($@"^{Regex(a.EndPoint)}\s+ams1\s+2\s+\S+\s+ok$", Row(differ, a.EndPoint));
        Assert.Matches($@"^{Regex(c.EndPoint)}\s+lhr1\s+2\s+\S+\s+DIFFERS: example\.com\. serial 2024010101, others 2024010102$", Row(differ, c.EndPoint));
        Assert.Contains("1 of 3 PoPs differ or did not answer", differ.StandardOutput, StringComparison.Ordinal);

        var same = await Anycastdns("fleet-check", a.EndPoint.ToString(), b.EndPoint.ToString());
        Assert.True(same.ExitCode == 0, same.Output);
        Assert.Contains("all 2 PoPs serve the same zones", same.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fleet_check_shows_each_pops_cookie_secret_and_names_the_pops_whose_cookies_would_not_verify()
    {
        string folder = Zones("z");
        string shared = Secrets("shared", Secret1);
        await using var a = await AnycastDnsServer.StartAsync(folder, ["--pop-id", "ams1", "--cookie-secret-file", shared], ["127.0.0.1"]);
        await using var b = await AnycastDnsServer.StartAsync(folder, ["--pop-id", "fra1", "--cookie-secret-file", shared], ["127.0.0.1"]);

        var same = await Anycastdns("fleet-check", a.EndPoint.ToString(), b.EndPoint.ToString());
        Assert.True(same.ExitCode == 0, same.Output);
        Assert.Matches($@"^{Regex(a.EndPoint)}\s+ams1\s+2\s+d15777da\s+ok$", Row(same, a.EndPoint));
        Assert.Contains("all 2 PoPs serve the same zones and make cookies with secret d15777da", same.StandardOutput, StringComparison.Ordinal);

        // A PoP deployed without the file makes its own secret; one that got the rollover's last step before the first
        // makes cookies with a secret the others do not hold, and cannot verify theirs.
        await using var random = await AnycastDnsServer.StartAsync(folder, ["--pop-id", "lhr1"], ["127.0.0.1"]);
        await using var ahead = await AnycastDnsServer.StartAsync(folder, ["--pop-id", "cdg1", "--cookie-secret-file", Secrets("ahead", Secret2)], ["127.0.0.1"]);
        var differ = await Anycastdns("fleet-check", a.EndPoint.ToString(), b.EndPoint.ToString(), random.EndPoint.ToString(), ahead.EndPoint.ToString());
        Assert.True(differ.ExitCode == 1, differ.Output);
        Assert.Matches($@"^{Regex(a.EndPoint)}\s+ams1\s+2\s+d15777da\s+DIFFERS: does not verify cookies made with secret 766b21ce$", Row(differ, a.EndPoint));
        Assert.Matches($@"^{Regex(random.EndPoint)}\s+lhr1\s+2\s+[0-9a-f]{{8}} \(random\)\s+DIFFERS: cookie secret [0-9a-f]{{8}} is random \(no Cookies:SecretFile\), others d15777da; does not verify cookies made with secret 766b21ce; does not verify cookies made with secret d15777da$", Row(differ, random.EndPoint));
        Assert.Matches($@"^{Regex(ahead.EndPoint)}\s+cdg1\s+2\s+766b21ce\s+DIFFERS: cookie secret 766b21ce, others d15777da; does not verify cookies made with secret d15777da$", Row(differ, ahead.EndPoint));
        Assert.Contains("4 of 4 PoPs differ or did not answer", differ.StandardOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fleet_check_reports_a_pop_that_does_not_answer()
    {
        await using var a = await AnycastDnsServer.StartAsync(Zones("a"), addresses: ["127.0.0.1"]);
        int silent = LoopbackPort.FindFreeForUdpAndTcp();
        var pops = Path.Combine(_root, "pops.txt");
        File.WriteAllText(pops, $"# the fleet\n{a.EndPoint}\n127.0.0.1:{silent}   # nothing listens here\n");
        var result = await Anycastdns("fleet-check", "--file", pops, "--timeout", "1");
        Assert.True(result.ExitCode == 1, result.Output);
        Assert.Matches($@"127\.0\.0\.1:{silent}\s+-\s+-\s+-\s+NO ANSWER", result.StandardOutput);
    }

    [Fact]
    public async Task Zones_server_over_chaos_and_the_zones_endpoint_agree_with_check()
    {
        string folder = Zones("a");
        var check = await Anycastdns("check", "--zonemd", folder);
        Assert.True(check.ExitCode == 0, check.Output);
        string digest = System.Text.RegularExpressions.Regex.Match(check.StandardOutput, @"example\.com\. 3600 IN ZONEMD 2024010101 1 1 ([0-9a-f]{96})").Groups[1].Value;
        Assert.Equal(96, digest.Length);

        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(folder, ["--http", $"127.0.0.1:{http}"], ["127.0.0.1"]);
        var dig = await Kdig.QueryAsync(server.EndPoint, ["-c", "CH", "example.com.zones.server", "TXT", "+short"]);
        Assert.Equal($"\"example.com.\" \"2024010101\" \"{digest}\"", dig.StandardOutput.Trim());
        // zones.server: the summary, then each zone (two fit in one message); the summary is the SHA-384 of the zones' lines.
        var all = await Kdig.QueryAsync(server.EndPoint, ["-c", "CH", "zones.server", "TXT", "+tcp", "+short"]);
        var lines = all.StandardOutput.Trim().Split('\n');
        Assert.Equal(3, lines.Length);
        var other = await Kdig.QueryAsync(server.EndPoint, ["-c", "CH", "other.test.zones.server", "TXT", "+short"]);
        string otherDigest = other.StandardOutput.Trim().Split(' ')[2].Trim('"');
        string summary = Convert.ToHexStringLower(System.Security.Cryptography.SHA384.HashData(System.Text.Encoding.UTF8.GetBytes(
            $"example.com. 2024010101 {digest}\nother.test. 2024020201 {otherDigest}\n")));
        Assert.Equal($"\"zones\" \"2\" \"{summary}\"", lines[0]);
        Assert.Equal($"\"example.com.\" \"2024010101\" \"{digest}\"", lines[1]);

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var zones = JsonDocument.Parse(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/zones")));
        var example = zones.RootElement.GetProperty("zones").EnumerateArray().Single(z => z.GetProperty("origin").GetString() == "example.com.");
        Assert.Equal(digest, example.GetProperty("digest").GetString());
        Assert.Equal(2024010101u, example.GetProperty("serial").GetUInt32());
        Assert.Equal("ok", example.GetProperty("status").GetString());
        Assert.Equal("test-pop", zones.RootElement.GetProperty("pop").GetString());
        Assert.Equal(HttpStatusCode.OK, await ReadyAsync(client, http));
        Assert.Equal("ok\n", await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/healthz")));
    }

    [Fact]
    public async Task A_broken_edit_shows_on_the_zones_endpoint_and_the_reload_command_fails()
    {
        string folder = Zones("a");
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(folder, ["--http", $"127.0.0.1:{http}", "--no-watch"], ["127.0.0.1"]);
        File.AppendAllText(Path.Combine(folder, "other.test.zone"), "broken MX not-a-number mail\n");

        var reload = await Anycastdns("reload", "--http", $"127.0.0.1:{http}");
        Assert.True(reload.ExitCode == 1, reload.Output);
        Assert.Contains("other.test.\tfailed", reload.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("still serving other.test. serial", reload.StandardError, StringComparison.Ordinal);

        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var zones = JsonDocument.Parse(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/zones")));
        var other = zones.RootElement.GetProperty("zones").EnumerateArray().Single(z => z.GetProperty("origin").GetString() == "other.test.");
        Assert.Equal("stale", other.GetProperty("status").GetString());
        Assert.Contains(other.GetProperty("diagnostics").EnumerateArray(), d => d.GetString()!.Contains("other.test.zone:", StringComparison.Ordinal));
        // Still ready: the other zones are fine, and the old version of this one is served.
        Assert.Equal(HttpStatusCode.OK, await ReadyAsync(client, http));
    }

    [Fact]
    public async Task Zonemd_write_makes_a_record_ldns_verifies_and_rewrites_it_after_a_change()
    {
        string folder = Zones("a");
        string file = Path.Combine(folder, "example.com.zone");
        var first = await Anycastdns("check", "--zonemd-write", folder);
        Assert.True(first.ExitCode == 0, first.Output);
        var verify = await ExternalTool.RunAsync("/usr/bin/ldns-verify-zone", ["-Z", file], RunTimeout);
        Assert.True(verify.ExitCode == 0, verify.Output);

        File.WriteAllText(file, File.ReadAllText(file).Replace("192.0.2.25", "192.0.2.26", StringComparison.Ordinal));
        var stale = await Anycastdns("check", folder);
        Assert.Equal(1, stale.ExitCode);
        Assert.Contains("ZONEMD digest does not match", stale.StandardError, StringComparison.Ordinal);

        var second = await Anycastdns("check", "--zonemd-write", folder);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Single(File.ReadAllLines(file), l => l.Contains("ZONEMD", StringComparison.Ordinal));
        Assert.True((await ExternalTool.RunAsync("/usr/bin/ldns-verify-zone", ["-Z", file], RunTimeout)).ExitCode == 0);
        Assert.Equal(0, (await Anycastdns("check", folder)).ExitCode);
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
    }

    /// <summary>/readyz once the server has announced (3 good self-checks, about 2 s), or its last status after 10 s.</summary>
    private static async Task<HttpStatusCode> ReadyAsync(HttpClient client, int port)
    {
        var status = HttpStatusCode.ServiceUnavailable;
        for (int i = 0; i < 50 && status != HttpStatusCode.OK; i++)
        {
            if (i > 0)
            {
                await Task.Delay(200);
            }
            using var response = await client.GetAsync(new Uri($"http://127.0.0.1:{port}/readyz"));
            status = response.StatusCode;
        }
        return status;
    }

    private static string Regex(IPEndPoint endPoint) => System.Text.RegularExpressions.Regex.Escape(endPoint.ToString());
}
