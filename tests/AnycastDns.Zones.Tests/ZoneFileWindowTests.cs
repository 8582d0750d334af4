using System.Text;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Zones.Tests;

/// <summary>
/// A zone file is read a window of whole lines at a time (4 MiB of octets), never as one string. Entries that a
/// window's end cuts (parentheses over several lines), a comment line longer than a window, and the line numbers of
/// errors after several windows must read exactly as the same text read whole from memory.
/// </summary>
public sealed class ZoneFileWindowTests : IDisposable
{
    private const int Window = 4 << 20;

    private static readonly DnsName Origin = DnsName.Parse("win.test.");

    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-windows-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Entries_across_window_ends_read_as_the_whole_text_does()
    {
        var text = new StringBuilder("$TTL 300\n@ SOA ns hostmaster 1 7200 900 1209600 300\n@ NS ns\nns A 192.0.2.53\n");
        int line = 5, n = 0;
        var straddlers = new List<int>();
        // Three window ends (one of them after a comment line longer than a window), each with an entry in parentheses
        // over four lines that starts just before it.
        foreach (int end in new[] { Window, 2 * Window + Window / 2, 4 * Window + Window / 2 })
        {
            while (text.Length < end - 40)
            {
                text.Append($"h{n++} A 10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}\n");
                line++;
            }
            straddlers.Add(line);
            text.Append($"split{end} TXT (\n \"one\"\n \"two\" ; a comment in the entry\n \"three\" )\n");
            line += 4;
            if (straddlers.Count == 2)
            {
                text.Append(';').Append('x', Window + 1000).Append('\n');
                line++;
            }
        }
        text.Append("bad A 192.0.2.300\n");
        int badLine = line;
        text.Append("last A 192.0.2.254\n");
        var path = Path.Combine(_folder, "win.test.zone");
        File.WriteAllText(path, text.ToString(), Encoding.Latin1);

        var fromFile = ZoneFileReader.ReadFile(path, Origin);
        var whole = ZoneFileReader.ReadText(text.ToString(), path, Origin);

        // Exactly one error, at its line, in both.
        Assert.Equal($"{path}:{badLine}:7: error:", Assert.Single(fromFile.Diagnostics).ToString()[..($"{path}:{badLine}:7: error:".Length)]);
        Assert.Equal(whole.Diagnostics.ConvertAll(d => d.ToString()), fromFile.Diagnostics.ConvertAll(d => d.ToString()));
        // The same records, and each straddling TXT whole, with the line it started on.
        Assert.Equal(whole.Records.Count, fromFile.Records.Count);
        for (int i = 0; i < whole.Records.Count; i++)
        {
            Assert.Equal(whole.Records[i], fromFile.Records[i] with { Rdata = whole.Records[i].Rdata });
            Assert.Equal(whole.Records[i].Rdata, fromFile.Records[i].Rdata);
        }
        var txts = fromFile.Records.FindAll(r => r.Type == RecordType.TXT);
        Assert.Equal(3, txts.Count);
        Assert.All(txts, t => Assert.Equal("036f6e650374776f057468726565", Convert.ToHexStringLower(t.Rdata)));
        Assert.Equal(straddlers, txts.ConvertAll(t => t.Location.Line));
        Assert.Equal("last.win.test.", fromFile.Records[^1].Owner.ToString());
    }

    [Fact]
    public void An_unclosed_parenthesis_at_the_end_of_a_long_file_is_reported_where_it_opened()
    {
        var text = new StringBuilder("$TTL 300\n@ SOA ns hostmaster 1 7200 900 1209600 300\n@ NS ns\nns A 192.0.2.53\n");
        int line = 5;
        for (int i = 0; text.Length < Window + Window / 2; i++, line++)
        {
            text.Append($"h{i} A 192.0.2.{i & 255}\n");
        }
        text.Append("open TXT ( \"never closed\"\n more A 192.0.2.1\n");
        var path = Path.Combine(_folder, "win.test.zone");
        File.WriteAllText(path, text.ToString(), Encoding.Latin1);

        var diagnostic = Assert.Single(ZoneFileReader.ReadFile(path, Origin).Diagnostics);
        Assert.StartsWith($"{path}:{line}:10: error: missing ')'", diagnostic.ToString());
    }
}
