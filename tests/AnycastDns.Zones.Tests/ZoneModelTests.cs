using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Zones.Tests;

/// <summary>
/// The zone model as the answer path reads it: RRsets of one and of many records (records share blocks of memory,
/// offsets only for many), nodes of up to two RRsets (held inline) and of more (an array), CNAME and DNAME found.
/// </summary>
public class ZoneModelTests
{
    private static Zone Build(string text)
    {
        var parsed = ZoneText.Read(text);
        var diagnostics = new List<ZoneDiagnostic>(parsed.Diagnostics);
        var zone = ZoneBuilder.Build(ZoneText.Origin, parsed.Records, diagnostics, ZoneText.FileName);
        Assert.True(zone is not null, string.Join("\n", diagnostics));
        return zone;
    }

    private const string Zone = """
        $TTL 300
        @      IN SOA ns hostmaster 7 7200 900 1209600 60
               IN NS  ns
        ns     IN A   192.0.2.1
        many   IN A   192.0.2.10
        many   600 IN A 192.0.2.11
        many   IN AAAA 2001:db8::10
        many   IN MX  10 ns
        many   IN TXT "one" "two"
        alias  IN CNAME many
        moved  IN DNAME example.net.
        """;

    /// <summary>
    /// A small zone's records fill one block of their own size: a provider serves tens of thousands of ten-record zones,
    /// and a block sized for more (512 octets for the ~210 these take) left 3 MiB unused over 10,000 of them.
    /// </summary>
    [Fact]
    public void A_ten_record_zone_packs_its_records_into_one_block_of_their_size()
    {
        var zone = Build("""
            $TTL 3600
            @ SOA ns1 hostmaster 1 7200 3600 1209600 3600
            @ NS ns1
            @ NS ns2
            ns1 A 192.0.2.1
            ns2 A 192.0.2.2
            @ A 192.0.2.10
            www A 10.0.0.11
            mail A 192.0.2.12
            @ MX 10 mail
            @ TXT "v=spf1 -all"
            """);
        var rrsets = zone.Nodes.SelectMany(n => n.RRsets.ToArray()).ToList();
        Assert.Equal(10, rrsets.Sum(r => r.Count));
        int encoded = rrsets.Sum(r => Enumerable.Range(0, r.Count).Sum(i => r.Encoded(i).Length));
        var block = Assert.Single(rrsets.Select(r => r.Storage).Distinct());
        Assert.Equal(encoded, block.Length);
    }

    [Fact]
    public void A_single_record_RRset_gives_its_record_encoded_and_as_RDATA()
    {
        var ns = Build(Zone).Find(DnsName.Parse("ns.example.test."))!;
        var a = Assert.Single(ns.RRsets.ToArray());
        Assert.Equal(RecordType.A, a.Type);
        Assert.Equal(1, a.Count);
        Assert.Equal(300u, a.Ttl);
        Assert.Equal(300u, a.RecordTtl(0));
        Assert.Equal(new byte[] { 192, 0, 2, 1 }, a.Rdata(0).ToArray());
        Assert.Equal(Convert.FromHexString("00010001" + "0000012c" + "0004" + "c0000201"), a.Encoded(0).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => a.Encoded(1).Length);
    }

    [Fact]
    public void A_node_with_more_than_two_RRsets_keeps_them_all_and_in_order()
    {
        var node = Build(Zone).Find(DnsName.Parse("MANY.example.test."))!;
        Assert.Equal([RecordType.A, RecordType.AAAA, RecordType.MX, RecordType.TXT], node.RRsets.ToArray().Select(r => r.Type));
        var a = node.Get(RecordType.A)!;
        Assert.Equal(2, a.Count);
        // RFC 2181 §5.2: the RRset takes the first TTL.
        Assert.Equal(300u, a.Ttl);
        Assert.Equal(300u, a.RecordTtl(1));
        Assert.Equal(new byte[] { 192, 0, 2, 11 }, a.Rdata(1).ToArray());
        Assert.Equal(Convert.FromHexString("00010001" + "0000012c" + "0004" + "c000020b"), a.Encoded(1).ToArray());
        Assert.Equal("036f6e650374776f", Convert.ToHexStringLower(node.Get(RecordType.TXT)!.Rdata(0)));
        Assert.Null(node.Cname);
        Assert.Null(node.Get(RecordType.SRV));
        Assert.Equal("ns.example.test.", Assert.Single(node.Get(RecordType.MX)!.AdditionalTargets).Name.ToString());
    }

    [Fact]
    public void CNAME_and_DNAME_are_found_on_their_nodes_and_nowhere_else()
    {
        var zone = Build(Zone);
        Assert.Equal(RecordType.CNAME, zone.Find(DnsName.Parse("alias.example.test."))!.Cname!.Type);
        Assert.Equal(RecordType.DNAME, zone.Find(DnsName.Parse("moved.example.test."))!.Dname!.Type);
        Assert.Null(zone.Apex.Cname);
        Assert.Null(zone.Apex.Dname);
        Assert.True(zone.Apex.IsApex);
        Assert.False(zone.Apex.IsEmptyNonTerminal);
    }

    [Fact]
    public void The_zone_text_is_not_kept_once_read()
    {
        // The RDATA reader lives in a thread-static; it once kept the last tokens, and through them the whole text
        // of the last zone file read (about 100 MB for a million names), for as long as the thread lived.
        var text = ReadAndForget();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Assert.False(text.IsAlive, "the zone text outlived the read");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference ReadAndForget()
    {
        string text = string.Concat(Zone, "\n"); // a string of this test's own, not an interned literal
        Assert.NotNull(Build(text));
        return new WeakReference(text);
    }
}
