using System.Globalization;
using System.Text;
using AnycastDns.Authority.Transfers;
using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Authority.Tests.Transfers;

/// <summary>
/// What the IXFR history keeps (RFC 1995 §4 lets a server forget): at most Transfers:History versions, at most
/// Transfers:HistoryPercent of the zone's size, nothing across a serial that did not increase (RFC 1982), and each
/// kept difference condensed to the version served now.
/// </summary>
public sealed class ZoneHistoryTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-history-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    /// <summary>A 100-host zone at <paramref name="serial"/> whose host <paramref name="changed"/> has another address (0: none).</summary>
    private Zone Version(uint serial, int changed)
    {
        var text = new StringBuilder($"$ORIGIN h.test.\n$TTL 300\n@ SOA ns hm {serial} 1 1 1 1\n@ NS ns\nns A 192.0.2.1\n");
        for (int i = 1; i <= 100; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"h{i} A {(i == changed ? "198.51.100.1" : "192.0.2.2")}\n");
        }
        string path = Path.Combine(_folder, $"h.test.{serial}.{changed}.zone");
        File.WriteAllText(path, text.ToString());
        var result = ZoneLoader.LoadFile(path, DnsName.Parse("h.test."));
        Assert.True(result.Succeeded);
        return result.Zone!;
    }

    private static ZoneChange Updated(Zone before, Zone after) => new(ZoneChangeKind.Updated, after.Origin, after.Source, before, after, []);

    [Fact]
    public void Keeps_the_last_versions_condensed_to_the_current_one_and_no_more_than_asked()
    {
        var history = new ZoneHistory(versions: 2, percent: 100);
        var v1 = Version(1, 0);
        var v2 = Version(2, 5);
        var v3 = Version(3, 6);
        var v4 = Version(4, 6);
        history.Record([Updated(v1, v2)]);
        history.Record([Updated(v2, v3)]);
        var from1 = history.Find(v3, 1)!;
        // 1→3 condensed: h5 changed and changed back cancels; h6 deleted and added.
        Assert.Equal(1, from1.Deleted.Count);
        Assert.Equal(1, from1.Added.Count);
        Assert.Equal("h6.h.test.", DnsName.FromWire(from1.Added.Owner(0)).ToString());
        Assert.Equal(2, history.Find(v3, 2)!.Deleted.Count);
        // Asked from the snapshot of another version (the history a reload behind or ahead): nothing.
        Assert.Null(history.Find(v2, 1));

        history.Record([Updated(v3, v4)]);
        Assert.Equal(2, history.Versions(v4.Origin));
        Assert.Null(history.Find(v4, 1));
        Assert.NotNull(history.Find(v4, 2));
        var from3 = history.Find(v4, 3)!;
        Assert.Equal(0, from3.Deleted.Count + from3.Added.Count);
    }

    [Fact]
    public void A_difference_beyond_the_size_bound_or_a_serial_that_went_back_forgets_the_zone()
    {
        // One changed host is 2 records of ~102: 1 % of the zone keeps nothing, 10 % keeps it.
        var v1 = Version(1, 0);
        var v2 = Version(2, 5);
        var tight = new ZoneHistory(versions: 20, percent: 1);
        tight.Record([Updated(v1, v2)]);
        Assert.Null(tight.Find(v2, 1));
        var history = new ZoneHistory(versions: 20, percent: 10);
        history.Record([Updated(v1, v2)]);
        Assert.NotNull(history.Find(v2, 1));

        // Serial 2 → 1 with other content: serial 1 would name two versions; nothing is kept.
        var back = Version(1, 7);
        history.Record([Updated(v2, back)]);
        Assert.Equal(0, history.Versions(back.Origin));
        Assert.Null(history.Find(back, 2));

        // A zone removed and added again starts with no history.
        history.Record([Updated(v1, v2)]);
        history.Record([new ZoneChange(ZoneChangeKind.Removed, v2.Origin, v2.Source, v2, null, [])]);
        Assert.Equal(0, history.Versions(v2.Origin));
        Assert.Equal(0, new ZoneHistory(versions: 0, percent: 100).Versions(v2.Origin));
    }
}
