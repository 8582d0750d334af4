using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Zones.Tests;

/// <summary>
/// The adjustment sets the node state answering relies on; the checks only report. Run on a zone that breaks rules
/// (so the checks have things to say), the checks leave every node as the adjustment made it.
/// </summary>
public class ZoneAdjustTests
{
    private static readonly DnsName Origin = DnsName.Parse("adjust.test.");

    private const string Text = """
        $TTL 3600
        @             SOA ns1 hostmaster 1 7200 900 1209600 300
                      NS  ns1
        ns1           A   192.0.2.1
        sub           NS  ns.sub
                      TXT "child data at the cut"
        ns.sub        A   192.0.2.53
        host.sub      TXT "below the cut"
        deep.host.sub AAAA 2001:db8::80
        dn            DNAME target.test.
        a.dn          A   192.0.2.9
        alias         CNAME ns1
                      A   192.0.2.2
        ds            DS  12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
        *.w.x         A   192.0.2.99
        """;

    [Fact]
    public void The_checks_change_no_node_the_adjustment_set()
    {
        var parsed = ZoneFileReader.ReadText(Text, "adjust.test.zone", Origin);
        Assert.False(parsed.HasErrors, string.Join("\n", parsed.Diagnostics));
        var arena = new RecordArena();
        foreach (var record in parsed.Records)
        {
            arena.Add(record.Owner, record.Type, record.Class, record.Ttl, record.Rdata, record.Location);
        }
        var grouping = new ZoneGrouping(arena, Origin, arena.OwnerRuns);
        grouping.Add(0, arena.Count);
        var diagnostics = new List<ZoneDiagnostic>();
        var apex = ZoneChecks.Apex(grouping, "adjust.test.zone", diagnostics);
        Assert.NotNull(apex);

        ZoneAdjust.NameTree(grouping, apex.Value.Node);
        var adjusted = State(grouping.Nodes);
        ZoneChecks.Owners(grouping, diagnostics);

        Assert.Equal(adjusted, State(grouping.Nodes));
        // The checks did have things to say: data at and below the cut, below the DNAME, beside the CNAME, a DS off a cut.
        Assert.Equal(4, diagnostics.Count(d => d.Severity == Severity.Error));
        Assert.Single(diagnostics, d => d.Severity == Severity.Warning && d.Message.Contains("below the DNAME", StringComparison.Ordinal));
        // And the adjustment had set what answering reads: occlusion below the cut and the DNAME, and nowhere else.
        Assert.Equal(
            ["a.dn.adjust.test.", "deep.host.sub.adjust.test.", "host.sub.adjust.test.", "ns.sub.adjust.test."],
            grouping.Nodes.Values.Where(n => n.IsOccluded).Select(n => n.Name.ToString()).Order(StringComparer.Ordinal).ToArray());
    }

    /// <summary>Every fact of every node that answering reads, as text, in name order.</summary>
    private static string[] State(Dictionary<DnsName, ZoneNode> nodes) =>
        nodes.Values
            .Select(n => $"{n.Name} parent={n.Parent?.Name} wildcard={n.WildcardChild?.Name} apex={n.IsApex} cut={n.IsDelegation} "
                + $"occluded={n.IsOccluded} dname={n.HasDnameRecords} ent={n.IsEmptyNonTerminal} rrsets={n.RRsets.Length}")
            .Order(StringComparer.Ordinal)
            .ToArray();
}
