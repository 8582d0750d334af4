using System.Globalization;
using System.Text.RegularExpressions;
using AnycastDns.Protocol;
using AnycastDns.TestSupport;
using AnycastDns.Zones;

namespace AnycastDns.Integration.Tests.ReferenceServers;

/// <summary>
/// Our master-file reader (<see cref="ZoneFileReader"/>) beside readers nobody here wrote: kzonecheck (Knot) must
/// accept and reject the same entries, at the same line; the few places where Knot reads a file differently are listed
/// and kept on purpose; and ldns-read-zone must read a file using every feature to the same owners, TTLs, types and
/// wire RDATA.
/// </summary>
public sealed partial class ZoneFileReaderReferenceTests : IDisposable
{
    private const string Kzonecheck = "/usr/bin/kzonecheck";
    private const string LdnsReadZone = "/usr/bin/ldns-read-zone";
    private const string OriginText = "example.test";
    private static readonly DnsName Origin = DnsName.Parse(OriginText + ".");
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(30);

    // A zone that passes Knot's semantic checks; the entry under test is on line 5.
    private const string Head = """
        $TTL 60
        @ SOA ns hostmaster 1 7200 900 1209600 300
        @ NS ns
        ns A 192.0.2.53

        """;

    private static readonly string Label63 = new('a', 63);

    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-zonefile-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string> AcceptedByBoth() => new()
    {
        "$ORIGIN sub.example.test.\nb A 192.0.2.1",
        "a 1h30m A 192.0.2.1",
        "a 1H30M A 192.0.2.1",
        "a 2d A 192.0.2.1",
        "a 1W A 192.0.2.1",
        "a IN 60 A 192.0.2.1",
        "a 60 IN A 192.0.2.1",
        "a TYPE1 192.0.2.1",
        "a A \\# 4 c0000201",
        "a A \\# 4 ( c000 ; hex over lines\n 0201 )",
        "a TYPE65280 \\# 0",
        "a TYPE65280 \\# 3 abcdef",
        "a TXT \"semi;colon\" \"quote\\\"d\" \"\\065\\255\" plain\\;x",
        "a A ( 192.0.2.1 ; comment ( \" \n )",
        "a A 192.0.2.1\n  ; comment\n\tAAAA 2001:db8::1",
        "a\\.b A 192.0.2.1",
        $"{Label63}.{Label63}.{Label63}.{new string('a', 61)}. A 192.0.2.1",
        "$INCLUDE hosts.inc",
        "$INCLUDE \"hosts.inc\" sub.example.test.",
        "$TTL 4294967295\na A 192.0.2.1",
    };

    [Theory]
    [MemberData(nameof(AcceptedByBoth))]
    public async Task Knot_and_we_accept(string entry)
    {
        string zone = WriteZone(entry);

        var ours = ZoneFileReader.ReadFile(zone, Origin);
        var knot = await RunKzonecheckAsync(zone);

        Assert.False(ours.HasErrors, string.Join("\n", ours.Diagnostics));
        Assert.True(knot.ExitCode == 0, knot.Output);
    }

    /// <summary>Entries both readers refuse, and the line both name.</summary>
    public static TheoryData<string, int> RejectedByBoth() => new()
    {
        { "a 1x A 192.0.2.1", 5 },
        { "a 1h30 A 192.0.2.1", 5 },
        { "a 4294967296 A 192.0.2.1", 5 },
        { "a 60 60 A 192.0.2.1", 5 },
        { "a IN IN A 192.0.2.1", 5 },
        { "a BOGUS 1", 5 },
        { "a TYPE65536 \\# 0", 5 },
        { "a OPT \\# 0", 5 },
        { "a AXFR \\# 0", 5 },
        { "a ANY A 192.0.2.1", 5 },
        { "a NONE A 192.0.2.1", 5 },
        { "a 60 CH A 192.0.2.1", 5 },
        { "\"a\" A 192.0.2.1", 5 },
        { "a MX 10", 5 },
        { "a MX 10 mail extra", 5 },
        { "a A 192.0.2.1 192.0.2.2", 5 },
        { "a HINFO \"x\"", 5 },
        { "a SOA ns h 1 2 3 4", 5 },
        { "a TXT \"unterminated", 5 },
        { "a TXT \"x\\256\"", 5 },
        { "a A 192.0.2.1 )", 5 },
        { "a A \\# 3 c0000201", 5 },
        { "a A \\# 0", 5 },
        { "a TYPE65280 \\# 2 abcdef", 5 },
        { "a TYPE65280 \\# 2 abc", 5 },
        { "a TYPE65280 abcd", 5 },
        { $"{new string('a', 64)} A 192.0.2.1", 5 },
        { $"a CNAME {new string('a', 64)}.example.test.", 5 },
        { $"{Label63}.{Label63}.{Label63}.{Label63}. A 192.0.2.1", 5 },
        { $"a CNAME {Label63}.{Label63}.{Label63}.{Label63}.", 5 },
        { "$BOGUS x", 5 },
        { "$TTL", 5 },
        { "$TTL 1y", 5 },
        { "$ORIGIN", 5 },
        { "$ORIGIN a..b", 5 },
        { "a A 192.0.2.1\nb BOGUS 1\nc A 192.0.2.3", 6 },
    };

    [Theory]
    [MemberData(nameof(RejectedByBoth))]
    public async Task Knot_and_we_reject_at_the_same_line(string entry, int line)
    {
        string zone = WriteZone(entry);

        var ours = ZoneFileReader.ReadFile(zone, Origin);
        var knot = await RunKzonecheckAsync(zone);

        var error = Assert.Single(ours.Diagnostics, d => d.Severity == Severity.Error);
        Assert.Equal(line, error.Location.Line);
        Assert.True(knot.ExitCode == 1, knot.Output);
        Assert.Equal([line], KnotErrorLines(knot.Output));
    }

    /// <summary>
    /// Where Knot 3.2 reads differently, and why we keep our reading: the entry, whether we accept it, whether Knot
    /// does. Should either side change, this fails and the choice is made again.
    /// </summary>
    public static TheoryData<string, bool, bool> Deviations() => new()
    {
        // RFC 1035 §5.1 appends a relative name, $ORIGIN's and $INCLUDE's origin too, to the current origin, as BIND
        // does; Knot wants an absolute name there.
        { "$ORIGIN sub\nb A 192.0.2.1", true, false },
        { "$INCLUDE hosts.inc sub", true, false },
        // RFC 3597 §5: CLASSnnn is the generic class name; Knot reads the class IN only by its mnemonic.
        { "a CLASS1 A 192.0.2.1", true, false },
        // RFC 6895 §3.1: type 0 is reserved and 255 (ANY) a query type, not zone data; BIND refuses them as we do.
        { "a TYPE0 \\# 0", false, true },
        { "a TYPE255 \\# 0", false, true },
        // BIND's $GENERATE; Knot has no such directive.
        { "$GENERATE 1-3 host$ A 192.0.2.$", true, false },
        // Our rule: an $INCLUDE stays inside the zone file's folder. Knot reads any path.
        { "$INCLUDE ../outside.inc", false, true },
    };

    [Theory]
    [MemberData(nameof(Deviations))]
    public async Task Knot_reads_these_differently_on_purpose(string entry, bool weAccept, bool knotAccepts)
    {
        string zone = WriteZone(entry);

        var ours = ZoneFileReader.ReadFile(zone, Origin);
        var knot = await RunKzonecheckAsync(zone);

        Assert.True(weAccept == !ours.HasErrors, string.Join("\n", ours.Diagnostics));
        Assert.True(knotAccepts == (knot.ExitCode == 0), knot.Output);
    }

    [Fact]
    public async Task An_unclosed_parenthesis_is_rejected_by_both_where_each_notices_it()
    {
        // We point at the '(' that is never closed; Knot names the line where the file ends.
        string zone = WriteZone("a A ( 192.0.2.1\nb A 192.0.2.2");

        var ours = ZoneFileReader.ReadFile(zone, Origin);
        var knot = await RunKzonecheckAsync(zone);

        Assert.Equal(
            $"{zone}:5:5: error: missing ')': the parenthesis opened here is never closed",
            Assert.Single(ours.Diagnostics).ToString());
        Assert.Equal([7], KnotErrorLines(knot.Output));
    }

    [Fact]
    public async Task An_included_file_cannot_repeat_an_owner_from_the_file_that_includes_it_in_either()
    {
        string zone = WriteZone("a A 192.0.2.1\n$INCLUDE blank.inc");
        File.WriteAllText(Path.Combine(_folder, "zones", "blank.inc"), "  A 192.0.2.7\n");

        var ours = ZoneFileReader.ReadFile(zone, Origin);
        var knot = await RunKzonecheckAsync(zone);

        var error = Assert.Single(ours.Diagnostics);
        Assert.Equal(new SourceLocation(Path.Combine(_folder, "zones", "blank.inc"), 1, 3), error.Location);
        Assert.True(knot.ExitCode == 1, knot.Output);
        Assert.Contains("line 1 (previous owner is invalid)", knot.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// A file that uses the reader's features at once, with one record of every type the unit tests check.
    /// ldns does not append a relative $ORIGIN to the current origin, so every $ORIGIN here is absolute. The RRSIG
    /// gives its TTL: without one, ldns (and Knot) take the RRSIG's Original TTL field, while BIND and we take the
    /// default TTL like any other record's.
    /// </summary>
    private const string EveryFeature = """
        $ORIGIN example.test.
        $TTL 1h
        @ IN SOA ns hostmaster (
                2024010101 ; serial ( not a parenthesis
                2h 1h 2w 5m )
          NS ns
        ns 300 IN A 192.0.2.53
           301 AAAA 2001:db8::53
        x A 192.0.2.1
        @ MX 10 mail
        x TXT "semi;colon" "quote\"d" "\065\255" plain\;x
        	HINFO "PC" "Linux"
        a\.b A 192.0.2.2
        \065bc 1H30M A 192.0.2.3
        Www CNAME x
        b CLASS1 TYPE1 192.0.2.4
        c A \# 4 c0000205
        d TYPE65280 \# 0
        $ORIGIN sub.example.test.
        e 2d A 192.0.2.6
        @ 1W NS ns.example.test.
        $ORIGIN example.test.
        f TXT ( "multi" ; comment
           "line" )
        ptr PTR host.example.org.
        _sip._tcp SRV 10 20 5060 sip
        naptr NAPTR 100 10 "S" "SIP+D2U" "" _sip._udp
        @ CAA 0 issue "ca.example.net"
        dname DNAME target.example.org.
        sec DS 60485 5 1 ( 2BB183AF5F22588179A5
                           3B0A98631FAD1A292118 )
        sec DNSKEY 256 3 8 AwEAAcw=
        sec 60 RRSIG A 8 3 60 20240201000000 20240101000000 60485 example.test. AwEAAcw=
        sec NSEC www.example.test. A NS RRSIG NSEC
        1avvqn74sg75ukfvf25dgcethgq638ek NSEC3 1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr A RRSIG
        @ NSEC3PARAM 1 0 12 aabbccdd
        sec CDS 60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118
        sec CDNSKEY 256 3 8 AwEAAcw=
        _443._tcp TLSA 3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        ssh SSHFP 1 1 dd465c09cfa51fb45020cc83316fff21b9ec74ac
        svc SVCB 1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1
        svc HTTPS 0 svc
        @ HTTPS 1 . alpn=h2
        @ ZONEMD 2024010101 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
        _http._tcp URI 10 1 "https://www.example.test/"
        loc LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m
        unk TYPE65280 \# 4 deadbeef

        """;

    [Fact]
    public async Task Ldns_reads_every_feature_to_the_same_records()
    {
        ExternalTool.RequireInstalled(LdnsReadZone, "ldnsutils");
        string zone = Path.Combine(_folder, "every-feature.zone");
        await File.WriteAllTextAsync(zone, EveryFeature);

        var ours = ZoneFileReader.ReadFile(zone, Origin);
        // -U with a type the file does not hold prints every record in the RFC 3597 form: owner TTL class TYPEn \# len hex.
        var ldns = await ExternalTool.RunAsync(LdnsReadZone, ["-U", "NULL", zone], CheckTimeout);

        Assert.Empty(ours.Diagnostics);
        Assert.True(ldns.ExitCode == 0, ldns.Output);
        var expected = LdnsRecords(ldns.StandardOutput);
        var actual = ours.Records.ConvertAll(r =>
            $"{r.Owner} {r.Ttl} TYPE{(ushort)r.Type} {Convert.ToHexStringLower(r.Rdata)}");
        Assert.Equal(39, actual.Count);
        Assert.Equal(expected, actual);
    }

    /// <summary>ldns-read-zone's lines as "owner ttl TYPEn hex", in file order.</summary>
    private static List<string> LdnsRecords(string output)
    {
        var records = new List<string>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] f = line.Split(['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            Assert.True(f.Length >= 6 && f[2] == "IN" && f[4] == "\\#", $"unexpected ldns-read-zone line: {line}");
            records.Add($"{f[0]} {f[1]} {f[3]} {string.Concat(f.AsSpan(6)).ToLowerInvariant()}");
        }
        return records;
    }

    /// <summary>Writes the zone example.test (<see cref="Head"/> then <paramref name="entry"/>) to zones/, beside hosts.inc; ../outside.inc is outside that folder.</summary>
    private string WriteZone(string entry)
    {
        string zones = Path.Combine(_folder, "zones");
        Directory.CreateDirectory(zones);
        File.WriteAllText(Path.Combine(zones, "hosts.inc"), "www A 192.0.2.1\n");
        File.WriteAllText(Path.Combine(_folder, "outside.inc"), "evil A 192.0.2.66\n");
        string zone = Path.Combine(zones, OriginText + ".zone");
        File.WriteAllText(zone, Head + entry + "\n");
        return zone;
    }

    private static async Task<ToolResult> RunKzonecheckAsync(string zone)
    {
        ExternalTool.RequireInstalled(Kzonecheck, "knot-dnssecutils");
        return await ExternalTool.RunAsync(Kzonecheck, ["-v", "-o", OriginText, zone], CheckTimeout);
    }

    /// <summary>The lines of kzonecheck's "error in zone, file '...', line N (reason)" messages.</summary>
    private static List<int> KnotErrorLines(string output)
    {
        var lines = new List<int>();
        foreach (Match m in KnotErrorLine().Matches(output))
        {
            lines.Add(int.Parse(m.Groups[1].ValueSpan, CultureInfo.InvariantCulture));
        }
        return lines;
    }

    [GeneratedRegex(@"error in zone, file '[^']*', line (\d+) \(")]
    private static partial Regex KnotErrorLine();
}
