using System.Globalization;
using System.Text;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;
using AnycastDns.Zones;

namespace AnycastDns.Integration.Tests.ZoneIdentity;

/// <summary>
/// The RFC 8976 zone digest against implementations nobody here wrote: dnspython 2.3 (Debian's python3, not whatever
/// python3 comes first on PATH) computes the same SHA-384 digest of the same file, ldns-signzone's ZONEMD records
/// (unsigned, and signed with NSEC and NSEC3) verify when we load its output, and ldns-verify-zone and dnspython
/// accept the ZONEMD we make. The zones: the repository's, the RFC 8976 Appendix A examples, and generated ones with
/// mixed case, names in RDATA, wildcards, delegations with glue, DNAME-occluded data, duplicates, odd label octets,
/// RRSIGs of different TTLs and the root as origin.
/// </summary>
public sealed class ZonemdToolTests(ZonemdToolTests.GeneratedZones generated) : IClassFixture<ZonemdToolTests.GeneratedZones>
{
    private const string Python = "/usr/bin/python3";
    private const string LdnsSignzone = "/usr/bin/ldns-signzone";
    private const string LdnsVerifyZone = "/usr/bin/ldns-verify-zone";
    private const string LdnsKeygen = "/usr/bin/ldns-keygen";
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromSeconds(60);

    private const string DnspythonDigest = """
        import sys, dns.zone
        zone = dns.zone.from_file(sys.argv[1], sys.argv[2], relativize=False)
        print(zone.compute_digest(dns.zone.DigestHashAlgorithm.SHA384).digest.hex())
        """;

    private const string DnspythonVerify = """
        import sys, dns.zone
        zone = dns.zone.from_file(sys.argv[1], sys.argv[2], relativize=False)
        zone.verify_digest()
        print("verified")
        """;

    /// <summary>Zones without ZONEMD records: origin and where the file is (repository path or generated name).</summary>
    public static TheoryData<string, string> PlainZones()
    {
        var data = new TheoryData<string, string>();
        foreach (var zone in ZoneFile.FindIn(RepositoryPaths.ExampleZones).Concat(ZoneFile.FindIn(RepositoryPaths.TestZones)))
        {
            data.Add(zone.Origin + ".", Path.GetRelativePath(RepositoryPaths.Root, zone.Path));
        }
        foreach (var (origin, name, _) in GeneratedZones.All)
        {
            data.Add(origin, GeneratedZones.Prefix + name);
        }
        return data;
    }

    /// <summary>Everything dnspython can read: the plain zones and the RFC 8976 examples it accepts.</summary>
    public static TheoryData<string, string> DnspythonZones()
    {
        var data = PlainZones();
        // A.3 is left out: dnspython 2.3 refuses its scheme-241 ZONEMD, whose 20-octet digest is not SHA-384's 48.
        data.Add("example.", "tests/zones-zonemd/a1-simple.example.txt");
        data.Add("uri.arpa.", "tests/zones-zonemd/a4-uri.arpa.txt");
        return data;
    }

    private string PathOf(string source) => source.StartsWith(GeneratedZones.Prefix, StringComparison.Ordinal)
        ? generated.PathOf(source[GeneratedZones.Prefix.Length..])
        : Path.Combine(RepositoryPaths.Root, source);

    private static Zone LoadVerified(string path, string origin)
    {
        var result = ZoneLoader.LoadFile(path, DnsName.Parse(origin));
        Assert.True(result.Succeeded, $"{path} did not load:\n{string.Join('\n', result.Diagnostics)}");
        Assert.DoesNotContain(result.Diagnostics, d => d.Message.Contains("ZONEMD", StringComparison.Ordinal));
        return result.Zone!;
    }

    private static async Task<string> RunPython(string script, string path, string origin)
    {
        ExternalTool.RequireInstalled(Python, "python3-dnspython");
        var result = await ExternalTool.RunAsync(Python, ["-c", script, path, origin], ToolTimeout);
        Assert.True(result.ExitCode == 0, result.Output);
        return result.StandardOutput.Trim();
    }

    [Theory]
    [MemberData(nameof(DnspythonZones))]
    public async Task Digest_equals_dnspython_compute_digest(string origin, string source)
    {
        string path = PathOf(source);
        var zone = LoadVerified(path, origin);

        string expected = await RunPython(DnspythonDigest, path, origin);

        Assert.Equal(expected, zone.DigestHex);
    }

    [Theory]
    [MemberData(nameof(PlainZones))]
    public async Task Zonemd_records_ldns_signzone_adds_verify_on_load(string origin, string source)
    {
        ExternalTool.RequireInstalled(LdnsSignzone, "ldnsutils");
        string output = Path.Combine(generated.Folder, "ldns-" + Guid.NewGuid().ToString("N") + ".txt");

        // -Z: ZONEMD records without signing; SIMPLE with SHA-384 and with SHA-512.
        var result = await ExternalTool.RunAsync(LdnsSignzone, ["-Z", "-z", "1:1", "-z", "1:2", "-f", output, "-o", origin, PathOf(source)], ToolTimeout);
        Assert.True(result.ExitCode == 0, result.Output);

        var zone = LoadVerified(output, origin);
        var zonemds = ApexZonemds(zone);
        Assert.Equal(2, zonemds.Count);
        Assert.Equal(zonemds.Single(z => z.HashAlgorithm == 1).DigestHex, zone.DigestHex);
        Assert.Equal(zonemds.Single(z => z.HashAlgorithm == 2).DigestHex, ZoneDigest.CreateZonemd(zone, ZonemdHashAlgorithm.Sha512).DigestHex);
    }

    [Theory]
    [InlineData("mixed.test.", false)]
    [InlineData("mixed.test.", true)]
    [InlineData("example.com.", false)]
    public async Task Zones_ldns_signs_with_zonemd_verify_on_load(string origin, bool nsec3)
    {
        ExternalTool.RequireInstalled(LdnsKeygen, "ldnsutils");
        string source = origin == "mixed.test." ? generated.PathOf("mixed.test.zone") : Path.Combine(RepositoryPaths.ExampleZones, "example.com.zone");
        string keys = Directory.CreateDirectory(Path.Combine(generated.Folder, "keys-" + Guid.NewGuid().ToString("N"))).FullName;
        // ldns-keygen writes its files into the working directory.
        var keygen = await ExternalTool.RunAsync("/usr/bin/env", ["-C", keys, LdnsKeygen, "-a", "ECDSAP256SHA256", "-k", origin], ToolTimeout);
        Assert.True(keygen.ExitCode == 0, keygen.Output);
        string key = Path.Combine(keys, keygen.StandardOutput.Trim());
        string output = Path.Combine(keys, "signed.txt");

        string[] nsec3Options = nsec3 ? ["-n", "-s", "abcd", "-t", "0"] : [];
        var sign = await ExternalTool.RunAsync(LdnsSignzone, [.. nsec3Options, "-z", "1:1", "-f", output, "-o", origin, source, key], ToolTimeout);
        Assert.True(sign.ExitCode == 0, sign.Output);

        var zone = LoadVerified(output, origin);
        // The apex signs the ZONEMD RRset: its RRSIG is left out of the digest like the ZONEMD itself (RFC 8976 §3.3.1.1).
        var signatures = zone.Apex.Get(RecordType.RRSIG)!;
        Assert.Contains(Enumerable.Range(0, signatures.Count), i => signatures.Rdata(i)[1] == (byte)RecordType.ZONEMD);
        Assert.Equal(Assert.Single(ApexZonemds(zone)).DigestHex, zone.DigestHex);
        Assert.Equal(await RunPython(DnspythonDigest, output, origin), zone.DigestHex);
    }

    [Theory]
    [MemberData(nameof(PlainZones))]
    public async Task Ldns_verify_zone_and_dnspython_accept_the_zonemd_we_make(string origin, string source)
    {
        ExternalTool.RequireInstalled(LdnsVerifyZone, "ldnsutils");
        string path = PathOf(source);
        var zone = LoadVerified(path, origin);
        string withZonemd = Path.Combine(generated.Folder, "ours-" + Guid.NewGuid().ToString("N") + ".txt");
        var text = new StringBuilder(File.ReadAllText(path));
        foreach (var algorithm in new[] { ZonemdHashAlgorithm.Sha384, ZonemdHashAlgorithm.Sha512 })
        {
            var zonemd = ZoneDigest.CreateZonemd(zone, algorithm);
            text.Append(CultureInfo.InvariantCulture, $"\n{zone.Origin} {zone.Soa.Ttl} IN ZONEMD {zonemd}\n");
        }
        File.WriteAllText(withZonemd, text.ToString());

        var ldns = await ExternalTool.RunAsync(LdnsVerifyZone, ["-Z", withZonemd], ToolTimeout);
        Assert.True(ldns.ExitCode == 0, ldns.Output);
        Assert.Contains("Zone is verified and complete", ldns.Output, StringComparison.Ordinal);
        Assert.Equal("verified", await RunPython(DnspythonVerify, withZonemd, origin));
        // And our own loader takes it back.
        Assert.Equal(zone.DigestHex, LoadVerified(withZonemd, origin).DigestHex);
    }

    [Theory]
    [InlineData("a1-simple.example.txt")]
    [InlineData("a3-multiple-digests.example.txt")]
    [InlineData("a4-uri.arpa.txt")]
    public async Task Ldns_verify_zone_confirms_the_rfc_examples_as_typed(string file)
    {
        ExternalTool.RequireInstalled(LdnsVerifyZone, "ldnsutils");

        // A.4's signatures expired in 2021: validate at a time inside their validity.
        var ldns = await ExternalTool.RunAsync(LdnsVerifyZone, ["-Z", "-t", "20210201000000", Path.Combine(RepositoryPaths.ZonemdZones, file)], ToolTimeout);

        Assert.True(ldns.ExitCode == 0, ldns.Output);
        Assert.Contains("Zone is verified and complete", ldns.Output, StringComparison.Ordinal);
    }

    private static List<Zonemd> ApexZonemds(Zone zone)
    {
        var zonemds = new List<Zonemd>();
        if (zone.Apex.Get(RecordType.ZONEMD) is { } rrset)
        {
            for (int i = 0; i < rrset.Count; i++)
            {
                Assert.True(Zonemd.TryParse(rrset.Rdata(i), out var zonemd));
                zonemds.Add(zonemd);
            }
        }
        return zonemds;
    }

    /// <summary>Zone files made for these tests, written to a temporary folder for the life of the test class.</summary>
    public sealed class GeneratedZones : IDisposable
    {
        public const string Prefix = "generated:";

        public GeneratedZones()
        {
            Folder = Directory.CreateTempSubdirectory("anycastdns-zonemd-").FullName;
            foreach (var (_, name, text) in All)
            {
                File.WriteAllText(PathOf(name), text);
            }
        }

        public string Folder { get; }

        public static IReadOnlyList<(string Origin, string Name, string Text)> All { get; } =
        [
            ("mixed.test.", "mixed.test.zone", MixedZone),
            (".", "root.zone", RootZone),
            ("many.test.", "many.test.zone", ManyNames()),
        ];

        public string PathOf(string name) => Path.Combine(Folder, name);

        public void Dispose() => Directory.Delete(Folder, recursive: true);

        /// <summary>Names in RDATA in mixed case for every type RFC 4034 §6.2 lower-cases that dnspython and ldns read.</summary>
        private const string MixedZone = """
            $ORIGIN Mixed.Test.
            $TTL 3600
            @               SOA    NS1.Mixed.TEST. HostMaster.MIXED.test. 2024060101 7200 900 1209600 300
            @               NS     ns1
            @               NS     NS2.Elsewhere.TEST.
            @               MX     10 Mail.Mixed.Test.
            @               MX     20 MAIL
            @               MX     10 mail.mixed.test.
            @               TXT    "Apex Text"
            @               TXT    "apex text"
            @               CAA    0 issue "CA.Example.NET"
            @          600  A      192.0.2.1
            NS1             A      192.0.2.53
            ns1             AAAA   2001:db8::53
            Mail            A      192.0.2.25
            mail            A      192.0.2.25
            mail            A      192.0.2.26
            *.Wild          TXT    "Wildcard"
            *.wild          A      192.0.2.42
            Alias           CNAME  WWW.Mixed.Test.
            www             A      192.0.2.80
            WWW             AAAA   2001:db8::80
            _sip._UDP       SRV    0 5 5060 SIP.Mixed.Test.
            sip             A      192.0.2.60
            naptr           NAPTR  100 10 "S" "SIP+D2U" "" _SIP._udp.Mixed.Test.
            rp              RP     Admin.Mixed.Test. TXT.Mixed.Test.
            afs             AFSDB  1 AFS.Mixed.Test.
            rt              RT     10 Relay.Mixed.Test.
            kx              KX     10 KX.Mixed.Test.
            ptr             PTR    Target.Mixed.Test.
            svc             SVCB   1 SVC.Mixed.Test. alpn=h2
            svc             HTTPS  1 . alpn=h3
            Old             DNAME  New.Mixed.TEST.
            below.old       A      192.0.2.99
            Sub             NS     ns.SUB.mixed.test.
            Sub             NS     ns2.sub
            Sub             DS     12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
            ns.sub          A      192.0.2.5
            ns2.Sub         A      192.0.2.6
            ns2.sub         AAAA   2001:db8::6
            www             RRSIG  A 13 3 3600 20300101000000 20200101000000 4711 MIXED.test. AAECAwQ=
            www        300  RRSIG  NSEC 13 3 300 20300101000000 20200101000000 4711 Mixed.Test. BAUGBwg=
            www        300  NSEC   Zed.Mixed.Test. A AAAA RRSIG NSEC
            a               TXT    "a"
            A\001           TXT    "A\\001"
            a\000           TXT    "a\\000"
            \000            TXT    "\\000"
            \255\255        TXT    "\\255"
            z\.dot          TXT    "escaped dot"
            Z               TXT    "Z"
            zz.z            TXT    "zz.z"
            *               TXT    "apex wildcard"
            -               TXT    "hyphen"
            0               TXT    "digit"
            long            TXT    "one" "two" "three"
            unknown         TYPE65300 \# 4 DEADBEEF

            """;

        /// <summary>The root as origin: top-level delegations with glue, and ordering across top-level names.</summary>
        private const string RootZone = """
            $TTL 86400
            .               SOA    A.Root-Servers.NET. NSTLD.Verisign-Grs.COM. 2024060100 1800 900 604800 86400
            .               NS     a.root-servers.net.
            a.root-servers.net. A  198.41.0.4
            a.root-servers.net. AAAA 2001:503:ba3e::2:30
            test.           NS     NS.Test.
            ns.test.        A      192.0.2.1
            arpa.           NS     a.root-servers.net.
            COM.            NS     a.gtld-servers.com.
            a.gtld-servers.com. A  192.5.6.30
            xn--p1ai.       NS     ns.test.

            """;

        /// <summary>
        /// A few thousand records under pseudo-random mixed-case names, a fixed seed so every run is the same zone. TTLs
        /// differ by type, never within an RRset: dnspython would take the lowest of an RRset's TTLs, we the first.
        /// </summary>
        private static string ManyNames()
        {
            var random = new Random(8976);
            var text = new StringBuilder("$ORIGIN many.test.\n$TTL 600\n@ SOA ns1 hostmaster 1 7200 900 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n");
            const string letters = "aAbBcCdDeEfFgG-0123456789";
            for (int i = 0; i < 3000; i++)
            {
                int labels = 1 + random.Next(3);
                var name = new StringBuilder();
                for (int l = 0; l < labels; l++)
                {
                    int length = 1 + random.Next(6);
                    for (int c = 0; c < length; c++)
                    {
                        name.Append(letters[random.Next(letters.Length)]);
                    }
                    name.Append('.');
                }
                name.Length--;
                switch (random.Next(5))
                {
                    case 0:
                        text.Append(CultureInfo.InvariantCulture, $"{name} A 10.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}\n");
                        break;
                    case 1:
                        text.Append(CultureInfo.InvariantCulture, $"{name} AAAA 2001:db8::{random.Next(65536):x}\n");
                        break;
                    case 2:
                        text.Append(CultureInfo.InvariantCulture, $"{name} MX {random.Next(100)} MX{random.Next(50)}.Many.TEST.\n");
                        break;
                    case 3:
                        text.Append(CultureInfo.InvariantCulture, $"{name} TXT \"record {i}\" \"{name}\"\n");
                        break;
                    default:
                        text.Append(CultureInfo.InvariantCulture, $"{name} 1800 SRV 1 2 {random.Next(65536)} Target{random.Next(20)}.many.test.\n");
                        break;
                }
            }
            return text.ToString();
        }
    }
}
