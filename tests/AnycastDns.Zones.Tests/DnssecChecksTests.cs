using AnycastDns.Protocol;
using AnycastDns.TestSupport;

namespace AnycastDns.Zones.Tests;

/// <summary>
/// The load-time checks of a signed zone: an NSEC3PARAM must name an NSEC3 chain of the zone (RFC 5155 §4), and RRSIGs
/// that have expired or expire within the configured window are warnings (RFC 4035 §5.3.1). Zones are signed here with
/// ldns-signzone, with validity periods chosen by each test.
/// </summary>
public sealed class DnssecChecksTests : IDisposable
{
    private const string Text = """
        $TTL 3600
        @     IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
        @     IN NS  ns1
        ns1   IN A   192.0.2.53
        www   IN A   192.0.2.80
        *.w   IN A   192.0.2.99
        a.b.c IN A   192.0.2.3
        """;

    private static readonly DnsName Origin = DnsName.Parse("check.test.");

    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-dnssec-checks-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private async Task<string> SignAsync(DenialKind denial, DateTimeOffset? expiration = null, DateTimeOffset? inception = null) =>
        (await SignedZone.SignAsync("check.test.", Text, denial, Path.Combine(_folder, Guid.NewGuid().ToString("N")), expiration, inception)).Path;

    [Fact]
    public async Task A_freshly_signed_zone_loads_signed_without_a_diagnostic()
    {
        foreach (var denial in new[] { DenialKind.Nsec, DenialKind.Nsec3 })
        {
            var result = ZoneLoader.LoadFile(await SignAsync(denial), Origin);
            Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
            Assert.Empty(result.Diagnostics);
            var zone = result.Zone!;
            Assert.True(zone.IsSigned);
            Assert.Equal(denial == DenialKind.Nsec, zone.Nsec is not null);
            Assert.Equal(denial == DenialKind.Nsec3, zone.Nsec3 is not null);
            // NSEC3: one per name with data and per empty non-terminal (w, b.c, c), none for the names they hash to.
            if (zone.Nsec3 is { } chain)
            {
                Assert.Equal(8, chain.Count);
                Assert.All(zone.Nodes.Where(n => n.Get(RecordType.NSEC3) is not null), n => Assert.True(n.IsNsec3Owner));
            }
            else
            {
                Assert.Equal(5, zone.Nsec!.Count);
            }
        }
    }

    [Fact]
    public async Task An_nsec3param_that_no_chain_matches_is_an_error_at_its_line()
    {
        // Re-salting the NSEC3PARAM leaves the NSEC3 records (no salt) without a matching chain.
        string path = await SignAsync(DenialKind.Nsec3);
        var lines = File.ReadAllLines(path);
        int at = Array.FindIndex(lines, l => l.Contains("NSEC3PARAM", StringComparison.Ordinal) && !l.Contains("RRSIG", StringComparison.Ordinal));
        lines[at] = lines[at].Replace("1 0 0 - ", "1 0 0 beef ", StringComparison.Ordinal);
        Assert.Contains("beef", lines[at], StringComparison.Ordinal);
        File.WriteAllLines(path, lines);

        var result = ZoneLoader.LoadFile(path, Origin);
        Assert.False(result.Succeeded);
        var error = Assert.Single(result.Diagnostics, d => d.Severity == Severity.Error);
        Assert.Equal(at + 1, error.Location.Line);
        Assert.Contains("NSEC3PARAM (hash algorithm 1, 0 iterations, salt BEEF) matches no NSEC3 chain", error.Message, StringComparison.Ordinal);

        // An NSEC3PARAM in a zone without any NSEC3 is the same error.
        var unsigned = ZoneFileReader.ReadText(Text + "\n@ NSEC3PARAM 1 0 0 -\n", "plain.zone", Origin);
        Assert.False(unsigned.HasErrors);
        var diagnostics = new List<ZoneDiagnostic>();
        Assert.Null(ZoneBuilder.Build(Origin, unsigned.Records, diagnostics, "plain.zone"));
        Assert.Contains(diagnostics, d => d.Severity == Severity.Error && d.ToString().StartsWith("plain.zone:8:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Signatures_expiring_within_the_window_are_a_warning_and_the_window_is_configurable()
    {
        string path = await SignAsync(DenialKind.Nsec, expiration: DateTimeOffset.UtcNow.AddDays(2));

        var result = ZoneLoader.LoadFile(path, Origin);
        Assert.True(result.Succeeded);
        var warning = Assert.Single(result.Diagnostics);
        Assert.Equal(Severity.Warning, warning.Severity);
        Assert.Matches(@"^.+check\.test\.zone:\d+:\d+: warning: \d+ RRSIGs expire within 7 days; the first, over \S+ \S+, at 20\d\d-", warning.ToString());

        var narrow = ZoneLoader.LoadFile(path, Origin, new ZoneLoadOptions { SignatureExpiryWarning = TimeSpan.FromDays(1) });
        Assert.Empty(narrow.Diagnostics);
    }

    [Fact]
    public async Task Expired_and_not_yet_valid_signatures_are_warnings_and_the_zone_still_serves()
    {
        // A zone that was signed and never re-signed: it is served (what else would answer?) and the warning says why it fails.
        string expired = await SignAsync(DenialKind.Nsec, expiration: DateTimeOffset.UtcNow.AddDays(-1), inception: DateTimeOffset.UtcNow.AddDays(-30));
        var result = ZoneLoader.LoadFile(expired, Origin);
        Assert.True(result.Succeeded);
        Assert.Contains(result.Diagnostics, d => d.Severity == Severity.Warning && d.Message.Contains("expired; the first", StringComparison.Ordinal));

        string future = await SignAsync(DenialKind.Nsec, expiration: DateTimeOffset.UtcNow.AddDays(60), inception: DateTimeOffset.UtcNow.AddDays(10));
        var early = ZoneLoader.LoadFile(future, Origin);
        Assert.True(early.Succeeded);
        Assert.Contains(early.Diagnostics, d => d.Severity == Severity.Warning && d.Message.Contains("not valid yet", StringComparison.Ordinal));
    }
}
