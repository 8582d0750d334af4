using System.Text;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;
using AnycastDns.Zones;

namespace AnycastDns.Integration.Tests.Differential;

/// <summary>
/// Asks Knot DNS (the reference) and our engine the same questions over the same zones (tests/zones) and compares
/// RCODE, AA, TC and every section as record sets. Knot's minimal responses are the reference; the few places where
/// we follow a newer RFC than Knot 3.2 does are listed in <see cref="KnownDeviation"/> with the RFC that decides.
/// </summary>
public sealed class KnotDifferentialTests(KnotOnTestZones knot) : IClassFixture<KnotOnTestZones>
{
    private static readonly Lazy<Responder> Engine = new(() =>
    {
        var load = ZoneLoader.LoadFolder(RepositoryPaths.TestZones);
        var failures = load.Results.Where(r => !r.Succeeded).SelectMany(r => r.Diagnostics).ToList();
        Assert.True(failures.Count == 0, "test zones must load: " + string.Join("\n", failures));
        return new Responder(load.ZoneSet, new ResponderOptions { PopId = "test-pop" });
    });

    [Fact]
    public async Task Every_query_in_the_list_gets_the_same_answer_as_from_Knot()
    {
        var cases = QueryCase.ReadAll(RepositoryPaths.TestQueries);
        Assert.True(cases.Count >= 40, $"expected a substantial query list, found {cases.Count}");
        var report = new StringBuilder();
        int failures = 0;
        var buffer = new byte[Responder.MaxResponseSize];
        ushort id = 1;
        foreach (var c in cases)
        {
            var query = c.ToWire(id++);
            var reference = DnsMessage.Parse(c.Tcp
                ? await DnsWire.QueryTcpAsync(knot.Server.EndPoint, query, 3000)
                : await DnsWire.QueryUdpAsync(knot.Server.EndPoint, query, 3000));
            int length = Engine.Value.Respond(query, buffer, c.Tcp ? Transport.Tcp : Transport.Udp);
            Assert.True(length > 0, $"{c}: our engine dropped the query");
            var ours = DnsMessage.Parse(buffer.AsSpan(0, length));
            Assert.Equal(reference.Id, ours.Id);

            var diffs = KnownDeviation.Apply(c, reference, ours, ResponseComparison.Differences(reference, ours, compareAdditional: true));
            if (diffs.Count > 0)
            {
                failures++;
                report.Append(c).Append('\n');
                foreach (var d in diffs) report.Append("  ").Append(d).Append('\n');
                report.Append(" reference:\n").Append(ResponseComparison.Describe(reference));
                report.Append(" ours:\n").Append(ResponseComparison.Describe(ours));
            }
        }
        Assert.True(failures == 0, $"{failures} of {cases.Count} queries differ from Knot:\n{report}");
    }
}
