using AnycastDns.Authority;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Differential;

/// <summary>Knot serving the zones of tests/zones-dnssec as the test setup signed them, and our engine over the same files.</summary>
public sealed class KnotOnSignedZones : IAsyncLifetime
{
    private KnotServer? _server;

    public KnotServer Server => _server ?? throw new InvalidOperationException("the Knot fixture has not started");

    public SignedZoneSet Signed { get; private set; } = new("", []);

    public Responder Engine { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Signed = await SignedTestZones.GetAsync();
        Engine = DifferentialRun.EngineOver(Signed.Folder);
        // Knot serves pre-signed zones as they are: its configuration does no signing (dnssec-signing is off by default).
        _server = await KnotServer.StartAsync(Signed.Folder, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}

/// <summary>
/// The DNSSEC answers (RFC 4035 §3.1, RFC 5155 §7.2) compared with Knot DNS over zones signed with NSEC, NSEC3 and
/// NSEC3 Opt-Out: RRSIGs, NSEC/NSEC3 proofs, DS at cuts, with and without DO. Deviations are in <see cref="KnownDeviation"/>.
/// </summary>
public sealed class KnotDnssecDifferentialTests(KnotOnSignedZones fixture) : IClassFixture<KnotOnSignedZones>
{
    [Fact]
    public async Task Every_dnssec_query_gets_the_same_answer_as_from_Knot()
    {
        var cases = QueryCase.ReadAll(Path.Combine(RepositoryPaths.DnssecZones, "queries.txt"));
        Assert.True(cases.Count >= 150, $"expected the full DNSSEC query list, found {cases.Count}");
        string report = await DifferentialRun.CompareAsync(fixture.Server.EndPoint, fixture.Engine, cases);
        Assert.True(report.Length == 0, report);
    }
}
