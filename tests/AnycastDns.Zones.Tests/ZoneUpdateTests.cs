using AnycastDns.Protocol;
using AnycastDns.Protocol.Presentation;
using AnycastDns.Zones;

namespace AnycastDns.Zones.Tests;

/// <summary>
/// A new version made from the version served and the records an IXFR deletes and adds (RFC 1995 §4) equals, record
/// for record, the zone built from the whole new text; the version served is left as it was.
/// </summary>
public sealed class ZoneUpdateTests
{
    private const string Before = """
        $TTL 300
        @        IN SOA ns1 hostmaster 1 3600 600 86400 300
        @        IN NS  ns1
        ns1      IN A   192.0.2.53
        www      IN A   192.0.2.1
        www      IN A   192.0.2.2
        mail     IN MX  10 mx
        mx       IN A   192.0.2.25
        old      IN TXT "going away"
        """;

    // Serial 2: www loses one address and gets an AAAA, mx's TTL changes, old goes, a deep owner (an empty non-terminal
    // above it) and a delegation with glue come.
    private const string After = """
        $TTL 300
        @        IN SOA ns1 hostmaster 2 3600 600 86400 300
        @        IN NS  ns1
        ns1      IN A   192.0.2.53
        www      IN A   192.0.2.2
        www      IN AAAA 2001:db8::1
        mail     IN MX  10 mx
        mx   60  IN A   192.0.2.25
        a.b.deep IN TXT "new"
        child    IN NS  ns.child
        ns.child IN A   192.0.2.99
        """;

    private static Zone Build(string text)
    {
        var parsed = ZoneText.Read(text);
        Assert.False(parsed.HasErrors, string.Join("\n", parsed.Diagnostics));
        var diagnostics = new List<ZoneDiagnostic>();
        var zone = ZoneBuilder.Build(ZoneText.Origin, parsed.Records, diagnostics, ZoneText.FileName);
        Assert.True(zone is not null, string.Join("\n", diagnostics));
        return zone!;
    }

    private static DnsName Name(string relative) => DnsName.Parse(relative + "." + ZoneText.Origin);

    private static byte[] Rdata(RecordType type, string text) => RdataPresentation.Parse(type, text, ZoneText.Origin);

    private static ZoneUpdate ToSerial2(Zone current)
    {
        var update = new ZoneUpdate(current);
        Assert.True(update.Delete(Name("www"), RecordType.A, Rdata(RecordType.A, "192.0.2.1")));
        Assert.True(update.Delete(Name("old"), RecordType.TXT, Rdata(RecordType.TXT, "\"going away\"")));
        update.Add(Name("WWW"), RecordType.AAAA, 300, Rdata(RecordType.AAAA, "2001:db8::1"));
        update.Add(Name("mx"), RecordType.A, 60, Rdata(RecordType.A, "192.0.2.25")); // same record, new TTL
        update.Add(Name("a.b.deep"), RecordType.TXT, 300, Rdata(RecordType.TXT, "\"new\""));
        update.Add(Name("child"), RecordType.NS, 300, Rdata(RecordType.NS, "ns.child"));
        update.Add(Name("ns.child"), RecordType.A, 300, Rdata(RecordType.A, "192.0.2.99"));
        update.SetSoa(300, Rdata(RecordType.SOA, "ns1 hostmaster 2 3600 600 86400 300"));
        return update;
    }

    [Fact]
    public void The_new_version_equals_the_zone_built_from_its_whole_text()
    {
        var current = Build(Before);
        var diagnostics = new List<ZoneDiagnostic>();
        var updated = ToSerial2(current).Build(diagnostics, "IXFR from test");

        Assert.NotNull(updated);
        Assert.Empty(diagnostics);
        var expected = Build(After);
        Assert.Equal(Convert.ToHexString(expected.Digest.Span), Convert.ToHexString(updated!.Digest.Span));
        Assert.Equal(2u, updated.Serial);
        Assert.Equal(expected.RecordCount, updated.RecordCount);
        Assert.Equal(expected.NodeCount, updated.NodeCount);
        // What is made from the records, not copied from the version served: the name tree, the cut, the owner gone.
        Assert.True(updated.Find(Name("b.deep"))!.IsEmptyNonTerminal);
        Assert.True(updated.Find(Name("child"))!.IsDelegation);
        Assert.True(updated.Find(Name("ns.child"))!.IsOccluded);
        Assert.Null(updated.Find(Name("old")));
        Assert.Equal("www", updated.Find(Name("www"))!.Name.ToString().Split('.')[0]); // the case as served
    }

    [Fact]
    public void The_version_served_is_left_as_it_was()
    {
        var current = Build(Before);
        string digest = current.DigestHex;
        _ = ToSerial2(current).Build([], "IXFR from test");

        Assert.Equal(digest, Build(Before).DigestHex);
        Assert.Equal(1u, current.Serial);
        Assert.Equal(2, current.Find(Name("www"))!.Get(RecordType.A)!.Count);
        Assert.NotNull(current.Find(Name("old")));
        Assert.Null(current.Find(Name("child")));
    }

    [Fact]
    public void Deleting_a_record_the_version_does_not_have_says_so()
    {
        var update = new ZoneUpdate(Build(Before));

        Assert.False(update.Delete(Name("www"), RecordType.A, Rdata(RecordType.A, "192.0.2.9")));
        Assert.False(update.Delete(Name("nowhere"), RecordType.A, Rdata(RecordType.A, "192.0.2.1")));
        Assert.False(update.Delete(ZoneText.Origin, RecordType.SOA, Rdata(RecordType.SOA, "ns1 hostmaster 1 3600 600 86400 300")));
        Assert.True(update.Delete(Name("www"), RecordType.A, Rdata(RecordType.A, "192.0.2.1")));
        Assert.False(update.Delete(Name("www"), RecordType.A, Rdata(RecordType.A, "192.0.2.1"))); // not twice
    }

    [Fact]
    public void A_record_deleted_then_added_again_in_a_later_difference_is_there()
    {
        var current = Build(Before);
        var update = new ZoneUpdate(current);
        Assert.True(update.Delete(Name("www"), RecordType.A, Rdata(RecordType.A, "192.0.2.1")));
        update.Add(Name("www"), RecordType.A, 300, Rdata(RecordType.A, "192.0.2.1"));
        update.SetSoa(300, Rdata(RecordType.SOA, "ns1 hostmaster 1 3600 600 86400 300"));

        var same = update.Build([], "IXFR from test");

        Assert.Equal(current.DigestHex, same!.DigestHex);
    }

    [Fact]
    public void A_new_version_that_breaks_a_zone_rule_is_not_built()
    {
        var update = new ZoneUpdate(Build(Before));
        update.Add(Name("www"), RecordType.CNAME, 300, Rdata(RecordType.CNAME, "mail"));
        var diagnostics = new List<ZoneDiagnostic>();

        Assert.Null(update.Build(diagnostics, "IXFR from test"));
        Assert.Contains(diagnostics, d => d.Severity == Severity.Error && d.Message.Contains("CNAME", StringComparison.Ordinal));
    }
}
