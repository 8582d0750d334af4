using AnycastDns.Zones;
using static AnycastDns.Zones.Tests.ZoneText;

namespace AnycastDns.Zones.Tests;

/// <summary>
/// Every way a master file can be malformed, each reported once at the line and column of the offending token (or
/// just past the last one when an entry ends too soon), with a message that says what was expected there; and reading
/// goes on, so one pass reports every error of a file.
/// </summary>
public class ZoneFileErrorTests
{
    private static readonly string Label64 = new('a', 64);
    private static readonly string Label63 = new('a', 63);

    // Four labels of 63 octets: 4 * 64 + 1 = 257 octets, two more than RFC 1035 §2.3.4 allows.
    private static readonly string Name257 = $"{Label63}.{Label63}.{Label63}.{Label63}.";

    // Three labels of 63 and one of 50 is 243 octets: fine alone, 257 with ".example.test." after it.
    private static readonly string Relative243 = $"{Label63}.{Label63}.{Label63}.{new string('a', 50)}";

    /// <summary>One bad entry on line 2, after a $TTL line, and the one diagnostic it must give.</summary>
    public static TheoryData<string, string> BadEntries() => new()
    {
        // Lexical errors (RFC 1035 §5.1).
        { "a TXT \"unterminated", "2:7: error: missing closing '\"': the quoted string opened here runs to the end of the line" },
        { "a TXT \"ends with an escaped quote\\\"", "2:7: error: missing closing '\"': the quoted string opened here runs to the end of the line" },
        { "a A 192.0.2.1 )", "2:15: error: unexpected ')' without a matching '('" },
        { "a A ( 192.0.2.1", "2:5: error: missing ')': the parenthesis opened here is never closed" },
        { "a TXT abc\\", "2:7: error: TXT record: a character-string 'abc\\': a backslash ends the text with nothing to escape" },
        { "a TXT \"\\256\"", "2:7: error: TXT record: a character-string \"\\256\": a \\DDD escape above 255" },
        { "a TXT \"a\\06\"", "2:7: error: TXT record: a character-string \"a\\06\": a \\DDD escape needs exactly three decimal digits" },

        // Owner.
        { "  A 192.0.2.1", "2:3: error: no owner name: a line that starts with a blank repeats the previous owner, and there is none yet (RFC 1035 §5.1)" },
        { "\"a\" A 192.0.2.1", "2:1: error: expected an owner name, got the quoted string \"a\"" },
        { "e\\256 A 192.0.2.1", "2:1: error: expected an owner name, got 'e\\256': \\DDD escape above 255" },
        { "a..b A 192.0.2.1", "2:1: error: expected an owner name, got 'a..b': empty label in domain name" },

        // TTL, class and type.
        { "a BOGUS 1", "2:3: error: expected a TTL, class or record type, got 'BOGUS'" },
        { "a 60 BOGUS 1", "2:6: error: expected a class or record type, got 'BOGUS'" },
        { "a IN BOGUS 1", "2:6: error: expected a TTL or record type, got 'BOGUS'" },
        { "a 60 IN BOGUS 1", "2:9: error: expected a record type, got 'BOGUS'" },
        { "a \"A\" 192.0.2.1", "2:3: error: expected a TTL, class or record type, got the quoted string \"A\"" },
        { "a", "2:2: error: expected a TTL, class or record type, but the entry ends here" },
        { "a IN", "2:5: error: expected a TTL or record type, but the entry ends here" },
        { "a TYPE65536 \\# 0", "2:3: error: expected a TTL, class or record type, got 'TYPE65536'" },
        { "a 1x A 192.0.2.1", "2:3: error: expected a TTL (seconds, or units such as 1h30m), got '1x': 'x' is not a time unit (s, m, h, d, w)" },
        { "a 1h30 A 192.0.2.1", "2:3: error: expected a TTL (seconds, or units such as 1h30m), got '1h30': a number without a unit follows the units (write e.g. 1h30m)" },
        { "a 99999999999 A 192.0.2.1", "2:3: error: expected a TTL (seconds, or units such as 1h30m), got '99999999999': the value does not fit in 32 bits" },
        { "a 60 60 A 192.0.2.1", "2:6: error: expected a class or record type, got a second TTL '60'" },
        { "a IN IN A 192.0.2.1", "2:6: error: expected a TTL or record type, got a second class 'IN'" },
        { "a TYPE0 \\# 0", "2:3: error: TYPE0 is a query or meta type and cannot appear in zone data (RFC 6895 §3.1)" },
        { "a TYPE255 \\# 0", "2:3: error: ANY is a query or meta type and cannot appear in zone data (RFC 6895 §3.1)" },
        { "a OPT \\# 0", "2:3: error: OPT is a query or meta type and cannot appear in zone data (RFC 6895 §3.1)" },
        { "a AXFR \\# 0", "2:3: error: AXFR is a query or meta type and cannot appear in zone data (RFC 6895 §3.1)" },
        { "a ANY A 192.0.2.1", "2:3: error: class ANY belongs to queries and updates, not to zone data (RFC 2136 §2.4)" },
        { "a NONE A 192.0.2.1", "2:3: error: class NONE belongs to queries and updates, not to zone data (RFC 2136 §2.4)" },

        // Too few and too many RDATA fields, and fields of the wrong kind.
        { "a A", "2:4: error: A record: expected an IPv4 address, but the record ends here" },
        { "a MX 10", "2:8: error: MX record: expected a mail exchange's domain name, but the record ends here" },
        { "a MX mail 10", "2:6: error: MX record: expected a preference (0-65535), got 'mail'" },
        { "a HINFO \"x\"", "2:12: error: HINFO record: expected an operating system (character-string), but the record ends here" },
        { "a SOA ns h 1 2 3 4", "2:19: error: SOA record: expected a minimum (negative caching) TTL, but the record ends here" },
        { "a MX 10 mail extra", "2:14: error: MX record: unexpected 'extra' after the end of the MX data" },
        { "a A 192.0.2.1 192.0.2.2", "2:15: error: A record: unexpected '192.0.2.2' after the end of the A data" },
        { "a SOA ns h 1 2 3 4 5 6", "2:22: error: SOA record: unexpected '6' after the end of the SOA data" },
        { "a HINFO \"x\" \"y\" \"z\"", "2:17: error: HINFO record: unexpected \"z\" after the end of the HINFO data" },

        // Names too long (RFC 1035 §2.3.4: labels of at most 63 octets, names of at most 255).
        { $"{Label64} A 192.0.2.1", $"2:1: error: expected an owner name, got '{Label64}': label longer than 63 octets" },
        { $"a CNAME {Label64}.example.test.", $"2:9: error: CNAME record: expected the canonical name (a domain name), got '{Label64[..48]}...': label longer than 63 octets" },
        { $"{Name257} A 192.0.2.1", $"2:1: error: expected an owner name, got '{Name257}': domain name longer than 255 octets" },
        { $"{Relative243} A 192.0.2.1", $"2:1: error: expected an owner name, got '{Relative243}': domain name longer than 255 octets" },
        { $"a CNAME {Name257}", $"2:9: error: CNAME record: expected the canonical name (a domain name), got '{Name257[..48]}...': domain name longer than 255 octets" },

        // The RFC 3597 §5 generic form.
        { "a A \\# 3 c0000201", "2:8: error: A record: \\# announces 3 octets but 4 follow" },
        { "a A \\# 5 c0000201", "2:8: error: A record: \\# announces 5 octets but 4 follow" },
        { "a TYPE65280 \\# 0 00", "2:16: error: TYPE65280 record: \\# announces 0 octets but 1 follow" },
        { "a TYPE65280 \\# 2 abc", "2:18: error: TYPE65280 record: the RDATA has an odd number of hex digits" },
        { "a TYPE65280 \\# 70000 00", "2:16: error: TYPE65280 record: expected the RDATA length in octets (0-65535) after \\#, got '70000'" },
        { "a TYPE65280 \\#", "2:15: error: TYPE65280 record: expected the RDATA length in octets (0-65535) after \\#, but the record ends here" },
        { "a A \\# 0", "2:5: error: A record: the \\# octets are not well-formed A RDATA" },
        { "a A \\# 3 c00002", "2:5: error: A record: the \\# octets are not well-formed A RDATA" },
        { "a TYPE65280 abcd", "2:13: error: TYPE65280 record: TYPE65280 has no presentation format known here; write its RDATA in the RFC 3597 form \\# <length> <hex>" },

        // Directives.
        { "$BOGUS x", "2:1: error: unknown directive '$BOGUS' (expected $ORIGIN, $TTL, $INCLUDE or $GENERATE)" },
        { "$TTL", "2:5: error: expected $TTL <ttl>, but the entry ends here" },
        { "$TTL 1y", "2:6: error: expected a TTL after $TTL (seconds, or units such as 1h30m), got '1y': 'y' is not a time unit (s, m, h, d, w)" },
        { "$TTL \"60\"", "2:6: error: expected a TTL after $TTL (seconds, or units such as 1h30m), got the quoted string \"60\"" },
        { "$TTL 60 70", "2:9: error: unexpected '70': the syntax is $TTL <ttl>" },
        { "$ORIGIN", "2:8: error: expected $ORIGIN <domain-name>, but the entry ends here" },
        { "$ORIGIN a b", "2:11: error: unexpected 'b': the syntax is $ORIGIN <domain-name>" },
        { "$ORIGIN a..b", "2:9: error: expected a domain name after $ORIGIN, got 'a..b': empty label in domain name" },
        { "$ORIGIN \"x\"", "2:9: error: expected a domain name after $ORIGIN, got the quoted string \"x\"" },
        { $"$ORIGIN {Label64}.test.", $"2:9: error: expected a domain name after $ORIGIN, got '{Label64}.test.': label longer than 63 octets" },
        { "$include", "2:9: error: expected $INCLUDE <file> [<origin>], but the entry ends here" },
        { "$INCLUDE a b c", "2:14: error: unexpected 'c': the syntax is $INCLUDE <file> [<origin>]" },
        // RFC 1035 §5.1: a control entry starts in the first column; after a blank, $INCLUDE would be a type.
        { "a A 192.0.2.1\n  $INCLUDE x", "3:3: error: expected a TTL, class or record type, got '$INCLUDE'" },
    };

    [Theory]
    [MemberData(nameof(BadEntries))]
    public void A_bad_entry_is_one_error_at_its_token(string entry, string expected)
    {
        Assert.Equal($"{FileName}:{expected}", SingleError($"$TTL 60\n{entry}\n"));
    }

    /// <summary>$GENERATE lines that cannot make their records, and the one diagnostic each must give.</summary>
    public static TheoryData<string, string> BadGenerates() => new()
    {
        // The range (BIND: "invalid range").
        { "$GENERATE 5-1 h$ A 10.0.0.$", "2:11: error: expected a range <start>-<stop>[/<step>] after $GENERATE, got '5-1': start 5 is after stop 1" },
        { "$GENERATE 1 h$ A 10.0.0.$", "2:11: error: expected a range <start>-<stop>[/<step>] after $GENERATE, got '1': the range needs the form start-stop or start-stop/step" },
        { "$GENERATE 1/2-3 h$ A 10.0.0.$", "2:11: error: expected a range <start>-<stop>[/<step>] after $GENERATE, got '1/2-3': the range needs the form start-stop or start-stop/step" },
        { "$GENERATE -1-3 h$ A 10.0.0.$", "2:11: error: expected a range <start>-<stop>[/<step>] after $GENERATE, got '-1-3': the range needs the form start-stop or start-stop/step" },
        { "$GENERATE 1-3/0 h$ A 10.0.0.$", "2:11: error: expected a range <start>-<stop>[/<step>] after $GENERATE, got '1-3/0': the step must be at least 1" },
        { "$GENERATE a-3 h$ A 10.0.0.$", "2:11: error: expected a range <start>-<stop>[/<step>] after $GENERATE, got 'a-3': start, stop and step must be decimal numbers from 0 to 2147483647" },
        { "$GENERATE 1-3/x h$ A 10.0.0.$", "2:11: error: expected a range <start>-<stop>[/<step>] after $GENERATE, got '1-3/x': start, stop and step must be decimal numbers from 0 to 2147483647" },
        { "$GENERATE 0-4294967295 h$ A 10.0.0.$", "2:11: error: expected a range <start>-<stop>[/<step>] after $GENERATE, got '0-4294967295': start, stop and step must be decimal numbers from 0 to 2147483647" },
        { "$GENERATE 0-16777216 h$ A 10.0.0.1", "2:11: error: expected a range <start>-<stop>[/<step>] after $GENERATE, got '0-16777216': the range would make more than 16777216 records" },
        { "$GENERATE \"1-2\" h$ A 10.0.0.$", "2:11: error: expected a range <start>-<stop>[/<step>] after $GENERATE, got the quoted string \"1-2\"" },

        // The templates.
        { "$GENERATE 1-2 h${1,2,z} A 10.0.0.$", "2:15: error: $GENERATE owner template: the base 'z' in '${1,2,z}' is not one of d, o, x, X, n, N" },
        { "$GENERATE 1-2 h${1 A 10.0.0.$", "2:15: error: $GENERATE owner template: a '${' modifier has no closing '}'" },
        { "$GENERATE 1-2 h${1,300} A 10.0.0.$", "2:15: error: $GENERATE owner template: the width '300' in '${1,300}' is not a number from 0 to 255" },
        { "$GENERATE 1-2 h${1,2,d,x} A 10.0.0.$", "2:15: error: $GENERATE owner template: '${1,2,d,x}' has more than offset, width and base" },
        { "$GENERATE 1-2 h${-5,0,x} A 10.0.0.1", "2:15: error: $GENERATE owner template: '${-5,0,x}' makes the negative value -4, which base 'x' cannot show" },
        { "$GENERATE 1-2 h$ A 10.0.0.${x}", "2:20: error: $GENERATE RDATA template: the offset 'x' in '${x}' is not an integer" },
        { "$GENERATE 1-2 \"h$\" A 10.0.0.1", "2:15: error: expected an owner template, got the quoted string \"h$\"" },

        // What the templates make. BIND: "$GENERATE: empty label" for a nibble width that ends in a dot.
        { "$GENERATE 26-26 ${0,4,n}.nib PTR host$.", "2:17: error: $GENERATE value 26: the owner 'a.1..nib' is not a domain name: empty label in domain name" },
        { "$GENERATE 1-2 h$ MX 10", "2:21: error: $GENERATE value 1: MX record '10': expected a mail exchange's domain name, but the record ends here" },

        // The rest of the line.
        { "$GENERATE", "2:10: error: expected $GENERATE <start>-<stop>[/<step>] <owner> [<ttl>] [<class>] <type> <rdata>, but the entry ends here" },
        { "$GENERATE 1-2", "2:14: error: expected $GENERATE <start>-<stop>[/<step>] <owner> [<ttl>] [<class>] <type> <rdata>, but the entry ends here" },
        { "$GENERATE 1-2 h$", "2:17: error: expected a TTL, class or record type, but the entry ends here" },
        { "$GENERATE 1-2 h$ A", "2:19: error: expected the RDATA template after the type, but the entry ends here" },
        { "$GENERATE 1-2 h$ BOGUS x", "2:18: error: expected a TTL, class or record type, got 'BOGUS'" },
        { "$GENERATE 1-2 h$ 1x A 10.0.0.1", "2:18: error: expected a TTL (seconds, or units such as 1h30m), got '1x': 'x' is not a time unit (s, m, h, d, w)" },
    };

    [Theory]
    [MemberData(nameof(BadGenerates))]
    public void A_bad_generate_is_one_error_at_its_token(string entry, string expected)
    {
        Assert.Equal($"{FileName}:{expected}", SingleError($"$TTL 60\n{entry}\n"));
    }

    [Fact]
    public void The_first_line_of_a_file_cannot_start_with_a_blank()
    {
        var result = Read("  A 192.0.2.1\nwww A 192.0.2.2\n");

        Assert.Equal(
            [
                $"{FileName}:1:3: error: no owner name: a line that starts with a blank repeats the previous owner, and there is none yet (RFC 1035 §5.1)",
                $"{FileName}:2:1: error: no TTL: give the record a TTL or put a $TTL line before it (RFC 2308 §4)",
            ],
            Printed(result));
    }

    [Fact]
    public void A_generate_that_fails_part_way_reports_the_value_that_failed()
    {
        var result = Read("$TTL 60\n$GENERATE 250-260 h$ A 10.0.0.$\n");

        Assert.Equal(
            [$"{FileName}:2:24: error: $GENERATE value 256: A record '10.0.0.256': expected an IPv4 address, got '10.0.0.256'"],
            Printed(result));
    }

    [Fact]
    public void An_error_inside_parentheses_points_at_the_line_and_column_of_its_token()
    {
        // Columns count characters, a tab being one.
        var result = Read("$TTL 60\na MX ( 10\n\tmail extra )\nb\tBOGUS 1\n");

        Assert.Equal(
            [
                $"{FileName}:3:7: error: MX record: unexpected 'extra' after the end of the MX data",
                $"{FileName}:4:3: error: expected a TTL, class or record type, got 'BOGUS'",
            ],
            Printed(result));
    }

    [Fact]
    public void A_missing_closing_parenthesis_is_reported_where_it_was_opened()
    {
        // The rest of the file is inside the parentheses, as BIND and Knot read it too.
        var result = Read("$TTL 60\na A 192.0.2.1\nb SOA ns h ( 1 2\n 3 4 5\nc A 192.0.2.3\n");

        Assert.Equal([$"{FileName}:3:12: error: missing ')': the parenthesis opened here is never closed"], Printed(result));
        Assert.Equal("a.example.test.", Assert.Single(result.Records).Owner.ToString());
    }

    [Fact]
    public void An_unterminated_quote_inside_parentheses_ends_at_its_line()
    {
        // RFC 1035 §5.1 quoted strings do not span lines: the next line goes on with the entry.
        var result = Read("$TTL 60\ng TXT ( \"x\n  \"y\" )\nh A 192.0.2.9\n");

        Assert.Equal([$"{FileName}:2:9: error: missing closing '\"': the quoted string opened here runs to the end of the line"], Printed(result));
        Assert.Equal("h.example.test.", Assert.Single(result.Records).Owner.ToString());
    }

    [Fact]
    public void Class_must_be_the_same_for_the_whole_zone()
    {
        var result = Read("$TTL 60\na A 192.0.2.1\nb CH TXT \"x\"\nc CLASS3 TXT \"y\"\nd IN A 192.0.2.2\n");

        Assert.Equal(
            [
                $"{FileName}:3:3: error: class CH differs from the zone's class IN, set at {FileName}:2:1",
                $"{FileName}:4:3: error: class CH differs from the zone's class IN, set at {FileName}:2:1",
            ],
            Printed(result));
        Assert.Equal(2, result.Records.Count);
    }

    [Fact]
    public void Reading_goes_on_after_each_error_so_one_pass_reports_them_all()
    {
        var result = Read("""
            $TTL 60
            @ SOA ns hostmaster 1 2 3 4 5
            bad1 TXT "unterminated
            good1 A 192.0.2.1
            bad2 A 192.0.2.300
            $BOGUS
            good2 ( MX 10
                    mail )
            bad3 BOGUS x
            $TTL 1y
              A 192.0.2.2
            bad4 A 192.0.2.1 )
            $GENERATE 3-1 x$ A 10.0.0.$
            bad5 TYPE65280 \# 2 00
            good3 TXT "fine"
            """);

        Assert.Equal(
            [
                $"{FileName}:3:10: error: missing closing '\"': the quoted string opened here runs to the end of the line",
                $"{FileName}:5:8: error: A record: expected an IPv4 address, got '192.0.2.300'",
                $"{FileName}:6:1: error: unknown directive '$BOGUS' (expected $ORIGIN, $TTL, $INCLUDE or $GENERATE)",
                $"{FileName}:9:6: error: expected a TTL, class or record type, got 'BOGUS'",
                $"{FileName}:10:6: error: expected a TTL after $TTL (seconds, or units such as 1h30m), got '1y': 'y' is not a time unit (s, m, h, d, w)",
                $"{FileName}:12:18: error: unexpected ')' without a matching '('",
                $"{FileName}:13:11: error: expected a range <start>-<stop>[/<step>] after $GENERATE, got '3-1': start 3 is after stop 1",
                $"{FileName}:14:19: error: TYPE65280 record: \\# announces 2 octets but 1 follow",
            ],
            Printed(result));
        // The blank-owner line 11 repeats bad3's owner: the owner is taken before the type fails.
        Assert.Equal(
            ["example.test.", "good1.example.test.", "good2.example.test.", "bad3.example.test.", "good3.example.test."],
            result.Records.ConvertAll(r => r.Owner.ToString()));
    }
}
