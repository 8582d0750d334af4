using AnycastDns.Protocol;
using AnycastDns.Zones;
using static AnycastDns.Zones.Tests.ZoneText;

namespace AnycastDns.Zones.Tests;

/// <summary>
/// The control entries of a master file: $ORIGIN and $INCLUDE (RFC 1035 §5.1), $TTL (RFC 2308 §4) and BIND's
/// $GENERATE, and the TTL a record gets when it gives none. Where BIND and Knot read a file differently, the
/// expected result is BIND's (named-checkzone -D), and the test says so.
/// </summary>
public sealed class ZoneFileDirectiveTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-zonefile-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    // ---- $ORIGIN --------------------------------------------------------------------------------------------------

    [Fact]
    public void Origin_sets_the_name_relative_names_end_with_absolute_or_relative_to_the_current_one()
    {
        // RFC 1035 §5.1: a relative $ORIGIN is appended to the current origin (BIND does so; Knot refuses it).
        var records = ReadClean("""
            $TTL 60
            $ORIGIN other.example.test.
            a A 192.0.2.1
            @ A 192.0.2.2
            $ORIGIN sub
            b A 192.0.2.3
            @ MX 10 mail
            $ORIGIN deeper.sub.other.example.test.
            c A 192.0.2.4
            $ORIGIN .
            d.example.test A 192.0.2.5
            """);

        Assert.Equal(
            ["a.other.example.test.", "other.example.test.", "b.sub.other.example.test.", "sub.other.example.test.",
             "c.deeper.sub.other.example.test.", "d.example.test."],
            records.ConvertAll(r => r.Owner.ToString()));
        // The RDATA name is completed with the origin in force too.
        Assert.Equal("000a" + "046d61696c" + "03737562" + "056f74686572" + "076578616d706c65" + "0474657374" + "00", Hex(records[3]));
    }

    [Fact]
    public void Origin_directive_names_are_case_insensitive_and_may_end_with_a_comment()
    {
        var record = Single("$ttl 60 ; default\n$origin Other.Example.Test. ; comment\na A 192.0.2.1\n");

        Assert.Equal("a.Other.Example.Test.", record.Owner.ToString());
        Assert.Equal(60u, record.Ttl);
    }

    // ---- $TTL and the TTL of a record that gives none -------------------------------------------------------------

    [Fact]
    public void Ttl_directive_is_the_ttl_of_later_records_that_give_none()
    {
        // RFC 2308 §4: $TTL sets the default for the records that follow it; an explicit TTL wins.
        var records = ReadClean("""
            $TTL 1h
            a A 192.0.2.1
            b 300 A 192.0.2.2
            c A 192.0.2.3
            $TTL 2d
            d A 192.0.2.4
            """);

        Assert.Equal([3600u, 300u, 3600u, 172800u], records.ConvertAll(r => r.Ttl));
    }

    [Fact]
    public void Without_ttl_directive_the_soa_minimum_becomes_the_default_ttl_as_bind_does()
    {
        // BIND ("no TTL specified; using SOA MINTTL instead") makes the MINIMUM the default for the rest of the file,
        // so "ns" gets 5, not the 60 given just before it. Knot uses its configured default-ttl (3600) instead.
        var result = Read("""
            @ SOA ns h 1 2 3 4 5
            @ 60 NS ns
            ns A 192.0.2.53
            $TTL 30
            b A 192.0.2.1
            """);

        Assert.False(result.HasErrors);
        Assert.Equal([5u, 60u, 5u, 30u], result.Records.ConvertAll(r => r.Ttl));
        Assert.Equal(
            [$"{FileName}:1:1: warning: no TTL and no $TTL: using the SOA MINIMUM 5 as the default TTL, as BIND does; add a $TTL line (RFC 2308 §4)"],
            Printed(result));
    }

    [Fact]
    public void Without_ttl_directive_a_record_takes_the_last_ttl_given_as_bind_does()
    {
        // RFC 1035 §5.1: an omitted TTL is the last one given. BIND warns "using RFC1035 TTL semantics", once.
        var result = Read("""
            @ 300 SOA ns h 1 2 3 4 500
            @ NS ns
            ns A 192.0.2.1
            $TTL 77
            x A 192.0.2.2
            y 5 A 192.0.2.3
            z A 192.0.2.4
            """);

        Assert.False(result.HasErrors);
        Assert.Equal([300u, 300u, 300u, 77u, 5u, 77u], result.Records.ConvertAll(r => r.Ttl));
        Assert.Equal(
            [$"{FileName}:2:1: warning: no TTL and no $TTL: using 300, the last TTL given (RFC 1035 §5.1); a $TTL line makes this explicit"],
            Printed(result));
    }

    [Fact]
    public void Ttl_directive_wins_over_the_soa_minimum()
    {
        var records = ReadClean("$TTL 30\n@ SOA ns h 1 2 3 4 5\n@ NS ns\n");

        Assert.Equal([30u, 30u], records.ConvertAll(r => r.Ttl));
    }

    [Fact]
    public void A_record_before_any_ttl_is_an_error_but_the_soa_after_it_still_reads()
    {
        // BIND: "no TTL specified; zone rejected" for the first, "using SOA MINTTL instead" for the second.
        var result = Read("ns A 192.0.2.53\n@ SOA ns h 1 2 3 4 5\n");

        Assert.Equal(
            [
                $"{FileName}:1:1: error: no TTL: give the record a TTL or put a $TTL line before it (RFC 2308 §4)",
                $"{FileName}:2:1: warning: no TTL and no $TTL: using the SOA MINIMUM 5 as the default TTL, as BIND does; add a $TTL line (RFC 2308 §4)",
            ],
            Printed(result));
        Assert.Equal(RecordType.SOA, Assert.Single(result.Records).Type);
    }

    [Fact]
    public void A_ttl_above_31_bits_is_read_as_zero_with_a_warning()
    {
        // RFC 2181 §8: a TTL with the top bit set is to be treated as zero.
        var result = Read("$TTL 4294967295\na A 192.0.2.1\nb 2147483648 A 192.0.2.2\n");

        Assert.False(result.HasErrors);
        Assert.Equal([0u, 0u], result.Records.ConvertAll(r => r.Ttl));
        Assert.Equal(
            [
                $"{FileName}:1:6: warning: TTL 4294967295 is above 2147483647; using 0 as RFC 2181 §8 requires",
                $"{FileName}:3:3: warning: TTL 2147483648 is above 2147483647; using 0 as RFC 2181 §8 requires",
            ],
            Printed(result));
    }

    // ---- $INCLUDE ---------------------------------------------------------------------------------------------------

    [Fact]
    public void Include_reads_a_file_relative_to_the_zone_folder_at_the_current_origin()
    {
        Write("sub/hosts.inc", "www A 192.0.2.1\n  AAAA 2001:db8::1\n");
        string zone = Write("z.zone", """
            $TTL 60
            $ORIGIN example.test.
            $INCLUDE sub/hosts.inc
            after A 192.0.2.2
            """);

        var records = ReadFileClean(zone);

        Assert.Equal(["www.example.test.", "www.example.test.", "after.example.test."], records.ConvertAll(r => r.Owner.ToString()));
        Assert.Equal(new SourceLocation(Path.Combine(_folder, "sub", "hosts.inc"), 2, 3), records[1].Location);
        Assert.Equal(new SourceLocation(zone, 4, 1), records[2].Location);
    }

    [Fact]
    public void Include_with_an_origin_reads_the_file_there_and_the_parent_keeps_its_origin_and_owner()
    {
        // RFC 1035 §5.1: "$INCLUDE <file-name> [<domain-name>]"; the origin argument "does not change the relative
        // origin" of the parent. Neither does a $ORIGIN inside the included file, but its $TTL does, as in BIND.
        Write("hosts.inc", "www A 192.0.2.1\n$ORIGIN elsewhere.test.\n$TTL 99\n");
        string zone = Write("z.zone", """
            $TTL 60
            owner A 192.0.2.9
            $INCLUDE hosts.inc sub
            $INCLUDE "hosts.inc" other.test.
            $INCLUDE hosts.inc @
              A 192.0.2.10
            rel A 192.0.2.11
            """);

        var records = ReadFileClean(zone);

        Assert.Equal(
            [
                ("owner.example.test.", 60u), ("www.sub.example.test.", 60u), ("www.other.test.", 99u),
                ("www.example.test.", 99u), ("owner.example.test.", 99u), ("rel.example.test.", 99u),
            ],
            records.ConvertAll(r => (r.Owner.ToString(), r.Ttl)));
    }

    [Fact]
    public void An_included_file_starts_without_an_owner_to_repeat()
    {
        // Knot refuses this too ("previous owner is invalid"); BIND lends the parent's owner to the included file.
        Write("blank.inc", "  A 192.0.2.7\n");
        string zone = Write("z.zone", "$TTL 60\nowner A 192.0.2.1\n$INCLUDE blank.inc\n");

        var result = ZoneFileReader.ReadFile(zone, Origin);

        Assert.Equal(
            [$"{Path.Combine(_folder, "blank.inc")}:1:3: error: no owner name: a line that starts with a blank repeats the previous owner, and there is none yet (RFC 1035 §5.1)"],
            Printed(result));
    }

    [Fact]
    public void Include_from_zone_text_is_relative_to_the_folder_given()
    {
        Write("hosts.inc", "www A 192.0.2.1\n");

        var result = ZoneFileReader.ReadText("$TTL 60\n$INCLUDE hosts.inc\n", "memory.zone", Origin, _folder);

        Assert.Empty(result.Diagnostics);
        Assert.Equal("www.example.test.", Assert.Single(result.Records).Owner.ToString());
    }

    [Fact]
    public void Include_may_not_leave_the_zone_folder_by_dot_dot_or_an_absolute_path()
    {
        string outside = Path.Combine(Path.GetDirectoryName(_folder)!, Path.GetFileName(_folder) + "-outside.inc");
        File.WriteAllText(outside, "evil A 192.0.2.66\n");
        try
        {
            string zone = Write("zones/z.zone", $"""
                $TTL 60
                $INCLUDE ../z.inc
                $INCLUDE   sub/../../z.inc
                $INCLUDE {outside}
                $INCLUDE ../../{Path.GetFileName(outside)}
                kept A 192.0.2.1
                """);
            Write("z.inc", "evil A 192.0.2.66\n");

            var result = ZoneFileReader.ReadFile(zone, Origin);

            Assert.Equal(
                [
                    $"{zone}:2:10: error: $INCLUDE path '../z.inc' leads outside the zone file's folder",
                    $"{zone}:3:12: error: $INCLUDE path 'sub/../../z.inc' leads outside the zone file's folder",
                    $"{zone}:4:10: error: $INCLUDE needs a path relative to the zone file's folder, got '{outside}'",
                    $"{zone}:5:10: error: $INCLUDE path '../../{Path.GetFileName(outside)}' leads outside the zone file's folder",
                ],
                Printed(result));
            Assert.Equal("kept.example.test.", Assert.Single(result.Records).Owner.ToString());
        }
        finally
        {
            File.Delete(outside);
        }
    }

    [Fact]
    public void Include_may_not_leave_the_zone_folder_through_a_symbolic_link()
    {
        // A regression test: the path was checked as written, so a link in the folder could lead anywhere.
        Write("outside/secret.inc", "evil A 192.0.2.66\n");
        Write("zones/inside.inc", "www A 192.0.2.1\n");
        File.CreateSymbolicLink(Path.Combine(_folder, "zones", "file-link.inc"), "../outside/secret.inc");
        Directory.CreateSymbolicLink(Path.Combine(_folder, "zones", "folder-link"), Path.Combine(_folder, "outside"));
        File.CreateSymbolicLink(Path.Combine(_folder, "zones", "inside-link.inc"), "inside.inc");
        string zone = Write("zones/z.zone", """
            $TTL 60
            $INCLUDE file-link.inc
            $INCLUDE folder-link/secret.inc
            $INCLUDE inside-link.inc
            """);
        string secret = Path.Combine(_folder, "outside", "secret.inc");

        var result = ZoneFileReader.ReadFile(zone, Origin);

        Assert.Equal(
            [
                $"{zone}:2:10: error: $INCLUDE path 'file-link.inc' leads outside the zone file's folder through a symbolic link (to '{secret}')",
                $"{zone}:3:10: error: $INCLUDE path 'folder-link/secret.inc' leads outside the zone file's folder through a symbolic link (to '{secret}')",
            ],
            Printed(result));
        Assert.Equal("www.example.test.", Assert.Single(result.Records).Owner.ToString());
    }

    [Fact]
    public void Include_works_when_the_zone_folder_itself_is_reached_through_a_link()
    {
        Write("real/hosts.inc", "www A 192.0.2.1\n");
        Write("real/z.zone", "$TTL 60\n$INCLUDE hosts.inc\n");
        string linked = Path.Combine(_folder, "linked");
        Directory.CreateSymbolicLink(linked, Path.Combine(_folder, "real"));

        var records = ReadFileClean(Path.Combine(linked, "z.zone"));

        Assert.Equal("www.example.test.", Assert.Single(records).Owner.ToString());
    }

    [Fact]
    public void Include_through_symbolic_links_that_go_round_in_a_loop_is_an_error()
    {
        File.CreateSymbolicLink(Path.Combine(_folder, "loop-a"), "loop-b");
        File.CreateSymbolicLink(Path.Combine(_folder, "loop-b"), "loop-a");
        string zone = Write("z.zone", "$TTL 60\n$INCLUDE loop-a\nkept A 192.0.2.1\n");

        var result = ZoneFileReader.ReadFile(zone, Origin);

        Assert.Equal([$"{zone}:2:10: error: cannot read $INCLUDE file 'loop-a': its symbolic links go round in a loop"], Printed(result));
        Assert.Single(result.Records);
    }

    [Fact]
    public void Include_loops_are_found_and_named()
    {
        Write("a.inc", "$INCLUDE b.inc\n");
        Write("b.inc", "x A 192.0.2.1\n$INCLUDE a.inc\n");
        string zone = Write("z.zone", "$TTL 60\n$INCLUDE a.inc\nself A 192.0.2.9\n$INCLUDE z.zone\n");

        var result = ZoneFileReader.ReadFile(zone, Origin);

        Assert.Equal(
            [
                $"{Path.Combine(_folder, "b.inc")}:2:10: error: $INCLUDE loop: z.zone -> a.inc -> b.inc -> a.inc",
                $"{zone}:4:10: error: $INCLUDE loop: z.zone -> z.zone",
            ],
            Printed(result));
        Assert.Equal(["x.example.test.", "self.example.test."], result.Records.ConvertAll(r => r.Owner.ToString()));
    }

    [Fact]
    public void Include_nesting_is_bounded()
    {
        for (int i = 0; i < 20; i++)
        {
            Write($"n{i}.inc", $"n{i} A 192.0.2.1\n$INCLUDE n{i + 1}.inc\n");
        }
        string zone = Write("z.zone", "$TTL 60\n$INCLUDE n0.inc\n");

        var result = ZoneFileReader.ReadFile(zone, Origin);

        // z.zone includes n0.inc at depth 1, ..., n15.inc at depth 16; n16.inc would be the 17th level.
        var error = Assert.Single(result.Diagnostics);
        Assert.Equal($"{Path.Combine(_folder, "n15.inc")}:2:10: error: $INCLUDE nested more than 16 deep", error.ToString());
        Assert.Equal(16, result.Records.Count);
    }

    [Fact]
    public void Include_of_a_missing_file_is_an_error_at_its_name_and_reading_goes_on()
    {
        string zone = Write("z.zone", "$TTL 60\n$INCLUDE missing.inc\nkept A 192.0.2.1\n");

        var result = ZoneFileReader.ReadFile(zone, Origin);

        var error = Assert.Single(result.Diagnostics);
        Assert.StartsWith($"{zone}:2:10: error: cannot read $INCLUDE file 'missing.inc': ", error.ToString(), StringComparison.Ordinal);
        Assert.Single(result.Records);
    }

    [Fact]
    public void Include_without_a_folder_is_an_error()
    {
        Assert.Equal(
            $"{FileName}:2:1: error: $INCLUDE is not available here: the zone text was not read from a folder",
            SingleError("$TTL 60\n$INCLUDE hosts.inc\n"));
    }

    [Fact]
    public void A_zone_file_that_cannot_be_read_is_one_error()
    {
        string path = Path.Combine(_folder, "nope.zone");

        var result = ZoneFileReader.ReadFile(path, Origin);

        Assert.StartsWith($"{path}:1:1: error: cannot read the zone file: ", Assert.Single(result.Diagnostics).ToString(), StringComparison.Ordinal);
    }

    // ---- $GENERATE --------------------------------------------------------------------------------------------------
    // Expected records are what BIND 9.18 named-checkzone -D makes of the same lines. Knot has no $GENERATE.

    [Fact]
    public void Generate_makes_one_record_per_value_with_dollar_replaced_in_owner_and_rdata()
    {
        var records = ReadClean("$TTL 60\n$GENERATE 1-3 host$ A 192.0.2.$\n");

        Assert.Equal(["host1.example.test.", "host2.example.test.", "host3.example.test."], records.ConvertAll(r => r.Owner.ToString()));
        Assert.Equal(["c0000201", "c0000202", "c0000203"], records.ConvertAll(Hex));
        Assert.All(records, r => Assert.Equal(new SourceLocation(FileName, 2, 1), r.Location));
    }

    [Fact]
    public void Generate_steps_through_the_range()
    {
        var records = ReadClean("$TTL 60\n$GENERATE 0-10/5 step$ A 10.0.0.$\n$GENERATE 7-7 one$ A 10.0.1.$\n");

        Assert.Equal(["step0", "step5", "step10", "one7"], records.ConvertAll(r => r.Owner.ToString().Split('.')[0]));
        Assert.Equal(["0a000000", "0a000005", "0a00000a", "0a000107"], records.ConvertAll(Hex));
    }

    [Theory]
    [InlineData("10-11", "w${0,4,d}", "w0010", "w0011")]
    [InlineData("10-11", "x${0,3,x}", "x00a", "x00b")]
    [InlineData("10-11", "X${250,0,X}", "X104", "X105")]
    [InlineData("10-11", "o${0,4,o}", "o0012", "o0013")]
    [InlineData("1-2", "off${10}", "off11", "off12")]
    [InlineData("1-2", "neg${-5}", "neg-4", "neg-3")]
    [InlineData("1-2", "neg${-5,3}", "neg-04", "neg-03")]
    [InlineData("255-256", "${0,0,n}.nib", "f.f.nib", "0.0.1.nib")]
    [InlineData("1-2", "${0,7,N}.nib", "1.0.0.0.nib", "2.0.0.0.nib")]
    [InlineData("26-27", "${0,3,n}.nib", "a.1.nib", "b.1.nib")]
    [InlineData("1-2", "a$.b$", "a1.b1", "a2.b2")]
    [InlineData("1-2", "dollar$$", "dollar\\$", "dollar\\$")]
    [InlineData("1-2", "esc\\$", "esc\\$", "esc\\$")]
    public void Generate_modifiers_give_offset_width_and_base(string range, string lhs, string first, string second)
    {
        // ${offset[,width[,base]]}: base d, o, x, X, or n/N for reversed nibbles, where the width counts the dots.
        var records = ReadClean($"$TTL 60\n$GENERATE {range} {lhs} A 192.0.2.1\n");

        Assert.Equal([first + ".example.test.", second + ".example.test."], records.ConvertAll(r => r.Owner.ToString()));
    }

    [Fact]
    public void Generate_takes_ttl_class_at_sign_and_a_quoted_rdata_template()
    {
        // A single quoted rhs is read again as RDATA text, as BIND does: "10 mail$" is an MX's two fields.
        var records = ReadClean("""
            $TTL 60
            $GENERATE 3-4 mx$ 300 IN MX "10 mail$"
            $GENERATE 5-5 cn$ IN 301 CNAME target$.example.org.
            $GENERATE 1-1 @ TXT "apex $"
            $GENERATE 1-2 q TXT "cost \$$"
            $GENERATE 1-1 ptr PTR ${0,3,n}.ip6.arpa.
            """);

        Assert.Equal(
            [
                ("mx3.example.test.", 300u, RecordType.MX, "000a" + "056d61696c33" + "076578616d706c650474657374" + "00"),
                ("mx4.example.test.", 300u, RecordType.MX, "000a" + "056d61696c34" + "076578616d706c650474657374" + "00"),
                ("cn5.example.test.", 301u, RecordType.CNAME, "0774617267657435" + "076578616d706c65036f7267" + "00"),
                ("example.test.", 60u, RecordType.TXT, "0461706578" + "0131"),
                ("q.example.test.", 60u, RecordType.TXT, "04636f7374" + "022431"),
                ("q.example.test.", 60u, RecordType.TXT, "04636f7374" + "022432"),
                ("ptr.example.test.", 60u, RecordType.PTR, "0131" + "0130" + "03697036" + "0461727061" + "00"),
            ],
            records.ConvertAll(r => (r.Owner.ToString(), r.Ttl, r.Type, Hex(r))));
    }

    [Fact]
    public void Generate_leaves_the_owner_of_the_next_blank_line_alone()
    {
        var records = ReadClean("$TTL 60\nx A 192.0.2.1\n$GENERATE 1-1 g$ A 10.0.0.1\n  A 192.0.2.2\n");

        Assert.Equal(["x.example.test.", "g1.example.test.", "x.example.test."], records.ConvertAll(r => r.Owner.ToString()));
    }

    private string Write(string relativePath, string text)
    {
        string path = Path.Combine(_folder, relativePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private static List<ZoneRecord> ReadFileClean(string path)
    {
        var result = ZoneFileReader.ReadFile(path, Origin);
        Assert.True(result.Diagnostics.Count == 0, string.Join("\n", result.Diagnostics));
        return result.Records;
    }

    [Fact]
    public void A_file_that_starts_with_a_utf8_byte_order_mark_is_one_clear_error_at_its_first_octet()
    {
        string folder = Directory.CreateTempSubdirectory("anycastdns-bom-").FullName;
        try
        {
            string zone = Path.Combine(folder, "example.test.zone");
            File.WriteAllBytes(zone, [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.ASCII.GetBytes("@ 300 SOA ns1 hostmaster 1 7200 3600 1209600 300\n@ 300 NS ns1\nns1 300 A 192.0.2.1\n")]);
            var result = ZoneFileReader.ReadFile(zone, Origin);
            var error = Assert.Single(result.Diagnostics);
            Assert.Equal($"{zone}:1:1: error: the file starts with a UTF-8 byte-order mark (EF BB BF); a zone file is plain text without one (RFC 1035 §5.1): save it without the BOM", error.ToString());
            Assert.Empty(result.Records);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
