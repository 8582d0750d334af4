using System.Text.Json;
using AnycastDns.Integration.Tests.Telemetry;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Server;

/// <summary>
/// RRSIGs close to expiry are a warning an operator sees on /zones, with the window set by the configuration key
/// Dnssec:SignatureExpiryWarningDays (RFC 4035 §5.3.1: past expiration, validators reject the zone).
/// </summary>
public sealed class SignatureExpiryTests : IDisposable
{
    private const string Zone = """
        $TTL 3600
        @    IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
        @    IN NS  ns1
        ns1  IN A   192.0.2.53
        www  IN A   192.0.2.80
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-expiry-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Signatures_within_the_configured_window_are_a_warning_on_the_zones_endpoint()
    {
        // Nine days left: inside a 10-day window, outside the default 7 days, so the warning proves the key is read.
        var expiration = DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddDays(9).ToUnixTimeSeconds());
        var signed = await SignedZone.SignAsync("expiring.test.", Zone, DenialKind.Nsec, Path.Combine(_folder, "keys"), expiration);
        string zones = Directory.CreateDirectory(Path.Combine(_folder, "zones")).FullName;
        File.Copy(signed.Path, Path.Combine(zones, "expiring.test.zone"));
        string config = Path.Combine(_folder, "appsettings.json");
        await File.WriteAllTextAsync(config, """{ "Dnssec": { "SignatureExpiryWarningDays": 10 } }""");

        int http = LoopbackPort.FindFreeForUdpAndTcp();
        await using var server = await AnycastDnsServer.StartAsync(zones, ["--http", $"127.0.0.1:{http}", "--config", config], ["127.0.0.1"]);
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var status = JsonDocument.Parse(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/zones")));
        var zone = status.RootElement.GetProperty("zones").EnumerateArray().Single(z => z.GetProperty("origin").GetString() == "expiring.test.");
        Assert.Equal("ok", zone.GetProperty("status").GetString());
        var diagnostics = zone.GetProperty("diagnostics").EnumerateArray().Select(d => d.GetString()!).ToList();
        var warning = Assert.Single(diagnostics);
        Assert.Matches(@"expiring\.test\.zone:\d+:\d+: warning: \d+ RRSIGs expire within 10 days; the first, over ", warning);

        // The same date as a metric, for an alert that fires as a zone nobody reloads ages toward it.
        var samples = await PrometheusText.ParseAsync(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics")));
        Assert.Equal(expiration.ToUnixTimeSeconds(), samples.Value("anycastdns_zone_signatures_expiry_timestamp_seconds", ("zone", "expiring.test.")));
    }
}
