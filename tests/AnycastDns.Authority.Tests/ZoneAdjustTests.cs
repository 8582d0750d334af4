using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority.Tests;

/// <summary>
/// Answers that rest on the node state <c>ZoneAdjust</c> sets, not on any check: occlusion below a cut and a DNAME
/// (Lookup.Find answers a node that is not occluded from the node alone), the empty non-terminals and parents, wildcard
/// children, and the additional-section targets. A zone built without the adjustment answers these wrongly.
/// </summary>
public class ZoneAdjustTests
{
    private const string Zone = """
        $TTL 3600
        @             IN SOA ns1.adjust.test. hostmaster.adjust.test. 1 7200 900 1209600 300
                      IN NS  ns1
                      IN MX  10 mail
        ns1           IN A   192.0.2.1
        mail          IN A   192.0.2.25
        sub           IN NS  ns.sub
        ns.sub        IN A   192.0.2.53
        host.sub      IN A   192.0.2.80
        deep.host.sub IN AAAA 2001:db8::80
        dn            IN DNAME target.test.
        *.w.x         IN A   192.0.2.99
        """;

    private readonly Engine _engine = new(null, ("adjust.test.", Zone));

    [Theory]
    [InlineData("host.sub.adjust.test.")]      // an owner of address records below the cut
    [InlineData("ns.sub.adjust.test.")]        // the glue's owner itself
    [InlineData("deep.host.sub.adjust.test.")] // deeper still
    public void A_name_below_a_cut_is_answered_with_the_referral_not_its_own_data(string name)
    {
        // RFC 1034 §4.3.2 step 3b: the cut on the way down decides, whatever lies below it.
        foreach (var type in new[] { RecordType.A, RecordType.AAAA })
        {
            var r = _engine.Ask(name, type);
            Assert.Equal(ResponseCode.NoError, r.ResponseCode);
            Assert.False(r.AuthoritativeAnswer);
            Assert.Empty(r.Answers);
            Assert.Equal(["sub.adjust.test. 3600 NS ns.sub.adjust.test."], r.Authority.Texts());
            // The glue comes as additional data (RFC 9471 §2.1).
            Assert.Equal(["ns.sub.adjust.test. 3600 A 192.0.2.53"], r.Additional.Texts());
        }
    }

    [Fact]
    public void Every_node_below_a_cut_or_a_dname_is_occluded_and_no_other()
    {
        var zone = Engine.BuildZone("adjust.test.", Zone);
        string[] occluded = ["ns.sub.adjust.test.", "host.sub.adjust.test.", "deep.host.sub.adjust.test."];
        foreach (var node in zone.Nodes)
        {
            Assert.True(occluded.Contains(node.Name.ToString()) == node.IsOccluded, $"{node.Name}: occluded={node.IsOccluded}");
        }
        Assert.True(zone.Find(DnsName.Parse("sub.adjust.test."))!.IsDelegation);
        Assert.True(zone.Apex.IsApex);
        // Empty non-terminals exist and link to their parents: w.x and x (RFC 4592 §2.2.2).
        var w = zone.Find(DnsName.Parse("w.x.adjust.test."))!;
        Assert.True(w.IsEmptyNonTerminal);
        Assert.Same(zone.Find(DnsName.Parse("x.adjust.test.")), w.Parent);
        Assert.Same(zone.Apex, w.Parent!.Parent);
        Assert.Equal("*.w.x.adjust.test.", w.WildcardChild?.Name.ToString());
    }

    [Fact]
    public void A_name_below_a_dname_is_redirected()
    {
        var r = _engine.Ask("a.dn.adjust.test.", RecordType.A);
        Assert.True(r.AuthoritativeAnswer);
        Assert.Equal(["dn.adjust.test. 3600 DNAME target.test.", "a.dn.adjust.test. 3600 CNAME a.target.test."], r.Answers.Texts());
    }

    [Fact]
    public void A_wildcard_answers_below_its_empty_non_terminal_parent()
    {
        var r = _engine.Ask("any.w.x.adjust.test.", RecordType.A);
        Assert.True(r.AuthoritativeAnswer);
        Assert.Equal(["any.w.x.adjust.test. 3600 A 192.0.2.99"], r.Answers.Texts());
        // The empty non-terminal itself is NODATA, not NXDOMAIN.
        var ent = _engine.Ask("x.adjust.test.", RecordType.A);
        Assert.Equal(ResponseCode.NoError, ent.ResponseCode);
        Assert.Empty(ent.Answers);
    }

    [Fact]
    public void Mail_exchanger_addresses_come_as_additional_data()
    {
        // RFC 1034 §4.3.2 step 6 (RFC 5321 §5.1 for MX): the addresses the zone holds for the exchanger.
        var r = _engine.Ask("adjust.test.", RecordType.MX);
        Assert.Equal(["adjust.test. 3600 MX 10 mail.adjust.test."], r.Answers.Texts());
        Assert.Equal(["mail.adjust.test. 3600 A 192.0.2.25"], r.Additional.Texts());
    }
}
