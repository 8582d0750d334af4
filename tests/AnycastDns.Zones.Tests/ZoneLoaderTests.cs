using AnycastDns.Protocol;
using AnycastDns.Zones;

namespace AnycastDns.Zones.Tests;

public sealed class ZoneLoaderTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("anycastdns-zones-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Each_zone_file_is_a_zone_named_after_the_file_and_bad_zones_stay_out()
    {
        File.WriteAllText(Path.Combine(_folder, "good.test.zone"), "$TTL 60\n@ SOA ns h 7 2 3 4 5\n@ NS ns\nns A 192.0.2.9\n");
        File.WriteAllText(Path.Combine(_folder, "bad.test.zone"), "$TTL 60\n@ SOA ns h 7 2 3 4 5\n@ NS ns\nns A 192.0.2.9\nns CNAME x\n");
        File.WriteAllText(Path.Combine(_folder, "included.inc"), "not a zone\n");

        var load = ZoneLoader.LoadFolder(_folder);

        Assert.Equal(2, load.Results.Count);
        Assert.False(load.AllSucceeded);
        var zone = Assert.Single(load.ZoneSet.Zones);
        Assert.Equal("good.test.", zone.Origin.ToString());
        Assert.Equal(7u, zone.Serial);
        var bad = Assert.Single(load.Results, r => !r.Succeeded);
        Assert.Equal("bad.test.", bad.Origin.ToString());
        Assert.Contains(bad.Diagnostics, d => d.Location.Line == 5 && d.Location.File.EndsWith("bad.test.zone", StringComparison.Ordinal));
    }

    [Fact]
    public void A_missing_folder_is_reported_by_name()
    {
        var e = Assert.Throws<DirectoryNotFoundException>(() => ZoneLoader.LoadFolder(Path.Combine(_folder, "nope")));
        Assert.Contains("nope", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("example.com.zone", "example.com.")]
    [InlineData("Example.COM.zone", "Example.COM.")]
    [InlineData("root.zone", ".")]
    [InlineData("2.0.192.in-addr.arpa.zone", "2.0.192.in-addr.arpa.")]
    public void Origin_comes_from_the_file_name(string file, string origin)
    {
        Assert.True(ZoneLoader.TryOriginFromFileName(file, out var name, out _));
        Assert.Equal(origin, name.ToString());
    }
}
