using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Zones.Tests;

public class ZoneChecksTests
{
    private const string Head = """
        $TTL 3600
        @   SOA ns1 hostmaster 1 7200 900 1209600 300
            NS  ns1
        ns1 A   192.0.2.1

        """;

    private static readonly DnsName Origin = DnsName.Parse("example.test.");

    private static (Zone? Zone, List<ZoneDiagnostic> Diagnostics) Build(string text)
    {
        var parsed = ZoneFileReader.ReadText(text, "example.test.zone", Origin);
        Assert.False(parsed.HasErrors, string.Join("\n", parsed.Diagnostics));
        var diagnostics = new List<ZoneDiagnostic>(parsed.Diagnostics);
        return (ZoneBuilder.Build(Origin, parsed.Records, diagnostics, "example.test.zone"), diagnostics);
    }

    private static ZoneDiagnostic SingleError(string text)
    {
        var (zone, diagnostics) = Build(text);
        Assert.Null(zone);
        return Assert.Single(diagnostics, d => d.Severity == Severity.Error);
    }

    [Fact]
    public void A_good_zone_builds_with_serial_count_and_empty_non_terminals()
    {
        var (zone, diagnostics) = Build(Head + "a.b.c A 192.0.2.9\n");
        Assert.NotNull(zone);
        Assert.Empty(diagnostics);
        Assert.Equal(1u, zone!.Serial);
        Assert.Equal(4, zone.RecordCount);
        Assert.Equal(300u, zone.NegativeTtl);
        Assert.True(zone.Find(DnsName.Parse("b.c.example.test.").Wire)!.IsEmptyNonTerminal);
        Assert.NotNull(zone.Find(DnsName.Parse("C.EXAMPLE.TEST.").Wire));
    }

    [Fact]
    public void Missing_soa_is_an_error()
    {
        var parsed = ZoneFileReader.ReadText("$TTL 60\n@ NS ns1\nns1 A 192.0.2.1\n", "x.zone", Origin);
        var diagnostics = new List<ZoneDiagnostic>();
        Assert.Null(ZoneBuilder.Build(Origin, parsed.Records, diagnostics, "x.zone"));
        Assert.Contains("no SOA", Assert.Single(diagnostics).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Second_soa_and_soa_off_the_apex_are_errors()
    {
        Assert.Equal(5, SingleError(Head + "@ SOA ns1 h 2 7200 900 1209600 300\n").Location.Line);
        var e = SingleError(Head + "www SOA ns1 h 2 7200 900 1209600 300\n");
        Assert.Contains("not the zone apex", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_apex_ns_is_an_error()
    {
        var (zone, diagnostics) = Build("$TTL 60\n@ SOA ns1 h 1 2 3 4 5\n");
        Assert.Null(zone);
        Assert.Contains(diagnostics, d => d.Message.Contains("no NS records", StringComparison.Ordinal));
    }

    [Fact]
    public void Cname_beside_other_data_is_an_error_with_its_location()
    {
        var e = SingleError(Head + "www CNAME ns1\nwww A 192.0.2.2\n");
        Assert.Equal(new SourceLocation("example.test.zone", 6, 1), e.Location);
        Assert.Contains("CNAME and other data", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Data_outside_the_zone_is_an_error()
    {
        var e = SingleError(Head + "www.example.org. A 192.0.2.2\n");
        Assert.Equal(5, e.Location.Line);
        Assert.Contains("outside the zone", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Data_below_a_delegation_other_than_glue_is_an_error()
    {
        Assert.Contains("below the delegation", SingleError(Head + "sub NS ns.sub\nns.sub A 192.0.2.5\nwww.sub TXT \"x\"\n").Message, StringComparison.Ordinal);
        var (zone, _) = Build(Head + "sub NS ns.sub\nns.sub A 192.0.2.5\nns.sub AAAA 2001:db8::5\n");
        Assert.NotNull(zone);
    }

    [Fact]
    public void Missing_glue_for_in_zone_name_servers_is_an_error()
    {
        var e = SingleError(Head + "sub NS ns.sub\n");
        Assert.Contains("missing glue", e.Message, StringComparison.Ordinal);
        Assert.Contains("no A or AAAA", SingleError(Head + "@ NS ns2\n").Message, StringComparison.Ordinal);
        // Out-of-zone name servers need no glue.
        Assert.NotNull(Build(Head + "sub NS ns.elsewhere.test.\n").Zone);
    }

    [Fact]
    public void Duplicates_are_dropped_with_a_warning()
    {
        var (zone, diagnostics) = Build(Head + "www A 192.0.2.2\nWWW A 192.0.2.2\nwww CNAME-free TXT \"x\"\n".Replace("CNAME-free ", "", StringComparison.Ordinal));
        Assert.NotNull(zone);
        var warning = Assert.Single(diagnostics);
        Assert.Equal(Severity.Warning, warning.Severity);
        Assert.Equal(6, warning.Location.Line);
        Assert.Equal(1, zone!.Find(DnsName.Parse("www.example.test."))!.Get(RecordType.A)!.Count);
    }

    [Fact]
    public void Differing_ttls_in_an_rrset_are_normalised_with_a_warning()
    {
        var (zone, diagnostics) = Build(Head + "www 100 A 192.0.2.2\nwww 200 A 192.0.2.3\n");
        Assert.NotNull(zone);
        Assert.Contains("differs", Assert.Single(diagnostics).Message, StringComparison.Ordinal);
        Assert.Equal(100u, zone!.Find(DnsName.Parse("www.example.test."))!.Get(RecordType.A)!.Ttl);
    }

    [Fact]
    public void Zone_set_finds_the_longest_matching_origin()
    {
        var parent = Build(Head).Zone!;
        var childOrigin = DnsName.Parse("child.example.test.");
        var childText = "$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.9\n";
        var parsed = ZoneFileReader.ReadText(childText, "child.zone", childOrigin);
        var child = ZoneBuilder.Build(childOrigin, parsed.Records, [], "child.zone")!;
        var set = new ZoneSet([parent, child]);
        Assert.Same(child, set.FindZone(DnsName.Parse("www.Child.example.test.").Wire));
        Assert.Same(child, set.FindZone(childOrigin.Wire));
        Assert.Same(parent, set.FindZone(DnsName.Parse("other.example.test.").Wire));
        Assert.Null(set.FindZone(DnsName.Parse("example.org.").Wire));
        Assert.Null(set.FindZone(DnsName.Parse("test.").Wire));
    }
}
