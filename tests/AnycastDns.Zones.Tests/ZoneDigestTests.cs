using AnycastDns.Protocol;
using AnycastDns.TestSupport;
using AnycastDns.Zones;

namespace AnycastDns.Zones.Tests;

/// <summary>
/// The RFC 8976 zone digest and its verification at load. The expected digests are the RFC's own Appendix A examples
/// (tests/zones-zonemd); the comparison with other implementations (dnspython, ldns) is in the integration tests.
/// </summary>
public sealed class ZoneDigestTests
{
    private const string A1Digest = "c68090d90a7aed716bc459f9340e3d7c1370d4d24b7e2fc3a1ddc0b9a87153b9a9713b3c9ae5cc27777f98b8e730044c";

    private static readonly DnsName Example = DnsName.Parse("example.");

    private static string RfcZone(string file) => Path.Combine(RepositoryPaths.ZonemdZones, file);

    private static (Zone? Zone, List<ZoneDiagnostic> Diagnostics) Load(string text, DnsName? origin = null, string fileName = "example.zone")
    {
        origin ??= Example;
        var parsed = ZoneFileReader.ReadText(text, fileName, origin);
        Assert.False(parsed.HasErrors, string.Join("\n", parsed.Diagnostics));
        var diagnostics = new List<ZoneDiagnostic>(parsed.Diagnostics);
        return (ZoneBuilder.Build(origin, parsed.Records, diagnostics, fileName), diagnostics);
    }

    private static Zone LoadClean(string text, DnsName? origin = null)
    {
        var (zone, diagnostics) = Load(text, origin);
        Assert.True(zone is not null && diagnostics.Count == 0, string.Join("\n", diagnostics));
        return zone!;
    }

    private static string Hex(byte[] digest) => Convert.ToHexStringLower(digest);

    // ---- RFC 8976 Appendix A ------------------------------------------------------------------------------------

    [Fact]
    public void Digesting_a_small_zone_makes_no_large_garbage()
    {
        // A start with 10,000 zones of ten records digests each: a 128 KiB hash block per zone was 1.3 GB of large
        // objects, which the background collection after the start freed without giving the memory back. Bytes, not time.
        var zone = LoadClean("$TTL 300\n@ SOA ns1 hostmaster 1 7200 3600 1209600 3600\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.2\n@ MX 10 www\n");
        ZoneDigest.Compute(zone, ZonemdHashAlgorithm.Sha384); // the pool's first block
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            ZoneDigest.Compute(zone, ZonemdHashAlgorithm.Sha384);
        }
        long each = (GC.GetAllocatedBytesForCurrentThread() - before) / 10;
        Assert.True(each < 32 * 1024, $"{each} bytes allocated per digest of a five-record zone");
    }

    [Fact]
    public void Rfc8976_A1_simple_zone_loads_verified_with_the_published_digest()
    {
        var result = ZoneLoader.LoadFile(RfcZone("a1-simple.example.txt"), Example);

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.Empty(result.Diagnostics);
        Assert.Equal(A1Digest, result.Zone!.DigestHex);
        Assert.Equal(A1Digest, Hex(result.Zone.Digest.ToArray()));
        Assert.Equal(A1Digest, Hex(ZoneDigest.Compute(result.Zone, ZonemdHashAlgorithm.Sha384)));
    }

    [Fact]
    public void Rfc8976_A3_multiple_digests_match_for_sha384_and_sha512_and_unknown_ones_are_passed_over()
    {
        var result = ZoneLoader.LoadFile(RfcZone("a3-multiple-digests.example.txt"), Example);

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        // Both supported ZONEMDs verify; the private-use scheme and algorithm are passed over without a word.
        Assert.Empty(result.Diagnostics);
        var zone = result.Zone!;
        var digests = ZoneDigest.Compute(zone, [ZonemdHashAlgorithm.Sha384, ZonemdHashAlgorithm.Sha512]);
        Assert.Equal("62e6cf51b02e54b9b5f967d547ce43136792901f9f88e637493daaf401c92c279dd10f0edb1c56f8080211f8480ee306", Hex(digests[0]));
        Assert.Equal("08cfa1115c7b948c4163a901270395ea226a930cd2cbcf2fa9a5e6eb85f37c8a4e114d884e66f176eab121cb02db7d652e0cc4827e7a3204f166b47e5613fd27", Hex(digests[1]));
        Assert.Equal(Hex(digests[0]), zone.DigestHex);
        Assert.Equal(Hex(digests[1]), ZoneDigest.CreateZonemd(zone, ZonemdHashAlgorithm.Sha512).DigestHex);
    }

    [Fact]
    public void Rfc8976_A4_signed_uri_arpa_leaves_out_the_signature_over_zonemd_and_keeps_each_rrsig_ttl()
    {
        var origin = DnsName.Parse("uri.arpa.");
        var result = ZoneLoader.LoadFile(RfcZone("a4-uri.arpa.txt"), origin);

        Assert.True(result.Succeeded, string.Join("\n", result.Diagnostics));
        Assert.Equal("0dbc3c4dbfd75777c12ca19c337854b1577799901307c482e9d91d5d15cd934d16319d98e30c4201cf25a1d5a0254960", result.Zone!.DigestHex);
        // The apex RRSIGs cover RRsets of TTL 3600, 86400 and 600; each keeps its own (RFC 4034 §3).
        var signatures = result.Zone.Apex.Get(RecordType.RRSIG)!;
        var ttls = new SortedSet<uint>();
        for (int i = 0; i < signatures.Count; i++)
        {
            ttls.Add(signatures.RecordTtl(i));
        }
        Assert.Equal(new uint[] { 600, 3600, 86400 }, ttls.ToArray());
    }

    [Fact]
    public void Rfc8976_example_files_are_not_zone_files_to_a_folder_load()
    {
        Assert.Empty(Directory.GetFiles(RepositoryPaths.ZonemdZones, "*" + ZoneLoader.Extension));
    }

    // ---- verification at load (RFC 8976 §4) ---------------------------------------------------------------------

    /// <summary>RFC 8976 A.1 as text, with <paramref name="edit"/> applied; the ZONEMD record is on line 3.</summary>
    private static string A1(Func<string, string>? edit = null)
    {
        string text = """
            example. 86400 IN SOA ns1 admin 2018031900 1800 900 604800 86400
            example. 86400 IN NS ns1
            example. 86400 IN ZONEMD 2018031900 1 1 c68090d90a7aed716bc459f9340e3d7c1370d4d24b7e2fc3a1ddc0b9a87153b9a9713b3c9ae5cc27777f98b8e730044c
            example. 86400 IN NS ns2
            ns1 3600 IN A 203.0.113.63
            ns2 3600 IN AAAA 2001:db8::63

            """;
        return edit is null ? text : edit(text);
    }

    [Fact]
    public void A_tampered_record_keeps_the_zone_out_with_the_zonemd_line_and_the_computed_digest()
    {
        var tampered = A1(t => t.Replace("203.0.113.63", "203.0.113.64", StringComparison.Ordinal));
        // The apex ZONEMD is not part of the digest, so the same zone without it shows what the digest now is.
        var withoutZonemd = LoadClean(string.Join('\n', tampered.Split('\n').Where(l => !l.Contains("ZONEMD", StringComparison.Ordinal))));

        var (zone, diagnostics) = Load(tampered);

        Assert.Null(zone);
        var error = Assert.Single(diagnostics, d => d.Severity == Severity.Error);
        Assert.Equal(3, error.Location.Line);
        Assert.StartsWith("example.zone:3:", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("digest does not match", error.Message, StringComparison.Ordinal);
        Assert.Contains(withoutZonemd.DigestHex, error.Message, StringComparison.Ordinal);
        Assert.NotEqual(A1Digest, withoutZonemd.DigestHex);
    }

    [Fact]
    public void A_zonemd_serial_other_than_the_soa_serial_keeps_the_zone_out()
    {
        var (zone, diagnostics) = Load(A1(t => t.Replace("ZONEMD 2018031900", "ZONEMD 2018031901", StringComparison.Ordinal)));

        Assert.Null(zone);
        var error = Assert.Single(diagnostics, d => d.Severity == Severity.Error);
        Assert.Equal(3, error.Location.Line);
        Assert.Contains("serial 2018031901 does not match the SOA serial 2018031900", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_new_soa_serial_without_a_new_zonemd_keeps_the_zone_out()
    {
        var (zone, diagnostics) = Load(A1(t => t.Replace("admin 2018031900", "admin 2018031901", StringComparison.Ordinal)));

        Assert.Null(zone);
        Assert.Contains("does not match the SOA serial", Assert.Single(diagnostics, d => d.Severity == Severity.Error).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_unsupported_schemes_and_algorithms_load_the_zone_unverified_with_a_warning()
    {
        var (zone, diagnostics) = Load(A1(t => t.Replace("ZONEMD 2018031900 1 1", "ZONEMD 2018031900 241 1", StringComparison.Ordinal)
            + "example. 86400 IN ZONEMD 2018031900 1 240 e2d523f654b9422a96c5a8f44607bbee\n"));

        Assert.NotNull(zone);
        Assert.Equal(2, diagnostics.Count);
        Assert.All(diagnostics, d => Assert.Equal(Severity.Warning, d.Severity));
        Assert.Contains(diagnostics, d => d.Location.Line == 3 && d.Message.Contains("scheme 241", StringComparison.Ordinal));
        Assert.Contains(diagnostics, d => d.Location.Line == 7 && d.Message.Contains("hash algorithm 240", StringComparison.Ordinal));
        Assert.Equal(A1Digest, zone!.DigestHex);
    }

    [Fact]
    public void One_matching_zonemd_is_enough_and_a_failing_one_beside_it_is_a_warning()
    {
        var (zone, diagnostics) = Load(A1() + "example. 86400 IN ZONEMD 2018031900 1 2 " + new string('a', 128) + "\n");

        Assert.NotNull(zone);
        var warning = Assert.Single(diagnostics);
        Assert.Equal(Severity.Warning, warning.Severity);
        Assert.Equal(7, warning.Location.Line);
        Assert.Contains("digest does not match", warning.Message, StringComparison.Ordinal);
        Assert.Contains("SHA-512", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_zonemds_of_one_scheme_and_algorithm_verify_nothing()
    {
        // RFC 8976 §4: even though one of the two carries the right digest.
        var (zone, diagnostics) = Load(A1() + "example. 86400 IN ZONEMD 2018031900 1 1 " + new string('0', 96) + "\n");

        Assert.Null(zone);
        var errors = diagnostics.Where(d => d.Severity == Severity.Error).ToList();
        Assert.Equal(new[] { 3, 7 }, errors.Select(e => e.Location.Line).ToArray());
        Assert.All(errors, e => Assert.Contains("more than one ZONEMD", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void A_zonemd_made_for_a_zone_verifies_it_when_put_at_its_apex()
    {
        const string zoneText = """
            $TTL 300
            @ SOA ns1 hostmaster 42 7200 900 1209600 300
            @ NS ns1
            ns1 A 192.0.2.1
            www A 192.0.2.80

            """;
        var unsigned = LoadClean(zoneText);

        var zonemd = ZoneDigest.CreateZonemd(unsigned, ZonemdHashAlgorithm.Sha384);
        var sha512 = ZoneDigest.CreateZonemd(unsigned, ZonemdHashAlgorithm.Sha512);

        Assert.Equal(42u, zonemd.Serial);
        Assert.Equal((byte)ZonemdScheme.Simple, zonemd.Scheme);
        Assert.Equal((byte)ZonemdHashAlgorithm.Sha384, zonemd.HashAlgorithm);
        Assert.Equal(unsigned.DigestHex, zonemd.DigestHex);
        Assert.Equal(64, sha512.Digest.Length);
        Assert.True(Zonemd.TryParse(zonemd.ToRdata(), out var back));
        Assert.Equal(zonemd.ToString(), back.ToString());
        Assert.StartsWith("42 1 1 ", zonemd.ToString(), StringComparison.Ordinal);

        var withZonemd = LoadClean(zoneText + "@ ZONEMD " + zonemd + "\n@ ZONEMD " + sha512 + "\n");
        // The apex ZONEMD is not part of the digest: adding it leaves the zone's identity as it was.
        Assert.Equal(unsigned.DigestHex, withZonemd.DigestHex);
    }

    // ---- what the digest covers (RFC 8976 §3.3.1, RFC 4034 §6) -----------------------------------------------------

    private const string Mixed = """
        $TTL 3600
        @            SOA   NS1.Example.TEST. HostMaster.example.test. 7 7200 900 1209600 300
        @            NS    ns1
        @            NS    ns2.elsewhere.test.
        @            MX    10 Mail.Example.Test.
        @            MX    20 mail
        ns1          A     192.0.2.1
        Mail         A     192.0.2.25
        Mail         A     192.0.2.26
        *.Wild       TXT   "Wildcard Text"
        alias        CNAME WWW.example.test.
        www          A     192.0.2.80
        www          AAAA  2001:db8::80
        _sip._udp    SRV   0 5 5060 SIP.Example.Test.
        sip          A     192.0.2.60
        sub          NS    ns.SUB.example.test.
        ns.sub       A     192.0.2.53
        old          DNAME New.Example.Test.
        new          A     192.0.2.9

        """;

    [Fact]
    public void Case_of_owners_and_of_names_in_rdata_and_order_of_records_do_not_change_the_digest()
    {
        var reference = LoadClean(Mixed);
        var lines = Mixed.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        // Reverse the records (the $TTL line stays first) and fold the names to lower case.
        var reordered = lines[0] + "\n" + string.Join('\n', lines[1..].Reverse()) + "\n";
        var lower = Mixed.Replace("NS1.Example.TEST.", "ns1.example.test.", StringComparison.Ordinal)
            .Replace("Mail.Example.Test.", "mail.example.test.", StringComparison.Ordinal)
            .Replace("WWW.example", "www.example", StringComparison.Ordinal)
            .Replace("SIP.Example.Test.", "sip.example.test.", StringComparison.Ordinal)
            .Replace("New.Example.Test.", "new.example.test.", StringComparison.Ordinal)
            .Replace("ns.SUB.", "ns.sub.", StringComparison.Ordinal)
            .Replace("\nMail ", "\nmail ", StringComparison.Ordinal)
            .Replace("*.Wild", "*.wild", StringComparison.Ordinal);
        Assert.NotEqual(Mixed, lower);

        Assert.Equal(reference.DigestHex, LoadClean(reordered).DigestHex);
        Assert.Equal(reference.DigestHex, LoadClean(lower).DigestHex);
    }

    [Fact]
    public void A_duplicate_record_is_digested_once()
    {
        var reference = LoadClean(Mixed);
        var (zone, diagnostics) = Load(Mixed + "www A 192.0.2.80\nWWW IN A 192.0.2.80\n@ MX 10 MAIL.example.test.\n");

        Assert.NotNull(zone);
        Assert.All(diagnostics, d => Assert.Contains("duplicate", d.Message, StringComparison.Ordinal));
        Assert.Equal(reference.DigestHex, zone!.DigestHex);
    }

    [Theory]
    [InlineData("\"Wildcard Text\"", "\"wildcard text\"")]    // TXT is not a name: its case counts
    [InlineData("192.0.2.60", "192.0.2.61")]                  // any octet of RDATA
    [InlineData("ns.sub       A     192.0.2.53", "ns.sub 3601 A 192.0.2.53")] // the TTL
    [InlineData("new          A     192.0.2.9", "new A 192.0.2.9\nbelow.old A 192.0.2.10")] // occluded by the DNAME, still digested
    [InlineData("ns.sub       A     192.0.2.53", "ns.sub A 192.0.2.53\nns.sub AAAA 2001:db8::53")] // glue is digested
    public void Every_octet_the_zone_serves_or_holds_is_in_the_digest(string before, string after)
    {
        var reference = LoadClean(Mixed);
        var changed = Mixed.Replace(before, after, StringComparison.Ordinal);
        Assert.NotEqual(Mixed, changed);

        var (zone, _) = Load(changed);

        Assert.NotNull(zone);
        Assert.NotEqual(reference.DigestHex, zone!.DigestHex);
    }

    [Fact]
    public void A_zonemd_below_the_apex_is_ordinary_data()
    {
        var reference = LoadClean(Mixed);
        var (zone, diagnostics) = Load(Mixed + "www ZONEMD 7 1 1 " + new string('b', 96) + "\n");

        Assert.NotNull(zone);
        Assert.Empty(diagnostics);
        Assert.NotEqual(reference.DigestHex, zone!.DigestHex);
    }

    [Fact]
    public void Only_apex_signatures_over_zonemd_are_left_out()
    {
        const string signature = " 8 2 3600 20300101000000 20200101000000 12345 example.test. AAAA\n";
        var reference = LoadClean(Mixed);

        var overZonemd = LoadClean(Mixed + "@ RRSIG ZONEMD" + signature);
        var overSoa = LoadClean(Mixed + "@ RRSIG SOA" + signature);
        var belowApex = LoadClean(Mixed + "www RRSIG ZONEMD" + signature);

        Assert.Equal(reference.DigestHex, overZonemd.DigestHex);
        Assert.NotEqual(reference.DigestHex, overSoa.DigestHex);
        Assert.NotEqual(reference.DigestHex, belowApex.DigestHex);
    }

    [Fact]
    public void Rrsig_signer_names_are_lower_cased_and_nsec_next_names_are_not()
    {
        // RFC 4034 §6.2 as amended by RFC 6840 §5.1.
        const string signature = " 8 2 3600 20300101000000 20200101000000 12345 {0} AAAA\n";
        var lower = LoadClean(Mixed + "www RRSIG A" + signature.Replace("{0}", "example.test.", StringComparison.Ordinal));
        var upper = LoadClean(Mixed + "www RRSIG A" + signature.Replace("{0}", "EXAMPLE.test.", StringComparison.Ordinal));
        var nsecLower = LoadClean(Mixed + "www NSEC zzz.example.test. A AAAA RRSIG NSEC\n");
        var nsecUpper = LoadClean(Mixed + "www NSEC ZZZ.example.test. A AAAA RRSIG NSEC\n");

        Assert.Equal(lower.DigestHex, upper.DigestHex);
        Assert.NotEqual(nsecLower.DigestHex, nsecUpper.DigestHex);
    }

    [Fact]
    public void The_root_zone_loads_and_verifies_against_its_own_zonemd()
    {
        const string root = """
            $TTL 86400
            .                  SOA  a.root-servers.net. nstld.verisign-grs.com. 2024060100 1800 900 604800 86400
            .                  NS   a.root-servers.net.
            a.root-servers.net. A   198.41.0.4
            TEST.              NS   ns.test.
            ns.test.           A    192.0.2.1

            """;
        var zone = LoadClean(root, DnsName.Root);

        var withZonemd = LoadClean(root + ". ZONEMD " + ZoneDigest.CreateZonemd(zone, ZonemdHashAlgorithm.Sha384) + "\n", DnsName.Root);

        Assert.Equal(zone.DigestHex, withZonemd.DigestHex);
    }

    [Fact]
    public void Digest_is_computed_once_at_load_and_agrees_with_a_fresh_computation()
    {
        var zone = LoadClean(Mixed);

        Assert.Equal(48, zone.Digest.Length);
        Assert.Equal(96, zone.DigestHex.Length);
        Assert.Equal(zone.DigestHex, Hex(ZoneDigest.Compute(zone, ZonemdHashAlgorithm.Sha384)));
        // Computed once: every read gives the same array (ReadOnlyMemory equality is the same array, start and length).
        // The text is made on each call, so a zone does not keep a 96-character string besides its 48 octets.
        Assert.True(zone.Digest.Equals(zone.Digest));
    }
}
