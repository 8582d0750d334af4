using AnycastDns.Authority;
using AnycastDns.Protocol;

namespace AnycastDns.Authority.Tests;

public class AnswerTests
{
    private const string ExampleZone = """
        $TTL 3600
        @        IN SOA ns1.example.test. hostmaster.example.test. 2024010101 7200 900 1209600 300
                 IN NS  ns1.example.test.
                 IN NS  ns2.example.test.
                 IN MX  10 mail
        ns1      IN A   192.0.2.1
        ns2      IN A   192.0.2.2
        mail     IN A   192.0.2.25
                 IN AAAA 2001:db8::25
        www      IN A   192.0.2.80
        alias    IN CNAME www
        chain1   IN CNAME chain2
        chain2   IN CNAME www
        loop1    IN CNAME loop2
        loop2    IN CNAME loop1
        outside  IN CNAME www.elsewhere.test.
        dangling IN CNAME nothere
        *.wild   IN A   192.0.2.99
        *.wild   IN TXT "wild"
        exists.wild IN TXT "real"
        a.b.c    IN A   192.0.2.3
        *.c      IN A   192.0.2.4
        sub      IN NS  ns.sub
                 IN DS  12345 8 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
        ns.sub   IN A   192.0.2.53
        ns.deep.sub IN A 192.0.2.54
        far      IN NS  ns.elsewhere.test.
        dn       IN DNAME other.test.
        a.x.dn   IN A   192.0.2.9
        MixedCase IN A  192.0.2.7
        """;

    private readonly Engine _engine = new(null, ("example.test.", ExampleZone));

    [Fact]
    public void Exact_match_is_authoritative_and_minimal()
    {
        var r = _engine.Ask("www.example.test.", RecordType.A);
        Assert.Equal(ResponseCode.NoError, r.ResponseCode);
        Assert.True(r.AuthoritativeAnswer);
        Assert.Equal(["www.example.test. 3600 A 192.0.2.80"], r.Answers.Texts());
        Assert.Empty(r.Authority); // minimal responses: no apex NS in positive answers
        Assert.Empty(r.Additional);
    }

    [Fact]
    public void Names_outside_every_zone_are_refused_without_aa()
    {
        var r = _engine.Ask("www.example.org.", RecordType.A);
        Assert.Equal(ResponseCode.Refused, r.ResponseCode);
        Assert.False(r.AuthoritativeAnswer);
    }

    [Fact]
    public void Nxdomain_and_nodata_carry_the_soa_with_the_negative_ttl()
    {
        var nx = _engine.Ask("nope.example.test.", RecordType.A);
        Assert.Equal(ResponseCode.NXDomain, nx.ResponseCode);
        Assert.True(nx.AuthoritativeAnswer);
        Assert.Empty(nx.Answers);
        var soa = Assert.Single(nx.Authority);
        Assert.Equal(RecordType.SOA, soa.Type);
        Assert.Equal(300u, soa.Ttl); // RFC 2308 §3: min(3600, 300)

        var nodata = _engine.Ask("www.example.test.", RecordType.AAAA);
        Assert.Equal(ResponseCode.NoError, nodata.ResponseCode);
        Assert.Empty(nodata.Answers);
        Assert.Equal(RecordType.SOA, Assert.Single(nodata.Authority).Type);
    }

    [Fact]
    public void Empty_non_terminals_are_nodata_not_nxdomain()
    {
        var r = _engine.Ask("b.c.example.test.", RecordType.A);
        Assert.Equal(ResponseCode.NoError, r.ResponseCode);
        Assert.Empty(r.Answers);
    }

    [Fact]
    public void Cname_is_followed_inside_the_zone()
    {
        var r = _engine.Ask("chain1.example.test.", RecordType.A);
        Assert.Equal(
            ["chain1.example.test. 3600 CNAME chain2.example.test.", "chain2.example.test. 3600 CNAME www.example.test.", "www.example.test. 3600 A 192.0.2.80"],
            r.Answers.Texts());
        Assert.True(r.AuthoritativeAnswer);
    }

    [Fact]
    public void Cname_loops_stop_without_repeating_records()
    {
        var r = _engine.Ask("loop1.example.test.", RecordType.A);
        Assert.Equal(ResponseCode.NoError, r.ResponseCode);
        Assert.Equal(["loop1.example.test. 3600 CNAME loop2.example.test.", "loop2.example.test. 3600 CNAME loop1.example.test."], r.Answers.Texts());
    }

    [Fact]
    public void Cname_out_of_zone_stops_and_cname_to_nothing_is_nxdomain()
    {
        var r = _engine.Ask("outside.example.test.", RecordType.A);
        Assert.Equal(ResponseCode.NoError, r.ResponseCode);
        Assert.Single(r.Answers);

        var d = _engine.Ask("dangling.example.test.", RecordType.A);
        Assert.Equal(ResponseCode.NXDomain, d.ResponseCode); // RFC 6604 §2.1
        Assert.Single(d.Answers);
        Assert.Equal(RecordType.SOA, Assert.Single(d.Authority).Type);
    }

    [Fact]
    public void Cname_query_returns_the_cname_itself()
    {
        var r = _engine.Ask("alias.example.test.", RecordType.CNAME);
        Assert.Equal(["alias.example.test. 3600 CNAME www.example.test."], r.Answers.Texts());
    }

    [Fact]
    public void Wildcards_synthesise_with_the_query_name_as_owner()
    {
        var r = _engine.Ask("anything.wild.example.test.", RecordType.A);
        Assert.Equal(["anything.wild.example.test. 3600 A 192.0.2.99"], r.Answers.Texts());
        Assert.True(r.AuthoritativeAnswer);

        var deeper = _engine.Ask("x.y.wild.example.test.", RecordType.A);
        Assert.Equal(["x.y.wild.example.test. 3600 A 192.0.2.99"], deeper.Answers.Texts());

        var nodata = _engine.Ask("anything.wild.example.test.", RecordType.MX);
        Assert.Equal(ResponseCode.NoError, nodata.ResponseCode);
        Assert.Empty(nodata.Answers);
    }

    [Fact]
    public void Wildcards_never_apply_at_or_below_existing_names()
    {
        // exists.wild exists: no synthesis for it (RFC 4592 §2.2.1) ...
        var exact = _engine.Ask("exists.wild.example.test.", RecordType.A);
        Assert.Equal(ResponseCode.NoError, exact.ResponseCode);
        Assert.Empty(exact.Answers);
        // ... nor below it: its closest encloser is exists.wild, which has no wildcard child.
        var below = _engine.Ask("x.exists.wild.example.test.", RecordType.A);
        Assert.Equal(ResponseCode.NXDomain, below.ResponseCode);
        // b.c is an empty non-terminal: *.c does not answer for it, nor below it.
        Assert.Equal(ResponseCode.NoError, _engine.Ask("b.c.example.test.", RecordType.A).ResponseCode);
        Assert.Empty(_engine.Ask("b.c.example.test.", RecordType.A).Answers);
        Assert.Equal(ResponseCode.NXDomain, _engine.Ask("z.b.c.example.test.", RecordType.A).ResponseCode);
        Assert.Equal(["other.c.example.test. 3600 A 192.0.2.4"], _engine.Ask("other.c.example.test.", RecordType.A).Answers.Texts());
    }

    [Fact]
    public void Delegations_give_referrals_with_glue()
    {
        // Below the cut: a missing name, an owner of occluded data and the empty non-terminal above it.
        foreach (var name in new[] { "sub.example.test.", "www.sub.example.test.", "a.b.sub.example.test.", "deep.sub.example.test.", "ns.deep.sub.example.test.", "x.deep.sub.example.test." })
        {
            var r = _engine.Ask(name, RecordType.A);
            Assert.Equal(ResponseCode.NoError, r.ResponseCode);
            Assert.False(r.AuthoritativeAnswer);
            Assert.Empty(r.Answers);
            Assert.Equal(["sub.example.test. 3600 NS ns.sub.example.test."], r.Authority.Texts());
            Assert.Equal(["ns.sub.example.test. 3600 A 192.0.2.53"], r.Additional.Texts());
        }
        var far = _engine.Ask("x.far.example.test.", RecordType.A);
        Assert.False(far.AuthoritativeAnswer);
        Assert.Single(far.Authority);
        Assert.Empty(far.Additional);
    }

    [Fact]
    public void Ds_is_answered_from_the_parent_side_of_the_cut()
    {
        var r = _engine.Ask("sub.example.test.", RecordType.DS);
        Assert.True(r.AuthoritativeAnswer);
        Assert.Equal(RecordType.DS, Assert.Single(r.Answers).Type);

        var none = _engine.Ask("far.example.test.", RecordType.DS);
        Assert.True(none.AuthoritativeAnswer);
        Assert.Empty(none.Answers);
        Assert.Equal(RecordType.SOA, Assert.Single(none.Authority).Type);
    }

    [Fact]
    public void Dname_synthesises_a_cname()
    {
        var r = _engine.Ask("www.dn.example.test.", RecordType.A);
        Assert.Equal(["dn.example.test. 3600 DNAME other.test.", "www.dn.example.test. 3600 CNAME www.other.test."], r.Answers.Texts());
        Assert.True(r.AuthoritativeAnswer);

        // Occluded names below the DNAME, an empty non-terminal among them, are redirected like any other (RFC 6672 §2.4).
        foreach (var below in new[] { "x.dn.example.test.", "a.x.dn.example.test." })
        {
            Assert.Equal(RecordType.DNAME, _engine.Ask(below, RecordType.A).Answers[0].Type);
        }

        var owner = _engine.Ask("dn.example.test.", RecordType.DNAME);
        Assert.Equal(["dn.example.test. 3600 DNAME other.test."], owner.Answers.Texts());
    }

    [Fact]
    public void Dname_result_longer_than_255_octets_is_yxdomain()
    {
        var engine = new Engine(null, ("example.test.", ExampleZone.Replace("dn       IN DNAME other.test.", "dn IN DNAME " + string.Join('.', Enumerable.Repeat(new string('x', 60), 3)) + ".", StringComparison.Ordinal)));
        var longName = string.Join('.', Enumerable.Repeat(new string('y', 50), 2)) + ".dn.example.test.";
        var r = engine.Ask(longName, RecordType.A);
        Assert.Equal(ResponseCode.YXDomain, r.ResponseCode); // RFC 6672 §2.2
        Assert.Equal(RecordType.DNAME, Assert.Single(r.Answers).Type);
    }

    [Fact]
    public void Mx_and_ns_answers_add_addresses_of_in_zone_targets()
    {
        var mx = _engine.Ask("example.test.", RecordType.MX);
        Assert.Equal(["mail.example.test. 3600 A 192.0.2.25", "mail.example.test. 3600 AAAA 20010DB8000000000000000000000025"], mx.Additional.Texts());
        var ns = _engine.Ask("example.test.", RecordType.NS);
        Assert.Equal(2, ns.Answers.Count);
        Assert.Equal(2, ns.Additional.Count);
    }

    [Fact]
    public void Any_is_one_rrset_over_udp_and_all_over_tcp()
    {
        var udp = _engine.Ask("example.test.", RecordType.ANY);
        Assert.Single(udp.Answers.Select(a => a.Type).Distinct());
        var tcp = _engine.Ask("example.test.", RecordType.ANY, transport: Transport.Tcp);
        Assert.Equal([RecordType.SOA, RecordType.NS, RecordType.MX], tcp.Answers.Select(a => a.Type).Distinct().ToArray());
    }

    [Fact]
    public void The_question_case_is_echoed_exactly_and_zone_case_is_kept()
    {
        var r = _engine.Ask("WwW.ExAmPlE.TeSt.", RecordType.A);
        Assert.Equal("WwW.ExAmPlE.TeSt.", r.Questions[0].Name.ToString());
        Assert.Equal("WwW.ExAmPlE.TeSt.", r.Answers[0].Name.ToString());
        var mixed = _engine.Ask("mixedcase.example.test.", RecordType.A);
        Assert.Single(mixed.Answers);
        var soa = _engine.Ask("nothing.EXAMPLE.test.", RecordType.A);
        // The SOA owner is compressed against the question, so it may carry the question's case; the name is the zone's.
        Assert.Equal("example.test.", soa.Authority[0].Name.ToString(), ignoreCase: true);
    }
}
