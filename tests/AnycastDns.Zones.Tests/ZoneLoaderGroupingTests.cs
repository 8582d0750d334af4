using System.Text;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Zones.Tests;

/// <summary>
/// A zone file of a megabyte or more is read on one thread while its records are grouped by owner on another
/// (<see cref="ZoneLoader"/>); smaller ones, and <see cref="ZoneBuilder.Build(DnsName, IReadOnlyList{ZoneRecord}, List{ZoneDiagnostic}, string, ZoneLoadOptions?)"/>,
/// do both in one pass. Both ways must make the same zone, node for node, with the same diagnostics in the same order.
/// </summary>
public sealed class ZoneLoaderGroupingTests : IDisposable
{
    private static readonly DnsName Origin = DnsName.Parse("big.test.");

    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-grouping-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>Over a megabyte: owners two and three labels deep (so empty non-terminals), a wildcard below one, an
    /// owner met again far from its first records, a delegation with glue below an empty non-terminal, MX and NS
    /// targets, a duplicate and a TTL that differs (warnings), and <paramref name="extra"/> at the end.</summary>
    private string WriteZone(string extra)
    {
        var text = new StringBuilder("$TTL 300\n@ SOA ns hostmaster 1 7200 900 1209600 300\n@ NS ns\n@ MX 10 h1.d1.e1\nns A 192.0.2.53\n");
        for (int i = 0; i < 40_000; i++)
        {
            text.Append($"h{i}.d{i % 97}.e{i % 5} A 192.0.{i % 250}.{i % 200}\n");
            if (i % 10 == 0)
            {
                text.Append($"  AAAA 2001:db8::{i:x}\n");
            }
        }
        text.Append("*.d3.e3 TXT \"wild\"\n");
        text.Append("h7.d7.e2 MX 5 h8.d8.e3\n");        // h7.d7.e2 met again, far from its A record
        text.Append("h9.d9.e4 A 192.0.9.9\n");          // a duplicate of its A record: dropped with a warning
        text.Append("h10.d10.e0 600 AAAA 2001:db8::1\n"); // a second TTL in the RRset: a warning
        text.Append("sub.e1 NS ns.deep.sub.e1\nns.deep.sub.e1 A 192.0.2.99\n");
        text.Append(extra);
        var path = Path.Combine(_folder, "big.test.zone");
        File.WriteAllText(path, text.ToString());
        Assert.True(new FileInfo(path).Length > 1 << 20, "the file must be large enough to be grouped while read");
        return path;
    }

    private static (Zone? Zone, List<string> Diagnostics) OnePass(string path)
    {
        var read = ZoneFileReader.ReadFile(path, Origin);
        var diagnostics = new List<ZoneDiagnostic>(read.Diagnostics);
        var zone = read.HasErrors ? null : ZoneBuilder.Build(Origin, read.Records, diagnostics, path);
        return (zone, diagnostics.ConvertAll(d => d.ToString()));
    }

    private static List<string> Describe(Zone zone)
    {
        var lines = new List<string>();
        foreach (var node in zone.Nodes)
        {
            var line = new StringBuilder($"{node.Name} parent={node.Parent?.Name} wildcard={node.WildcardChild?.Name} apex={node.IsApex} "
                + $"cut={node.IsDelegation} occluded={node.IsOccluded} ent={node.IsEmptyNonTerminal}");
            foreach (var rrset in node.RRsets)
            {
                line.Append($" | {rrset.Type} ttl={rrset.Ttl}");
                for (int i = 0; i < rrset.Count; i++)
                {
                    line.Append(' ').Append(Convert.ToHexString(rrset.Rdata(i)));
                }
                foreach (var target in rrset.AdditionalTargets)
                {
                    line.Append(" +").Append(target.Name);
                }
            }
            lines.Add(line.ToString());
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    [Fact]
    public void A_large_file_grouped_while_read_makes_the_same_zone_as_one_pass()
    {
        var path = WriteZone("");

        var (expected, expectedDiagnostics) = OnePass(path);
        var loaded = ZoneLoader.LoadFile(path);

        Assert.NotNull(expected);
        Assert.True(loaded.Succeeded, string.Join('\n', loaded.Diagnostics));
        Assert.Equal(expectedDiagnostics, loaded.Diagnostics.Select(d => d.ToString()));
        Assert.Equal(2, expectedDiagnostics.Count); // the duplicate and the second TTL
        Assert.Equal(expected.NodeCount, loaded.Zone!.NodeCount);
        Assert.Equal(expected.RecordCount, loaded.Zone.RecordCount);
        Assert.Equal(Describe(expected), Describe(loaded.Zone));
        // Spot checks of what the description holds: an empty non-terminal, a wildcard below one, glue below the cut.
        Assert.True(loaded.Zone.Find(DnsName.Parse("d3.e3.big.test."))!.IsEmptyNonTerminal);
        Assert.NotNull(loaded.Zone.Find(DnsName.Parse("d3.e3.big.test."))!.WildcardChild);
        Assert.True(loaded.Zone.Find(DnsName.Parse("deep.sub.e1.big.test."))!.IsOccluded);
    }

    [Fact]
    public void Errors_found_while_grouping_come_after_the_reader_s_and_keep_the_zone_out_as_in_one_pass()
    {
        var path = WriteZone("outside.example. A 192.0.2.1\nh1.d1.e1 A 192.0.2.7\n");

        var (expected, expectedDiagnostics) = OnePass(path);
        var loaded = ZoneLoader.LoadFile(path);

        Assert.Null(expected);
        Assert.False(loaded.Succeeded);
        Assert.Equal(expectedDiagnostics, loaded.Diagnostics.Select(d => d.ToString()));
        Assert.Contains(loaded.Diagnostics, d => d.Severity == Severity.Error && d.Message.Contains("outside the zone", StringComparison.Ordinal));
    }

    [Fact]
    public void A_large_file_with_syntax_errors_reports_them_and_loads_nothing()
    {
        var path = WriteZone("h1.d1.e1 A 300.1.2.3\n");

        var loaded = ZoneLoader.LoadFile(path);

        Assert.False(loaded.Succeeded);
        var error = Assert.Single(loaded.Diagnostics, d => d.Severity == Severity.Error);
        Assert.Contains("big.test.zone:", error.ToString(), StringComparison.Ordinal);
    }
}
