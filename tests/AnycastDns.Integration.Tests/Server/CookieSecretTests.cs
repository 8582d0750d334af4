using System.Net.Http;
using System.Text.Json;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// The DNS cookie secret file against the real process: its fingerprint (never a secret) and source on /state, a bad
/// edit that keeps the previous secrets in force and shows on /state, and reloads by the file watch, SIGHUP and
/// <c>anycastdns reload</c>; without a file, a random secret and one log line that says what that means.
/// </summary>
public sealed class CookieSecretTests : IDisposable
{
    private const string Secret1 = "445536bcd2513298075a5d379663c962"; // fingerprint d15777da
    private const string Secret2 = "dd3bdf9344b678b185a6f5cb60fca715"; // fingerprint 766b21ce
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(60);
    private readonly string _root = Directory.CreateTempSubdirectory("anycastdns-cookies-").FullName;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };

    public CookieSecretTests()
    {
        Directory.CreateDirectory(Zones);
        File.Copy(Path.Combine(RepositoryPaths.ExampleZones, "example.com.zone"), Path.Combine(Zones, "example.com.zone"));
        Directory.CreateDirectory(Path.GetDirectoryName(SecretFile)!);
    }

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private string Zones => Path.Combine(_root, "zones");

    private string SecretFile => Path.Combine(_root, "secrets", "cookie-secrets.txt");

    /// <summary>Writes the file as an editor would: a new file renamed over the old one.</summary>
    private void WriteSecrets(string text)
    {
        string temporary = SecretFile + ".new";
        File.WriteAllText(temporary, text);
        File.Move(temporary, SecretFile, overwrite: true);
    }

    private async Task<JsonElement> Cookies(int port)
    {
        using var state = JsonDocument.Parse(await _http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/state")));
        return state.RootElement.GetProperty("cookies").Clone();
    }

    /// <summary>Polls /state until the cookies object satisfies <paramref name="done"/>; bounded by 50 polls of 100 ms.</summary>
    private async Task<JsonElement> WaitForCookies(int port, Func<JsonElement, bool> done)
    {
        var cookies = await Cookies(port);
        for (int i = 0; i < 50 && !done(cookies); i++)
        {
            await Task.Delay(100);
            cookies = await Cookies(port);
        }
        Assert.True(done(cookies), cookies.ToString());
        return cookies;
    }

    private static string[] Fingerprints(JsonElement cookies) => [.. cookies.GetProperty("fingerprints").EnumerateArray().Select(f => f.GetString()!)];

    /// <summary>Runs dig (BIND's client, which checks the client cookie it gets back) and returns the server's COOKIE line.</summary>
    private static async Task<string> DigCookieAsync(AnycastDnsServer server, string cookieArgument)
    {
        ExternalTool.RequireInstalled("/usr/bin/dig", "bind9-dnsutils");
        var result = await ExternalTool.RunAsync("/usr/bin/dig", ["@127.0.0.1", "-p", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), cookieArgument, "+norec", "+tries=1", "+time=5", "www.example.com", "A"], RunTimeout);
        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("status: NOERROR", result.StandardOutput, StringComparison.Ordinal);
        var line = result.StandardOutput.Split('\n').SingleOrDefault(l => l.StartsWith("; COOKIE: ", StringComparison.Ordinal));
        Assert.True(line is not null, result.StandardOutput);
        return line;
    }

    [Fact]
    public async Task A_cookie_dig_gets_at_one_pop_is_valid_at_another_holding_the_same_secret_file()
    {
        WriteSecrets($"{Secret1}\n");
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var ams = await AnycastDnsServer.StartAsync(Zones, ["--cookie-secret-file", SecretFile, "--pop-id", "ams1"], ["127.0.0.1"]);
        await using var fra = await AnycastDnsServer.StartAsync(Zones, ["--http", $"127.0.0.1:{http}", "--cookie-secret-file", SecretFile, "--pop-id", "fra1"], ["127.0.0.1"]);

        // "; COOKIE: <16 hex client><32 hex server> (good)": dig found its client cookie echoed and a server cookie.
        string client = "0102030405060708";
        string first = await DigCookieAsync(ams, $"+cookie={client}");
        var match = System.Text.RegularExpressions.Regex.Match(first, "^; COOKIE: ([0-9a-f]{48}) \\(good\\)$");
        Assert.True(match.Success, first);
        string cookie = match.Groups[1].Value;
        Assert.StartsWith(client + "01000000", cookie, StringComparison.Ordinal);

        // Sent to the other PoP, it verifies there and comes back unchanged (RFC 9018 §4.3: younger than 30 minutes).
        string second = await DigCookieAsync(fra, $"+cookie={cookie}");
        Assert.Equal($"; COOKIE: {cookie} (good)", second);
        // kdig (Knot's client) the same way: a cookie from one PoP, echoed unchanged by the other.
        var got = await Kdig.QueryAsync(ams.EndPoint, ["+cookie=a1b2c3d4e5f60718", "www.example.com", "A"]);
        var kdigCookie = System.Text.RegularExpressions.Regex.Match(got.StandardOutput, ";; COOKIE: (A1B2C3D4E5F60718[0-9A-F]{32})\\s");
        Assert.True(kdigCookie.Success, got.Output);
        var reused = await Kdig.QueryAsync(fra.EndPoint, [$"+cookie={kdigCookie.Groups[1].Value}", "www.example.com", "A"]);
        Assert.Contains($";; COOKIE: {kdigCookie.Groups[1].Value}", reused.StandardOutput, StringComparison.Ordinal);
        Assert.Contains("status: NOERROR", reused.StandardOutput, StringComparison.Ordinal);

        using var metrics = await _http.GetAsync(new Uri($"http://127.0.0.1:{http}/metrics"));
        string text = await metrics.Content.ReadAsStringAsync();
        Assert.Matches("anycastdns_cookie_queries_total\\{[^}]*state=\"valid\"[^}]*\\} 2\\b", text);

        // A PoP with another secret takes it as invalid and answers with a cookie of its own (RFC 7873 §5.2.4).
        WriteSecrets($"{Secret2}\n");
        await WaitForCookies(http, c => c.GetProperty("fingerprint").GetString() == "766b21ce");
        string third = await DigCookieAsync(fra, $"+cookie={cookie}");
        Assert.Matches("^; COOKIE: 0102030405060708[0-9a-f]{32} \\(good\\)$", third);
        Assert.NotEqual($"; COOKIE: {cookie} (good)", third);
    }

    [Fact]
    public async Task A_bad_edit_keeps_the_secrets_in_force_and_shows_on_state_until_a_good_one_is_picked_up()
    {
        WriteSecrets($"# cookie secrets\n{Secret1}\n");
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(Zones, ["--http", $"127.0.0.1:{http}", "--cookie-secret-file", SecretFile], ["127.0.0.1"]);
        var cookies = await Cookies(http);
        Assert.Equal("d15777da", cookies.GetProperty("fingerprint").GetString());
        Assert.Equal(SecretFile, cookies.GetProperty("source").GetString());
        Assert.False(cookies.TryGetProperty("error", out _));
        Assert.Contains($"cookie secrets from {SecretFile}: 1 (making cookies: d15777da)", server.Log, StringComparison.Ordinal);

        WriteSecrets($"{Secret1}\n{Secret2[..31]}\n");
        cookies = await WaitForCookies(http, c => c.TryGetProperty("error", out _));
        Assert.Equal($"{SecretFile}:2: expected 32 hex digits, got 31", cookies.GetProperty("error").GetString());
        Assert.Equal("d15777da", cookies.GetProperty("fingerprint").GetString());
        Assert.True(await server.WaitForLogAsync($"still making cookies with d15777da", TimeSpan.FromSeconds(5)), server.Log);
        Assert.DoesNotContain(Secret1, server.Log, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Secret2[..31], server.Log, StringComparison.OrdinalIgnoreCase);

        // The rollover's first step: the new secret second, verifying only.
        WriteSecrets($"{Secret1}\n{Secret2}\n");
        cookies = await WaitForCookies(http, c => !c.TryGetProperty("error", out _));
        Assert.Equal(["d15777da", "766b21ce"], Fingerprints(cookies));
        Assert.Equal("d15777da", cookies.GetProperty("fingerprint").GetString());
        // The second: the new one first.
        WriteSecrets($"{Secret2}\n{Secret1}\n");
        cookies = await WaitForCookies(http, c => c.GetProperty("fingerprint").GetString() == "766b21ce");
        Assert.Equal(["766b21ce", "d15777da"], Fingerprints(cookies));
        Assert.True(await server.WaitForLogAsync("making cookies: d15777da -> 766b21ce", TimeSpan.FromSeconds(5)), server.Log);
        Assert.False(server.HasExited);
    }

    [Fact]
    public async Task Sighup_and_the_reload_command_reread_the_file_and_the_command_fails_on_a_bad_one()
    {
        WriteSecrets($"{Secret1}\n");
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(Zones, ["--http", $"127.0.0.1:{http}", "--cookie-secret-file", SecretFile, "--no-watch"], ["127.0.0.1"]);

        WriteSecrets($"{Secret2}\n{Secret1}\n");
        await Task.Delay(1000);
        Assert.Equal("d15777da", (await Cookies(http)).GetProperty("fingerprint").GetString()); // --no-watch: not yet
        server.Signal(AnycastDnsServer.SigHup);
        await WaitForCookies(http, c => c.GetProperty("fingerprint").GetString() == "766b21ce");
        Assert.True(await server.WaitForLogAsync("cookie secrets reloaded", TimeSpan.FromSeconds(5)), server.Log);

        WriteSecrets($"{Secret1}\n");
        var reload = await ExternalTool.RunAsync("dotnet", ["exec", AnycastDnsServer.DllPath, "reload", "--http", $"127.0.0.1:{http}"], RunTimeout);
        Assert.True(reload.ExitCode == 0, reload.Output);
        Assert.Contains($"cookie secrets\tchanged, making cookies with d15777da\t{SecretFile}", reload.StandardOutput, StringComparison.Ordinal);

        WriteSecrets("# emptied by mistake\n");
        reload = await ExternalTool.RunAsync("dotnet", ["exec", AnycastDnsServer.DllPath, "reload", "--http", $"127.0.0.1:{http}"], RunTimeout);
        Assert.True(reload.ExitCode == 1, reload.Output);
        Assert.Contains($"cookie secrets not reloaded: {SecretFile}: no secret in the file", reload.StandardError, StringComparison.Ordinal);
        Assert.Contains("still making cookies with d15777da", reload.StandardError, StringComparison.Ordinal);
        Assert.Equal("d15777da", (await Cookies(http)).GetProperty("fingerprint").GetString());
    }

    [Fact]
    public async Task Without_a_file_the_secret_is_random_said_once_and_kept_over_sighup()
    {
        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(Zones, ["--http", $"127.0.0.1:{http}"], ["127.0.0.1"]);
        var cookies = await Cookies(http);
        Assert.Equal("random", cookies.GetProperty("source").GetString());
        string fingerprint = cookies.GetProperty("fingerprint").GetString()!;
        Assert.Matches("^[0-9a-f]{8}$", fingerprint);

        server.Signal(AnycastDnsServer.SigHup);
        Assert.True(await server.WaitForLogAsync("reloading zones: SIGHUP", TimeSpan.FromSeconds(5)), server.Log);
        Assert.Equal(fingerprint, (await Cookies(http)).GetProperty("fingerprint").GetString());
        const string said = "no Cookies:SecretFile: made a random cookie secret";
        Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(server.Log, System.Text.RegularExpressions.Regex.Escape(said)));
        Assert.Contains($"({fingerprint}); server cookies from this server will not verify at other PoPs", server.Log, StringComparison.Ordinal);
    }
}
