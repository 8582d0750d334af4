using AnycastDns.Integration.Tests.Telemetry;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Transfers;

/// <summary>
/// Knot and NSD as real secondaries of AnycastDns on loopback, configured by the test: they fetch every test zone
/// (the signed ones included) by AXFR, without and with TSIG, and then serve exactly what we serve, record for record
/// (read back from them with kdig AXFR). A wrong key, or an address the primary does not allow, leaves them nothing.
/// </summary>
[Collection(TransferFixture.Name)]
public sealed class SecondaryTests(TransferFixture fixture)
{
    private static readonly TimeSpan TransferTimeout = TimeSpan.FromSeconds(30);

    /// <summary>How long a refused secondary is given to fail: it asks at once, and retries within seconds.</summary>
    private static readonly TimeSpan RefusalWait = TimeSpan.FromSeconds(4);

    [Theory]
    [InlineData(SecondaryKind.Knot, false)]
    [InlineData(SecondaryKind.Knot, true)]
    [InlineData(SecondaryKind.Nsd, false)]
    [InlineData(SecondaryKind.Nsd, true)]
    public async Task The_secondary_holds_every_zone_exactly_as_we_serve_it(SecondaryKind kind, bool tsig)
    {
        var primary = tsig ? fixture.Keyed : fixture.Open;
        await using var secondary = SecondaryServer.Start(kind, primary.EndPoint, fixture.Origins, tsig ? TransferFixture.Key : null);
        foreach (string origin in fixture.Origins)
        {
            Assert.True(await secondary.WaitForZoneAsync(origin, TransferTimeout), $"{secondary} never served {origin}:\n{secondary.Log}\n--- anycastdns ---\n{primary.Log}");
            var ours = await Kdig.QueryAsync(fixture.Open.EndPoint, [origin, "AXFR", "+tcp"]);
            var theirs = await secondary.AxfrAsync(origin);
            Assert.True(ours.ExitCode == 0, ours.Output);
            Assert.True(theirs.ExitCode == 0, theirs.Output);
            var expected = TransferFixture.Records(ours.StandardOutput);
            Assert.True(expected.Count > 4, ours.Output);
            Assert.Equal(expected, TransferFixture.Records(theirs.StandardOutput));
        }
        string signedBy = tsig ? $"({TransferFixture.Key.Name}. (hmac-sha256))" : "(unsigned)";
        Assert.Contains(signedBy, primary.Log, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SecondaryKind.Knot)]
    [InlineData(SecondaryKind.Nsd)]
    public async Task With_a_wrong_key_the_secondary_gets_nothing(SecondaryKind kind)
    {
        double before = await TransfersAsync(fixture.KeyedHttp, "tsig_error");
        var wrong = TransferFixture.Key with { Secret = TransferFixture.WrongSecret };
        await using var secondary = SecondaryServer.Start(kind, fixture.Keyed.EndPoint, fixture.Origins, wrong);
        Assert.True(await WaitForAsync(async () => await TransfersAsync(fixture.KeyedHttp, "tsig_error") > before), $"{secondary} never asked:\n{secondary.Log}");
        await Task.Delay(RefusalWait);
        foreach (string origin in fixture.Origins)
        {
            Assert.False(await secondary.HoldsZoneAsync(origin), $"{secondary} holds {origin}");
        }
    }

    [Theory]
    [InlineData(SecondaryKind.Knot)]
    [InlineData(SecondaryKind.Nsd)]
    public async Task From_an_address_not_allowed_the_secondary_gets_nothing(SecondaryKind kind)
    {
        double before = await TransfersAsync(fixture.KeyedHttp, "refused");
        await using var secondary = SecondaryServer.Start(kind, fixture.Keyed.EndPoint, fixture.Origins, key: null);
        Assert.True(await WaitForAsync(async () => await TransfersAsync(fixture.KeyedHttp, "refused") > before), $"{secondary} never asked:\n{secondary.Log}");
        await Task.Delay(RefusalWait);
        foreach (string origin in fixture.Origins)
        {
            Assert.False(await secondary.HoldsZoneAsync(origin), $"{secondary} holds {origin}");
        }
    }

    private static async Task<double> TransfersAsync(int http, string outcome)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var samples = await PrometheusText.ParseAsync(await client.GetStringAsync(new Uri($"http://127.0.0.1:{http}/metrics")));
        return samples.Value("anycastdns_transfers_total", ("type", "axfr"), ("outcome", outcome));
    }

    private static async Task<bool> WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TransferTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }
            await Task.Delay(200);
        }
        return false;
    }

    /// <summary>argv: host, port, then origins: for each, "origin hex" with the RFC 8976 SIMPLE SHA-384 digest dnspython computes of the zone it reads by AXFR.</summary>
    private const string DigestScript = """
        import sys
        import dns.query, dns.zone
        host, port = sys.argv[1], int(sys.argv[2])
        for origin in sys.argv[3:]:
            z = dns.zone.from_xfr(dns.query.xfr(host, origin, port=port, lifetime=30))
            print(origin, z.compute_digest(dns.zone.DigestHashAlgorithm.SHA384).digest.hex())
        """;

    [Fact]
    public async Task What_Knot_holds_has_our_ZONEMD_digest_and_the_signed_zones_validate_at_Knot()
    {
        await using var knot = SecondaryServer.Start(SecondaryKind.Knot, fixture.Open.EndPoint, fixture.Origins, null);
        foreach (string origin in fixture.Origins)
        {
            Assert.True(await knot.WaitForZoneAsync(origin, TransferTimeout), $"{knot} never served {origin}:\n{knot.Log}");
        }
        // The digest of the zone Knot gives out (computed by dnspython, RFC 8976 §3) is the one we serve in <origin>.zones.server.
        var digests = await ExternalTool.RunAsync("/usr/bin/python3",
            ["-c", DigestScript, "127.0.0.1", knot.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. fixture.Origins], TimeSpan.FromSeconds(120));
        Assert.True(digests.ExitCode == 0, digests.Output);
        var lines = digests.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(fixture.Origins.Count, lines.Length);
        foreach (string line in lines)
        {
            var fields = line.Split(' ');
            var ours = await Kdig.QueryAsync(fixture.Open.EndPoint, ["CH", "TXT", fields[0] + "zones.server", "+short"]);
            Assert.Contains($"\"{fields[1]}\"", ours.StandardOutput, StringComparison.OrdinalIgnoreCase);
        }

        // The signed zones, from Knot, validate with delv trusting only each zone's key (RFC 4035 §5).
        var signed = await SignedTestZones.GetAsync();
        foreach (var zone in signed.Zones)
        {
            string anchors = Path.Combine(signed.Folder, zone.Origin + "knot-anchors.conf");
            await File.WriteAllTextAsync(anchors, Server.DnssecValidationTests.TrustAnchors(zone.TrustAnchor));
            foreach (var (name, type, expected) in new[] { ("www." + zone.Origin, "A", "fully validated"), ("nothere." + zone.Origin, "A", "ncache nxdomain") })
            {
                var delv = await ExternalTool.RunAsync("/usr/bin/delv",
                    ["@127.0.0.1", "-p", knot.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-a", anchors, "+root=" + zone.Origin, name, type],
                    TimeSpan.FromSeconds(30));
                Assert.Contains("fully validated", delv.Output, StringComparison.Ordinal);
                Assert.Contains(expected, delv.Output, StringComparison.Ordinal);
            }
        }
    }
}
