using System.Net;
using System.Text;
using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;
using AnycastDns.Zones;

namespace AnycastDns.Integration.Tests.Differential;

/// <summary>
/// Asks a reference server and our engine each question of a query list and compares RCODE, AA, TC and every section
/// as record sets, less the <see cref="KnownDeviation"/>s. Returns a report of every query that differs, or an empty string.
/// </summary>
public static class DifferentialRun
{
    /// <summary>Our engine over the zones of <paramref name="folder"/>, which must all load.</summary>
    public static Responder EngineOver(string folder)
    {
        var load = ZoneLoader.LoadFolder(folder);
        var failures = load.Results.Where(r => !r.Succeeded).SelectMany(r => r.Diagnostics).ToList();
        Assert.True(failures.Count == 0, "test zones must load: " + string.Join("\n", failures));
        return new Responder(load.ZoneSet, new ResponderOptions { PopId = "test-pop" });
    }

    public static async Task<string> CompareAsync(EndPoint reference, Responder engine, IReadOnlyList<QueryCase> cases)
    {
        var report = new StringBuilder();
        int failures = 0;
        var buffer = new byte[Responder.MaxResponseSize];
        ushort id = 1;
        foreach (var c in cases)
        {
            var query = c.ToWire(id++);
            var expected = DnsMessage.Parse(c.Tcp
                ? await DnsWire.QueryTcpAsync(reference, query, 3000)
                : await DnsWire.QueryUdpAsync(reference, query, 3000));
            int length = engine.Respond(query, buffer, c.Tcp ? Transport.Tcp : Transport.Udp);
            Assert.True(length > 0, $"{c}: our engine dropped the query");
            var ours = DnsMessage.Parse(buffer.AsSpan(0, length));
            Assert.Equal(expected.Id, ours.Id);

            var diffs = KnownDeviation.Apply(c, expected, ours, ResponseComparison.Differences(expected, ours, compareAdditional: true));
            if (diffs.Count > 0)
            {
                failures++;
                report.Append(c).Append('\n');
                foreach (var d in diffs) report.Append("  ").Append(d).Append('\n');
                report.Append(" reference:\n").Append(ResponseComparison.Describe(expected));
                report.Append(" ours:\n").Append(ResponseComparison.Describe(ours));
            }
        }
        return failures == 0 ? "" : $"{failures} of {cases.Count} queries differ from the reference:\n{report}";
    }
}
