using AnycastDns.Protocol;
using AnycastDns.Zones;
using static AnycastDns.Zones.Tests.ZoneText;

namespace AnycastDns.Zones.Tests;

/// <summary>
/// The entries of an RFC 1035 §5.1 master file as <see cref="ZoneFileReader"/> reads them: owners, TTL and class,
/// the lexical rules (parentheses, comments, quotes, escapes), the generic forms of RFC 3597 §5, and one record of each
/// supported type down to its wire RDATA. Directives are in <see cref="ZoneFileDirectiveTests"/>, failures in
/// <see cref="ZoneFileErrorTests"/>.
/// </summary>
public class ZoneFileReaderTests
{
    [Fact]
    public void Owners_are_the_origin_relative_or_absolute()
    {
        var records = ReadClean("""
            $TTL 60
            @ A 192.0.2.1
            www A 192.0.2.2
            a.b A 192.0.2.3
            abs.example.test. A 192.0.2.4
            WWW.Example.Test. A 192.0.2.5
            """);

        Assert.Equal(
            ["example.test.", "www.example.test.", "a.b.example.test.", "abs.example.test.", "WWW.Example.Test."],
            records.ConvertAll(r => r.Owner.ToString()));
    }

    [Fact]
    public void Escapes_in_an_owner_make_one_label_of_any_octets()
    {
        var records = ReadClean("""
            $TTL 60
            a\.b A 192.0.2.1
            \065bc A 192.0.2.2
            sp\032ace A 192.0.2.3
            """);

        Assert.Equal(3, records[0].Owner.LabelCount);
        Assert.Equal("a.b"u8.ToArray(), records[0].Owner.Label(0).ToArray());
        Assert.Equal("Abc"u8.ToArray(), records[1].Owner.Label(0).ToArray());
        Assert.Equal("sp ace"u8.ToArray(), records[2].Owner.Label(0).ToArray());
    }

    [Fact]
    public void A_line_starting_with_a_blank_repeats_the_previous_owner()
    {
        // RFC 1035 §5.1: "If a line begins with a blank, then the owner is assumed to be the same as that of the
        // previous RR." Comments, blank lines and $ORIGIN in between do not change that owner.
        var records = ReadClean("""
            $TTL 60
            host A 192.0.2.1
              A 192.0.2.2
            	AAAA 2001:db8::1
            ; a comment

            $ORIGIN elsewhere.example.test.
                TXT "still host"
            @ A 192.0.2.3
             A 192.0.2.4
            """);

        Assert.Equal(
            ["host.example.test.", "host.example.test.", "host.example.test.", "host.example.test.", "elsewhere.example.test.", "elsewhere.example.test."],
            records.ConvertAll(r => r.Owner.ToString()));
    }

    [Fact]
    public void An_owner_written_again_after_an_at_sign_is_that_owner_not_the_origin()
    {
        // A regression test: the reader remembers the text of the last owner to skip parsing it again, and "@" in
        // between used to leave that memory pointing at the origin, so the second "x" became example.test.
        var records = ReadClean("""
            $TTL 60
            x A 192.0.2.1
            @ A 192.0.2.2
            x A 192.0.2.3
              A 192.0.2.4
            """);

        Assert.Equal(
            ["x.example.test.", "example.test.", "x.example.test.", "x.example.test."],
            records.ConvertAll(r => r.Owner.ToString()));
    }

    [Fact]
    public void Ttl_and_class_come_in_either_order_or_not_at_all()
    {
        // RFC 1035 §5.1: <owner> [<TTL>] [<class>] <type> or <owner> [<class>] [<TTL>] <type>.
        var records = ReadClean("""
            $TTL 60
            a 300 IN A 192.0.2.1
            b IN 301 A 192.0.2.2
            c IN A 192.0.2.3
            d 302 A 192.0.2.4
            e A 192.0.2.5
            f in 303 a 192.0.2.6
            """);

        Assert.Equal([300u, 301u, 60u, 302u, 60u, 303u], records.ConvertAll(r => r.Ttl));
        Assert.All(records, r => Assert.Equal(RecordClass.IN, r.Class));
        Assert.All(records, r => Assert.Equal(RecordType.A, r.Type));
    }

    [Fact]
    public void Generic_type_and_class_names_are_the_types_and_classes_they_number()
    {
        // RFC 3597 §5: TYPEnnn and CLASSnnn stand for any type and class, known or not.
        var records = ReadClean("""
            $TTL 60
            a CLASS1 TYPE1 192.0.2.1
            b type28 2001:db8::1
            c TYPE15 10 mail
            d TYPE65280 \# 3 abcdef
            e 60 class1 A 192.0.2.2
            """);

        Assert.Equal([RecordType.A, RecordType.AAAA, RecordType.MX, (RecordType)65280, RecordType.A], records.ConvertAll(r => r.Type));
        Assert.All(records, r => Assert.Equal(RecordClass.IN, r.Class));
        Assert.Equal("c0000201", Hex(records[0]));
        Assert.Equal("000a046d61696c076578616d706c65047465737400", Hex(records[2]));
        Assert.Equal("abcdef", Hex(records[3]));
    }

    [Fact]
    public void A_class_other_than_in_is_read_when_the_whole_zone_has_it()
    {
        var records = ReadClean("""
            $TTL 60
            a CH TXT "chaos"
            b TXT "same class, not repeated"
            c CLASS3 TXT "CH by number"
            """);

        Assert.All(records, r => Assert.Equal(RecordClass.CH, r.Class));
    }

    [Theory]
    [InlineData("A", @"\# 4 c0000201", "c0000201")]
    [InlineData("A", @"\# 4 C0 00 02 01", "c0000201")]
    [InlineData("A", @"\# 4 ( c000 ; split over lines" + "\n" + " 0201 )", "c0000201")]
    [InlineData("MX", @"\# 8 000a 046d6169 6c00", "000a046d61696c00")]
    [InlineData("TXT", @"\# 4 03616263", "03616263")]
    [InlineData("TYPE65280", @"\# 0", "")]
    [InlineData("NULL", @"\# 0", "")]
    [InlineData("NULL", @"\# 2 0102", "0102")]
    [InlineData("TYPE65535", @"\# 1 ff", "ff")]
    public void The_rfc_3597_generic_form_gives_the_octets_as_written(string type, string rdata, string hex)
    {
        // RFC 3597 §5: \# <length> <hex>, for unknown and known types alike; the hex may be split into words.
        var record = Single($"$TTL 60\nr {type} {rdata}\n");

        Assert.Equal(hex, Hex(record));
    }

    [Theory]
    [InlineData("0", 0u)]
    [InlineData("90", 90u)]
    [InlineData("90s", 90u)]
    [InlineData("1h30m", 5400u)]
    [InlineData("1H30M", 5400u)]
    [InlineData("2d", 172800u)]
    [InlineData("1W", 604800u)]
    [InlineData("1w2d3h4m5s", 788645u)]
    [InlineData("2147483647", 2147483647u)]
    public void Ttls_take_the_bind_units_in_either_case(string ttl, uint seconds)
    {
        // RFC 2308 §4 brought BIND's unit syntax (s, m, h, d, w) into master files; the same units serve $TTL.
        var records = ReadClean($"r {ttl} A 192.0.2.1\n$TTL {ttl}\ns A 192.0.2.2\n");

        Assert.Equal([seconds, seconds], records.ConvertAll(r => r.Ttl));
    }

    [Fact]
    public void Parentheses_join_lines_and_comments_inside_them_are_skipped()
    {
        var split = ReadClean("""
            $TTL 60
            @ IN SOA ns hostmaster (
                    2024010101 ; serial ( not a parenthesis, nor is this )
                    7200       ; refresh "not a quote
                    3600 1209600
                    ; a line of comment only
                    300 )      ; minimum
            next A 192.0.2.1
            """);
        var oneLine = ReadClean("$TTL 60\n@ IN SOA ns hostmaster 2024010101 7200 3600 1209600 300\n");

        Assert.Equal(2, split.Count);
        Assert.Equal(Hex(oneLine[0]), Hex(split[0]));
        Assert.Equal(2, split[0].Location.Line);
        Assert.Equal(8, split[1].Location.Line);
        Assert.Equal("next.example.test.", split[1].Owner.ToString());
    }

    [Fact]
    public void Parentheses_may_open_and_close_more_than_once_in_an_entry()
    {
        var record = Single("$TTL 60\nt TXT ( \"a\" ) \"b\" (\n\"c\"\n)\n");

        Assert.Equal("016101620163", Hex(record));
    }

    [Fact]
    public void Quoted_strings_keep_blanks_semicolons_and_parentheses_and_decode_escapes()
    {
        // RFC 1035 §5.1: \X is X itself, \DDD the octet with that decimal value; ';' and '(' quote nothing inside quotes.
        var record = Single("""
            $TTL 60
            t TXT "semi;colon" "quote\"d" "\065\255" "back\\slash" "(paren" "sp ace" "" plain\;x \"q
            """);

        Assert.Equal(
            "0a" + "73656d693b636f6c6f6e"   // semi;colon
            + "07" + "71756f74652264"       // quote"d
            + "02" + "41ff"                 // \065 \255
            + "0a" + "6261636b5c736c617368" // back\slash
            + "06" + "28706172656e"         // (paren
            + "06" + "737020616365"         // sp ace
            + "00"                          // ""
            + "07" + "706c61696e3b78"       // plain;x
            + "02" + "2271",                // "q
            Hex(record));
    }

    [Fact]
    public void A_comment_ends_an_entry_but_not_inside_quotes()
    {
        var records = ReadClean("""
            ; a file may start with a comment
            $TTL 60 ; and directives may end with one
            a TXT "x;y" ; a comment "with a quote
            b A 192.0.2.1;no blank needed before a comment
            """);

        Assert.Equal("03783b79", Hex(records[0]));
        Assert.Equal("c0000201", Hex(records[1]));
    }

    [Fact]
    public void Crlf_line_ends_read_as_lf_does()
    {
        var crlf = ReadClean("$TTL 60\r\n@ SOA ns h ( 1 2 3\r\n 4 5 ) ; c\r\n  TXT \"a\"\r\nb A 192.0.2.1\r\n");
        var lf = ReadClean("$TTL 60\n@ SOA ns h ( 1 2 3\n 4 5 ) ; c\n  TXT \"a\"\nb A 192.0.2.1\n");

        Assert.Equal(lf.ConvertAll(r => (r.Owner.ToString(), r.Type, Hex(r), r.Location)), crlf.ConvertAll(r => (r.Owner.ToString(), r.Type, Hex(r), r.Location)));
    }

    [Fact]
    public void Each_record_tells_the_file_line_and_column_it_starts_at()
    {
        var records = ReadClean("$TTL 60\n\nwww A 192.0.2.1\n   AAAA 2001:db8::1\n\tTXT \"x\"\n");

        Assert.Equal(new SourceLocation(FileName, 3, 1), records[0].Location);
        Assert.Equal(new SourceLocation(FileName, 4, 4), records[1].Location);
        Assert.Equal(new SourceLocation(FileName, 5, 2), records[2].Location);
    }

    [Fact]
    public void Relative_names_in_rdata_are_completed_with_the_origin_and_at_is_the_origin()
    {
        var records = ReadClean("""
            $TTL 60
            a CNAME @
            b MX 10 mail
            c NS ns.example.org.
            """);

        Assert.Equal("076578616d706c650474657374" + "00", Hex(records[0]));
        Assert.Equal("000a" + "046d61696c" + "076578616d706c650474657374" + "00", Hex(records[1]));
        Assert.Equal("026e73" + "076578616d706c65036f7267" + "00", Hex(records[2]));
    }

    /// <summary>
    /// One record of each type, as a zone file spells it, and its uncompressed wire RDATA. The expected octets were
    /// checked against an independent reader, ldns-read-zone -u (RFC 3597 output); the integration test
    /// ZoneFileReaderReferenceTests repeats that comparison on every run.
    /// </summary>
    public static TheoryData<string, string, string> RecordsOfEachType() => new()
    {
        { "A", "192.0.2.53", "c0000235" },
        { "AAAA", "2001:db8::53", "20010db8000000000000000000000053" },
        { "NS", "ns", "026e73076578616d706c65047465737400" },
        { "CNAME", "ns.example.test.", "026e73076578616d706c65047465737400" },
        {
            "SOA", "ns.example.test. hostmaster.example.test. 2024010101 7200 3600 1209600 300",
            "026e73076578616d706c65047465737400" + "0a686f73746d6173746572076578616d706c65047465737400"
            + "78a3f175" + "00001c20" + "00000e10" + "00127500" + "0000012c"
        },
        {
            "SOA", "ns hostmaster 2024010101 2h 1h 2w 5m",
            "026e73076578616d706c65047465737400" + "0a686f73746d6173746572076578616d706c65047465737400"
            + "78a3f175" + "00001c20" + "00000e10" + "00127500" + "0000012c"
        },
        { "PTR", "host.example.org.", "04686f7374076578616d706c65036f726700" },
        { "MX", "10 mail", "000a046d61696c076578616d706c65047465737400" },
        { "TXT", "\"hello world\" x", "0b68656c6c6f20776f726c640178" },
        { "HINFO", "\"PC\" \"Linux\"", "025043054c696e7578" },
        { "SRV", "10 20 5060 sip", "000a001413c403736970076578616d706c65047465737400" },
        { "NAPTR", "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp", "0064000a0153075349502b44325500045f736970045f756470076578616d706c65047465737400" },
        { "CAA", "0 issue \"ca.example.net\"", "0005697373756563612e6578616d706c652e6e6574" },
        { "DNAME", "target.example.org.", "06746172676574076578616d706c65036f726700" },
        { "DS", "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118", "ec4505012bb183af5f22588179a53b0a98631fad1a292118" },
        { "DS", "60485 5 1 ( 2BB183AF5F22588179A5\n 3B0A98631FAD1A292118 )", "ec4505012bb183af5f22588179a53b0a98631fad1a292118" },
        { "DNSKEY", "256 3 8 AwEAAcw=", "0100030803010001cc" },
        { "DNSKEY", "256 3 8 ( AwEA\n Acw= )", "0100030803010001cc" },
        {
            "RRSIG", "A 8 3 60 20240201000000 20240101000000 60485 example.test. AwEAAcw=",
            "0001" + "08" + "03" + "0000003c" + "65badf00" + "65920080" + "ec45" + "076578616d706c65047465737400" + "03010001cc"
        },
        { "NSEC", "www.example.test. A NS RRSIG NSEC", "03777777076578616d706c650474657374000006600000000003" },
        {
            "NSEC3", "1 1 12 aabbccdd 2t7b4g4vsa5smi47k61mv5bv1a22bojr A RRSIG",
            "01" + "01" + "000c" + "04aabbccdd" + "14174eb2409fe28bcb4887a1836f957f0a8425e27b" + "0006400000000002"
        },
        { "NSEC3PARAM", "1 0 12 aabbccdd", "0100000c04aabbccdd" },
        { "NSEC3PARAM", "1 0 0 -", "0100000000" },
        { "CDS", "60485 5 1 2BB183AF5F22588179A53B0A98631FAD1A292118", "ec4505012bb183af5f22588179a53b0a98631fad1a292118" },
        { "CDNSKEY", "256 3 8 AwEAAcw=", "0100030803010001cc" },
        {
            "TLSA", "3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "030101" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        },
        { "SSHFP", "1 1 dd465c09cfa51fb45020cc83316fff21b9ec74ac", "0101dd465c09cfa51fb45020cc83316fff21b9ec74ac" },
        { "SVCB", "1 . alpn=h2,h3 port=8443 ipv4hint=192.0.2.1", "0001" + "00" + "0001" + "0006" + "026832026833" + "0003" + "0002" + "20fb" + "0004" + "0004" + "c0000201" },
        { "HTTPS", "1 . alpn=h2", "00010000010003026832" },
        { "HTTPS", "0 svc", "0000" + "03737663076578616d706c65047465737400" },
        {
            "ZONEMD", "2024010101 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "78a3f175" + "01" + "01" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
        },
        { "URI", "10 1 \"https://www.example.test/\"", "000a000168747470733a2f2f7777772e6578616d706c652e746573742f" },
        { "LOC", "52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m", "000016138b3cf018810cbce0009895b8" },
        { "TYPE65280", @"\# 4 deadbeef", "deadbeef" },
        { "TYPE260", @"\# 2 0102", "0102" },
    };

    [Theory]
    [MemberData(nameof(RecordsOfEachType))]
    public void Each_type_reads_to_its_wire_rdata(string type, string rdata, string hex)
    {
        var record = Single($"$TTL 60\n$ORIGIN example.test.\nr IN {type} {rdata}\n");

        Assert.True(RecordTypeNames.TryParseType(type, out var expectedType));
        Assert.Equal(expectedType, record.Type);
        Assert.Equal(hex, Hex(record));
        Assert.Equal(new SourceLocation(FileName, 3, 1), record.Location);
    }
}
