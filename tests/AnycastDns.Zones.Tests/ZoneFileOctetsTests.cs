using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Zones.Tests;

/// <summary>The reader takes a file's octets a block at a time into its text: every octet must come through, in order.</summary>
public sealed class ZoneFileOctetsTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-octets-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void A_file_many_read_blocks_long_reaches_rdata_octet_for_octet()
    {
        // 4,000 TXT records, each a quoted string of 120 raw octets (every value from 0x80 to 0xFF in turn, and
        // printable ASCII): about 0.5 MB, so blocks end in the middle of strings and of lines.
        var file = new MemoryStream();
        void Write(string ascii) => file.Write(System.Text.Encoding.ASCII.GetBytes(ascii));
        Write("$TTL 60\n@ SOA ns h 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n");
        var expected = new List<byte[]>();
        for (int i = 0; i < 4000; i++)
        {
            var octets = new byte[120];
            for (int j = 0; j < octets.Length; j++)
            {
                octets[j] = j % 2 == 0 ? (byte)(0x80 + (i + j) % 128) : (byte)('a' + (i + j) % 26);
            }
            Write($"t{i} TXT \"");
            file.Write(octets);
            Write("\"\n");
            expected.Add([(byte)octets.Length, .. octets]);
        }
        string path = Path.Combine(_folder, "octets.test.zone");
        File.WriteAllBytes(path, file.ToArray());

        var result = ZoneFileReader.ReadFile(path, DnsName.Parse("octets.test."));

        Assert.Empty(result.Diagnostics);
        var txt = result.Records.Where(r => r.Type == RecordType.TXT).ToList();
        Assert.Equal(expected.Count, txt.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i], txt[i].Rdata);
        }
    }
}
