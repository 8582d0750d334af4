using AnycastDns.Authority;
using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.Differential;

/// <summary>
/// Asks Knot DNS (the reference) and our engine the same questions over the same zones (tests/zones) and compares
/// RCODE, AA, TC and every section as record sets. Knot's minimal responses are the reference; the few places where
/// we follow a newer RFC than Knot 3.2 does are listed in <see cref="KnownDeviation"/> with the RFC that decides.
/// </summary>
public sealed class KnotDifferentialTests(KnotOnTestZones knot) : IClassFixture<KnotOnTestZones>
{
    private static readonly Lazy<Responder> Engine = new(() => DifferentialRun.EngineOver(RepositoryPaths.TestZones));

    [Fact]
    public async Task Every_query_in_the_list_gets_the_same_answer_as_from_Knot()
    {
        var cases = QueryCase.ReadAll(RepositoryPaths.TestQueries);
        Assert.True(cases.Count >= 40, $"expected a substantial query list, found {cases.Count}");
        string report = await DifferentialRun.CompareAsync(knot.Server.EndPoint, Engine.Value, cases);
        Assert.True(report.Length == 0, report);
    }
}
