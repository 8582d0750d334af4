using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AnycastDns.TestSupport;
using DnsClient;
using DnsClient.Protocol;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// Zone identity past what one DNS message holds: two real servers with the same 20,000 generated zones answer for
/// every zone, give one zones.server summary that an operator can recompute from /zones, agree under fleet-check, and
/// after one zone is edited on one of them, fleet-check names exactly that zone, fetching the per-zone lists from the
/// status endpoints in pages.
/// </summary>
public sealed class FleetAtScaleTests : IDisposable
{
    private const int ZoneCount = 20_000;
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);
    /// <summary>
    /// 40,000 small files: in memory (/dev/shm) where there is one, since making and deleting them on a busy disk
    /// took longer than the rest of the test.
    /// </summary>
    private readonly string _root = Directory.Exists("/dev/shm")
        ? Directory.CreateDirectory(Path.Combine("/dev/shm", "anycastdns-fleet-scale-" + Guid.NewGuid().ToString("N"))).FullName
        : Directory.CreateTempSubdirectory("anycastdns-fleet-scale-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private static string Origin(int i) => $"z{i.ToString("D5", CultureInfo.InvariantCulture)}.test.";

    private static string ZoneText(int i, uint serial, string address) =>
        $"$ORIGIN {Origin(i)}\n$TTL 3600\n@ IN SOA ns.{Origin(i)} admin.{Origin(i)} {serial} 3600 900 604800 300\n@ IN NS ns\nns IN A 192.0.2.53\n"
        + $"www IN A {address}\n@ IN TXT \"zone {i}\"\n";

    /// <summary>The same small zones in two folders: SOA, NS, two A and a TXT each.</summary>
    private (string A, string B) Generate()
    {
        string a = Path.Combine(_root, "a"), b = Path.Combine(_root, "b");
        Directory.CreateDirectory(a);
        Directory.CreateDirectory(b);
        for (int i = 0; i < ZoneCount; i++)
        {
            byte[] text = Encoding.ASCII.GetBytes(ZoneText(i, 2026010101, $"198.51.100.{i % 250 + 1}"));
            File.WriteAllBytes(Path.Combine(a, Origin(i) + "zone"), text);
            File.WriteAllBytes(Path.Combine(b, Origin(i) + "zone"), text);
        }
        return (a, b);
    }

    private static Task<ToolResult> Anycastdns(params string[] arguments) =>
        ExternalTool.RunAsync("dotnet", ["exec", AnycastDnsServer.DllPath, .. arguments], RunTimeout);

    private static LookupClient Client(IPEndPoint server) => new(new LookupClientOptions(new NameServer(server))
    {
        UseCache = false,
        Retries = 1,
        Timeout = TimeSpan.FromSeconds(5),
        ThrowDnsErrors = false,
    });

    /// <summary>
    /// The zones.server answer over TCP as kdig prints it, one line per TXT, once the server has made its summary
    /// (SERVFAIL until then: every zone's digest is computed after the load); at most 60 tries, 0.5 s apart.
    /// </summary>
    private static async Task<string[]> ZonesServer(IPEndPoint server)
    {
        ToolResult dig = null!;
        for (int i = 0; i < 60; i++)
        {
            dig = await Kdig.QueryAsync(server, ["-c", "CH", "zones.server", "TXT", "+tcp", "+short"]);
            if (dig.ExitCode == 0 && dig.StandardOutput.Trim().Length > 0)
            {
                return dig.StandardOutput.Trim().Split('\n');
            }
            await Task.Delay(500);
        }
        Assert.Fail("zones.server: no answer within 60 tries: " + dig.Output);
        return [];
    }

    /// <summary>Every page of /zones, and the SHA-384 over its lines as the README tells an operator to compute it.</summary>
    private static async Task<(int Zones, int Pages, string Digest, string Summary)> RecomputeFromZonesEndpoint(int port)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(20) };
        var lines = new StringBuilder();
        int zones = 0, pages = 0;
        string? from = null, summary = null;
        for (; pages < 10; pages++)
        {
            string query = "limit=5000" + (from is null ? "" : "&from=" + Uri.EscapeDataString(from));
            using var json = JsonDocument.Parse(await client.GetStringAsync(new Uri($"http://127.0.0.1:{port}/zones?{query}")));
            summary ??= json.RootElement.GetProperty("summary").GetProperty("digest").GetString();
            foreach (var zone in json.RootElement.GetProperty("zones").EnumerateArray())
            {
                lines.Append(CultureInfo.InvariantCulture, $"{zone.GetProperty("origin").GetString()!.ToLowerInvariant()} {zone.GetProperty("serial").GetUInt32()} {zone.GetProperty("digest").GetString()}\n");
                zones++;
            }
            if (!json.RootElement.TryGetProperty("next", out var next))
            {
                pages++;
                break;
            }
            from = next.GetString();
        }
        string digest = Convert.ToHexStringLower(SHA384.HashData(Encoding.UTF8.GetBytes(lines.ToString())));
        return (zones, pages, digest, summary!);
    }

    [Fact]
    public async Task Twenty_thousand_zones_answer_and_fleet_check_names_the_one_zone_edited_on_one_pop()
    {
        var clock = Stopwatch.StartNew();
        var (folderA, folderB) = Generate();
        var generated = clock.Elapsed;
        int httpA = LoopbackPort.FindFreeForUdpAndTcp(), httpB = LoopbackPort.FindFreeForUdpAndTcp();
        // One log line per zone loaded is 20,000 lines for the test to read: the reloader logs warnings only.
        var quiet = new Dictionary<string, string?> { ["ANYCASTDNS_Logging__LogLevel__AnycastDns.Server.ZoneReloader"] = "Warning" };
        // One cookie secret for both, as a fleet has: fleet-check compares it too.
        string secrets = Path.Combine(_root, "cookies.secrets");
        File.WriteAllText(secrets, "445536bcd2513298075a5d379663c962\n");
        var startA = AnycastDnsServer.StartAsync(folderA, ["--pop-id", "ams1", "--http", $"127.0.0.1:{httpA}", "--no-watch", "--cookie-secret-file", secrets], ["127.0.0.1"], environment: quiet);
        var startB = AnycastDnsServer.StartAsync(folderB, ["--pop-id", "fra1", "--http", $"127.0.0.1:{httpB}", "--no-watch", "--cookie-secret-file", secrets], ["127.0.0.1"], environment: quiet);
        await using var a = await startA;
        await using var b = await startB;
        var started = clock.Elapsed;
        Console.WriteLine($"generated in {generated.TotalSeconds:F1} s, both started {started.TotalSeconds:F1} s");

        // Every zone answers: a sample across the range on both servers, and the last zone, by real queries.
        foreach (var server in new[] { a, b })
        {
            var client = Client(server.EndPoint);
            for (int i = 0; i < ZoneCount; i += ZoneCount / 40)
            {
                await AssertAnswers(client, i);
            }
            await AssertAnswers(client, ZoneCount - 1);
        }

        // zones.server: over 400 zones, the summary alone, the same on both PoPs, and what /zones recomputes.
        var summaryA = await ZonesServer(a.EndPoint);
        var summaryB = await ZonesServer(b.EndPoint);
        Assert.Single(summaryA);
        Assert.Matches($"^\"zones\" \"{ZoneCount}\" \"[0-9a-f]{{96}}\"$", summaryA[0]);
        Assert.Equal(summaryA, summaryB);
        var recomputed = await RecomputeFromZonesEndpoint(httpA);
        Assert.Equal(ZoneCount, recomputed.Zones);
        Assert.Equal(4, recomputed.Pages);
        Assert.Equal($"\"zones\" \"{ZoneCount}\" \"{recomputed.Digest}\"", summaryA[0]);
        Assert.Equal(recomputed.Digest, recomputed.Summary);

        string popA = $"{a.EndPoint},http=127.0.0.1:{httpA}", popB = $"{b.EndPoint},http=127.0.0.1:{httpB}";
        var same = await Anycastdns("fleet-check", popA, popB);
        Assert.True(same.ExitCode == 0, same.Output);
        Assert.Contains("all 2 PoPs serve the same zones", same.StandardOutput, StringComparison.Ordinal);
        Assert.Matches($@"{Regex(a.EndPoint)}\s+ams1\s+{ZoneCount}\s+\S+\s+ok", same.StandardOutput);

        // One zone edited on fra1: a new serial and a new address, reloaded.
        const int Edited = 12_345;
        File.WriteAllText(Path.Combine(folderB, Origin(Edited) + "zone"), ZoneText(Edited, 2026010102, "203.0.113.7"));
        var reload = await Anycastdns("reload", "--http", $"127.0.0.1:{httpB}");
        Assert.True(reload.ExitCode == 0, reload.Output);
        var one = await Kdig.QueryAsync(b.EndPoint, ["-c", "CH", Origin(Edited) + "zones.server", "TXT", "+short"]);
        Assert.StartsWith($"\"{Origin(Edited)}\" \"2026010102\"", one.StandardOutput.Trim(), StringComparison.Ordinal);
        Assert.NotEqual(summaryA, await ZonesServer(b.EndPoint));

        var checkClock = Stopwatch.StartNew();
        var differ = await Anycastdns("fleet-check", popA, popB);
        var checkTime = checkClock.Elapsed;
        Assert.True(differ.ExitCode == 1, differ.Output);
        // Exactly one zone named, on one PoP's row, whichever of the two the tie makes the reference.
        var named = System.Text.RegularExpressions.Regex.Matches(differ.StandardOutput, @"z\d{5}\.test\.").Select(m => m.Value).Distinct().ToList();
        Assert.Equal([Origin(Edited)], named);
        Assert.Matches($@"DIFFERS: {System.Text.RegularExpressions.Regex.Escape(Origin(Edited))} serial 202601010[12], others 202601010[12]$",
            differ.StandardOutput.Split('\n').Single(l => l.Contains("DIFFERS", StringComparison.Ordinal)).TrimEnd());
        Assert.Contains("1 of 2 PoPs differ or did not answer", differ.StandardOutput, StringComparison.Ordinal);

        // A PoP whose status endpoint does not answer: compared by its summary, and one line says so.
        int closed = LoopbackPort.FindFreeForUdpAndTcp();
        var blind = await Anycastdns("fleet-check", popA, $"{b.EndPoint},http=127.0.0.1:{closed}", "--timeout", "2");
        Assert.True(blind.ExitCode == 1, blind.Output);
        Assert.Contains($"{b.EndPoint}: cannot fetch its per-zone list: http://127.0.0.1:{closed}/zones?limit=", blind.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("compared by its zones.server summary only", blind.StandardOutput, StringComparison.Ordinal);
        Assert.Matches($@"\s{ZoneCount}\s+\S+\s+DIFFERS: zones\.server summary [0-9a-f]{{12}}… \({ZoneCount} zones\), others [0-9a-f]{{12}}… \({ZoneCount} zones\)$",
            blind.StandardOutput.Split('\n').Single(l => l.Contains("DIFFERS", StringComparison.Ordinal)).TrimEnd());

        // Visible in the test log: what the parts cost on this machine.
        Console.WriteLine($"generate {generated.TotalSeconds:F1} s, start both {(started - generated).TotalSeconds:F1} s, fleet-check with lists {checkTime.TotalSeconds:F1} s, total {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static async Task AssertAnswers(LookupClient client, int i)
    {
        var answer = await client.QueryAsync("www." + Origin(i), QueryType.A);
        Assert.False(answer.HasError, $"{Origin(i)}: {answer.ErrorMessage}");
        Assert.Equal($"198.51.100.{i % 250 + 1}", Assert.Single(answer.Answers.OfType<ARecord>()).Address.ToString());
        Assert.True(answer.Header.HasAuthorityAnswer, Origin(i));
    }

    private static string Regex(IPEndPoint endPoint) => System.Text.RegularExpressions.Regex.Escape(endPoint.ToString());
}
