using AnycastDns.Authority;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;
using AnycastDns.Zones;

namespace AnycastDns.Authority.Tests;

/// <summary>The engine over tests/zones-dnssec, signed in the setup: nsec.test (NSEC), nsec3.test (NSEC3), optout.test (NSEC3, Opt-Out).</summary>
public sealed class SignedEngineFixture
{
    private static readonly Lazy<Engine> Shared = new(() =>
    {
        var signed = SignedTestZones.GetAsync().GetAwaiter().GetResult();
        var load = ZoneLoader.LoadFolder(signed.Folder);
        var failures = load.Results.Where(r => !r.Succeeded).SelectMany(r => r.Diagnostics).ToList();
        Assert.True(failures.Count == 0, "signed zones must load: " + string.Join("\n", failures));
        return new Engine(new Responder(load.ZoneSet, new ResponderOptions { PopId = "pop-test" }));
    });

    internal Engine Engine => Shared.Value;
}

/// <summary>
/// What a DO query to a signed zone gets (RFC 4035 §3.1, RFC 5155 §7.2): the RRSIGs of each RRset and the NSEC/NSEC3
/// proofs, and none of it without DO. Exact records are checked against Knot in the integration tests and validated with
/// delv there; these check the shape of every case in each of the three denial kinds.
/// </summary>
public sealed class DnssecAnswerTests(SignedEngineFixture fixture) : IClassFixture<SignedEngineFixture>
{
    private readonly Engine _engine = fixture.Engine;

    public static TheoryData<string> Zones => new() { "nsec.test.", "nsec3.test.", "optout.test." };

    private static EdnsRecord Do(ushort size = 1232) => new() { DnssecOk = true, UdpPayloadSize = size };

    private static RecordType Denial(string zone) => zone == "nsec.test." ? RecordType.NSEC : RecordType.NSEC3;

    private static ushort Covered(ResourceRecord rrsig) => (ushort)((rrsig.Data[0] << 8) | rrsig.Data[1]);

    /// <summary>Every non-RRSIG RRset of the section has its RRSIG beside it, and every RRSIG covers an RRset there.</summary>
    private static void AssertSigned(IEnumerable<ResourceRecord> section)
    {
        var records = section.ToList();
        var rrsets = records.Where(r => r.Type != RecordType.RRSIG).Select(r => (Name: r.Name.ToString().ToLowerInvariant(), Type: (ushort)r.Type)).Distinct().ToList();
        var signatures = records.Where(r => r.Type == RecordType.RRSIG).Select(r => (Name: r.Name.ToString().ToLowerInvariant(), Type: Covered(r))).Distinct().ToList();
        Assert.Equal(rrsets.OrderBy(x => x.Name).ThenBy(x => x.Type), signatures.OrderBy(x => x.Name).ThenBy(x => x.Type));
    }

    [Theory]
    [MemberData(nameof(Zones))]
    public void Positive_answers_carry_rrsigs_with_do_and_none_without(string zone)
    {
        var signed = _engine.Ask("www." + zone, RecordType.A, edns: Do());
        Assert.Equal(ResponseCode.NoError, signed.ResponseCode);
        Assert.Equal([RecordType.A, RecordType.RRSIG], signed.Answers.Select(r => r.Type).Order());
        AssertSigned(signed.Answers);
        Assert.True(signed.Edns!.DnssecOk);

        var plain = _engine.Ask("www." + zone, RecordType.A, edns: new EdnsRecord());
        Assert.Equal([RecordType.A], plain.Answers.Select(r => r.Type));
        var noEdns = _engine.Ask("nothere." + zone, RecordType.A);
        Assert.Equal([RecordType.SOA], noEdns.Authority.Select(r => r.Type));
    }

    [Theory]
    [MemberData(nameof(Zones))]
    public void Nxdomain_proves_the_name_and_the_wildcard_absent(string zone)
    {
        var r = _engine.Ask("nothere." + zone, RecordType.A, edns: Do());
        Assert.Equal(ResponseCode.NXDomain, r.ResponseCode);
        AssertSigned(r.Authority);
        Assert.Single(r.Authority, a => a.Type == RecordType.SOA);
        int proofs = r.Authority.Count(a => a.Type == Denial(zone));
        // NSEC: one covering the name, one covering *.apex (they may be the same record).
        // NSEC3: the closest encloser's match, the next closer's cover, the wildcard's cover (RFC 5155 §7.2.2; some may coincide).
        Assert.InRange(proofs, zone == "nsec.test." ? 1 : 2, zone == "nsec.test." ? 2 : 3);
        // The SOA's RRSIG takes the negative TTL with the SOA (RFC 2308 §3).
        Assert.All(r.Authority.Where(a => a.Type == RecordType.RRSIG && Covered(a) == (ushort)RecordType.SOA), a => Assert.Equal(300u, a.Ttl));
    }

    [Theory]
    [MemberData(nameof(Zones))]
    public void Nodata_carries_the_names_own_denial_record(string zone)
    {
        var r = _engine.Ask("www." + zone, RecordType.TXT, edns: Do());
        Assert.Equal(ResponseCode.NoError, r.ResponseCode);
        Assert.Empty(r.Answers);
        AssertSigned(r.Authority);
        Assert.Single(r.Authority, a => a.Type == Denial(zone));
        if (zone == "nsec.test.")
        {
            Assert.Equal("www.nsec.test.", r.Authority.Single(a => a.Type == RecordType.NSEC).Name.ToString());
        }
    }

    [Theory]
    [MemberData(nameof(Zones))]
    public void Empty_non_terminal_nodata_is_proven(string zone)
    {
        var r = _engine.Ask("b.c." + zone, RecordType.A, edns: Do());
        Assert.Equal(ResponseCode.NoError, r.ResponseCode);
        Assert.Empty(r.Answers);
        AssertSigned(r.Authority);
        Assert.Single(r.Authority, a => a.Type == Denial(zone));
    }

    [Theory]
    [MemberData(nameof(Zones))]
    public void Wildcard_answers_carry_the_wildcard_rrsig_and_proof_that_the_name_is_absent(string zone)
    {
        var r = _engine.Ask("host.wild." + zone, RecordType.A, edns: Do());
        Assert.Equal(ResponseCode.NoError, r.ResponseCode);
        AssertSigned(r.Answers);
        var rrsig = r.Answers.Single(a => a.Type == RecordType.RRSIG);
        Assert.Equal("host.wild." + zone, rrsig.Name.ToString());
        // RFC 4034 §3.1.3: the labels field counts *.wild.<zone> without the '*': fewer than the owner's, which is how a
        // validator sees the expansion (RFC 4035 §5.3.4).
        Assert.Equal(DnsName.Parse(zone).LabelCount + 1, rrsig.Data[3]);
        Assert.Single(r.Authority, a => a.Type == Denial(zone));
        AssertSigned(r.Authority);
    }

    [Theory]
    [MemberData(nameof(Zones))]
    public void Wildcard_nodata_proves_the_name_absent_and_the_type_missing_at_the_wildcard(string zone)
    {
        var r = _engine.Ask("host.wild." + zone, RecordType.MX, edns: Do());
        Assert.Equal(ResponseCode.NoError, r.ResponseCode);
        Assert.Empty(r.Answers);
        AssertSigned(r.Authority);
        // NSEC: the cover of the name and the wildcard's NSEC; NSEC3: closest encloser, next closer, wildcard match.
        // With NSEC the record covering host.wild is the wildcard's own NSEC (*.wild sorts just before it): one record.
        Assert.InRange(r.Authority.Count(a => a.Type == Denial(zone)), zone == "nsec.test." ? 1 : 2, zone == "nsec.test." ? 2 : 3);
    }

    [Theory]
    [MemberData(nameof(Zones))]
    public void Referral_to_a_signed_child_carries_the_signed_ds(string zone)
    {
        var r = _engine.Ask("www.secure." + zone, RecordType.A, edns: Do());
        Assert.False(r.AuthoritativeAnswer);
        Assert.Equal([RecordType.NS, RecordType.DS, RecordType.RRSIG], r.Authority.Select(a => a.Type).Distinct().Order());
        Assert.Equal((ushort)RecordType.DS, Covered(r.Authority.Single(a => a.Type == RecordType.RRSIG)));
        Assert.Contains(r.Additional, a => a.Type == RecordType.A && a.Name.ToString() == "ns.secure." + zone);
    }

    [Theory]
    [MemberData(nameof(Zones))]
    public void Referral_to_an_unsigned_child_proves_there_is_no_ds(string zone)
    {
        var r = _engine.Ask("www.insecure." + zone, RecordType.A, edns: Do());
        Assert.False(r.AuthoritativeAnswer);
        Assert.DoesNotContain(r.Authority, a => a.Type == RecordType.DS);
        var proofs = r.Authority.Where(a => a.Type == Denial(zone)).ToList();
        Assert.NotEmpty(proofs);
        Assert.All(r.Authority.Where(a => a.Type == RecordType.RRSIG), a => Assert.Equal((ushort)Denial(zone), Covered(a)));
        if (zone == "optout.test.")
        {
            // RFC 5155 §7.2.7: no NSEC3 of its own, so the closest provable encloser (the apex) and an Opt-Out cover.
            Assert.Equal(2, proofs.Count);
            Assert.Contains(proofs, p => Nsec3Chain.IsOptOut(p.Data));
        }
    }

    [Theory]
    [MemberData(nameof(Zones))]
    public void Ds_query_at_a_cut_is_answered_by_the_parent(string zone)
    {
        var ds = _engine.Ask("secure." + zone, RecordType.DS, edns: Do());
        Assert.True(ds.AuthoritativeAnswer);
        Assert.Equal([RecordType.DS, RecordType.RRSIG], ds.Answers.Select(a => a.Type).Order());

        var none = _engine.Ask("insecure." + zone, RecordType.DS, edns: Do());
        Assert.True(none.AuthoritativeAnswer);
        Assert.Empty(none.Answers);
        AssertSigned(none.Authority);
        Assert.Contains(none.Authority, a => a.Type == Denial(zone));
    }

    [Theory]
    [MemberData(nameof(Zones))]
    public void Dnskey_and_nsec3param_are_answered_like_any_rrset(string zone)
    {
        var keys = _engine.Ask(zone, RecordType.DNSKEY, edns: Do());
        Assert.Equal(2, keys.Answers.Count(a => a.Type == RecordType.DNSKEY));
        AssertSigned(keys.Answers);
        var param = _engine.Ask(zone, RecordType.NSEC3PARAM, edns: Do());
        Assert.Equal(zone == "nsec.test." ? 0 : 1, param.Answers.Count(a => a.Type == RecordType.NSEC3PARAM));
    }

    [Theory]
    [InlineData("nsec3.test.")]
    [InlineData("optout.test.")]
    public void An_nsec3_owner_is_not_a_name_of_the_zone(string zone)
    {
        // RFC 5155 §7.2.9: the hashed owner is answered as if it did not exist; the record is reached only as proof.
        var proof = _engine.Ask("nothere." + zone, RecordType.A, edns: Do()).Authority.First(a => a.Type == RecordType.NSEC3);
        var r = _engine.Ask(proof.Name.ToString(), RecordType.NSEC3, edns: Do());
        Assert.Equal(ResponseCode.NXDomain, r.ResponseCode);
        Assert.DoesNotContain(r.Answers, a => a.Type == RecordType.NSEC3);
    }

    [Fact]
    public void A_signed_answer_too_big_for_the_udp_size_drops_additional_first_then_sets_tc()
    {
        // Four MX and their RRSIG fit 512 octets; the signed addresses of all their targets do not fit beside them.
        var narrow = _engine.Ask("bigmx.nsec.test.", RecordType.MX, edns: Do(512));
        Assert.False(narrow.Truncated);
        Assert.Equal(5, narrow.Answers.Count);
        var wide = _engine.Ask("bigmx.nsec.test.", RecordType.MX, edns: Do(1232));
        Assert.True(wide.Additional.Count > narrow.Additional.Count, "with room, more target addresses and their RRSIGs are added");
        // An address RRset goes into the additional section with its RRSIGs or not at all (RFC 4035 §3.1.1).
        AssertSigned(narrow.Additional);
        AssertSigned(wide.Additional);

        // NSEC3 NXDOMAIN: SOA, three NSEC3 and four RRSIGs do not fit 512 octets: TC, and no partial RRset.
        var nx = _engine.Ask("nothere.optout.test.", RecordType.A, edns: Do(512));
        Assert.True(nx.Truncated);
        var full = _engine.Ask("nothere.optout.test.", RecordType.A, edns: Do(512), transport: Transport.Tcp);
        Assert.False(full.Truncated);
        AssertSigned(full.Authority);
    }
}
