using System.Text;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Zones.Tests;

/// <summary>
/// Under a tight memory limit a load is estimated before it starts from the entries in the file (issue 20): the count
/// must read quotes, escapes, comments and parentheses as the zone file lexer does, or a signed zone written with
/// multi-line signatures would look several times larger than it is and be refused where it fits.
/// </summary>
public sealed class ZoneLoadMemoryTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-loadmemory-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("", 0)]
    [InlineData("\n\n   \n\t\r\n", 0)]
    [InlineData("; only a comment\n   ; another (\n", 0)]
    [InlineData("a A 192.0.2.1", 1)]
    [InlineData("a A 192.0.2.1\nb A 192.0.2.2\n", 2)]
    [InlineData("@ SOA ns h (\n 1 ; serial\n 2 3\n 4 5 )\nns A 192.0.2.1\n", 2)]
    [InlineData("a TXT \"text with ; and ( inside\"\nb A 192.0.2.2\n", 2)]
    [InlineData("a TXT \"escaped \\\" quote ( still text\"\nb A 192.0.2.2\n", 2)]
    [InlineData("a TXT esc\\;aped\nb TXT esc\\(aped\nc A 192.0.2.3\n", 3)]
    [InlineData("a RRSIG A 13 2 300 (\n  20270101000000 20261201000000 1 a.\n  c2lnbmF0dXJl\n  c2lnbmF0dXJl )\nb A 192.0.2.2\n", 2)]
    [InlineData("$TTL 300\n$ORIGIN x.\na A 192.0.2.1\n", 3)]
    [InlineData("a A 192.0.2.1\r\nb A 192.0.2.2\r\n", 2)]
    [InlineData("  A 192.0.2.3\n", 1)]
    public void Entries_are_counted_as_the_lexer_reads_them(string text, long entries)
    {
        Assert.Equal(entries, Count(Encoding.UTF8.GetBytes(text), piece: int.MaxValue));
    }

    [Fact]
    public void The_count_does_not_depend_on_where_the_text_is_cut_into_pieces()
    {
        byte[] text = Encoding.UTF8.GetBytes(
            "$TTL 300\n@ SOA ns h ( 1 2 3\n 4 5 ) ; c\n\"q\\\"(\" TXT \"a;b(\" ( \"c\"\n \"d\" )\n; x ( y\nz A 192.0.2.1\\\n w\nlast A 192.0.2.9");
        long whole = Count(text, piece: int.MaxValue);
        Assert.Equal(6, whole);
        for (int piece = 1; piece < text.Length; piece++)
        {
            Assert.Equal(whole, Count(text, piece));
        }
    }

    [Fact]
    public void A_file_counts_as_many_entries_as_its_zone_has_records_when_each_entry_is_one_record()
    {
        var text = new StringBuilder("$TTL 300\n@ SOA ns hostmaster ( 1 7200\n 900 1209600 300 )\n@ NS ns\nns A 192.0.2.53\n");
        for (int i = 0; i < 5000; i++)
        {
            text.Append("h").Append(i).Append(" TXT \"v=spf1 ; not a comment\" ( \"more\"\n \"and more\" ) ; a comment\n");
        }
        string path = Path.Combine(_folder, "count.test.zone");
        File.WriteAllText(path, text.ToString());

        var load = ZoneLoader.LoadFile(path);

        Assert.True(load.Succeeded);
        Assert.Equal(load.Zone!.RecordCount + 1, ZoneLoadMemory.CountRecords(path)); // + the $TTL line
    }

    [Fact]
    public void An_unreadable_file_counts_as_unknown_and_its_load_says_why()
    {
        string path = Path.Combine(_folder, "missing.test.zone");

        Assert.Equal(-1, ZoneLoadMemory.CountRecords(path));
        var load = ZoneLoader.LoadFile(path, DnsName.Parse("missing.test."));
        Assert.False(load.Succeeded);
        Assert.False(load.RanOutOfMemory);
        Assert.Contains("cannot read", Assert.Single(load.Diagnostics).Message, StringComparison.Ordinal);
    }

    private static long Count(byte[] text, int piece)
    {
        var counter = new ZoneLoadMemory.EntryCounter();
        for (int at = 0; at < text.Length; at += piece)
        {
            counter.Add(text.AsSpan(at, Math.Min(piece, text.Length - at)));
        }
        return counter.Finish();
    }
}
