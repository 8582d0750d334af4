using AnycastDns.TestSupport;

namespace AnycastDns.Integration.Tests.ReferenceServers;

/// <summary>
/// The zone files are judged by the reference checkers, kzonecheck (Knot, all semantic checks) and
/// nsd-checkzone: the good ones load cleanly in both, each bad one fails for its one reason. This also
/// records how the two differ, for our own checker to be compared with.
/// </summary>
public sealed class ZoneFileCheckTests
{
    private const string Kzonecheck = "/usr/bin/kzonecheck";
    private const string NsdCheckzone = "/usr/sbin/nsd-checkzone";
    private static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(30);

    public static TheoryData<string, string> GoodZones()
    {
        var data = new TheoryData<string, string>();
        foreach (var zone in ZoneFile.FindIn(RepositoryPaths.TestZones).Concat(ZoneFile.FindIn(RepositoryPaths.ExampleZones)))
        {
            data.Add(zone.Origin, zone.Path);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(GoodZones))]
    public async Task Loads_cleanly_in_kzonecheck(string origin, string path)
    {
        ExternalTool.RequireInstalled(Kzonecheck, "knot-dnssecutils");

        var result = await ExternalTool.RunAsync(Kzonecheck, ["-v", "-o", origin, path], CheckTimeout);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal("No semantic error found", result.Output.Trim());
    }

    [Theory]
    [MemberData(nameof(GoodZones))]
    public async Task Loads_cleanly_in_nsd_checkzone(string origin, string path)
    {
        ExternalTool.RequireInstalled(NsdCheckzone, "nsd");

        var result = await ExternalTool.RunAsync(NsdCheckzone, [origin, path], CheckTimeout);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Equal($"zone {origin} is ok", result.Output.Trim());
    }

    [Theory]
    [InlineData("missing-soa.test", "missing SOA at the zone apex")]
    [InlineData("cname-and-other.test", "another record exists beside CNAME")]
    [InlineData("syntax-error.test", "line 9 (invalid number)")]
    public async Task A_bad_zone_fails_kzonecheck(string origin, string message)
    {
        ExternalTool.RequireInstalled(Kzonecheck, "knot-dnssecutils");

        var result = await ExternalTool.RunAsync(Kzonecheck, ["-v", "-o", origin, BadZone(origin)], CheckTimeout);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Kzonecheck_ignores_out_of_zone_data_with_a_warning()
    {
        // Knot drops the record and loads the zone; NSD rejects the file (next test). Our checker picks a side.
        const string origin = "out-of-zone.test";
        ExternalTool.RequireInstalled(Kzonecheck, "knot-dnssecutils");

        var result = await ExternalTool.RunAsync(Kzonecheck, ["-v", "-o", origin, BadZone(origin)], CheckTimeout);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("ignoring out-of-zone data, owner www.elsewhere.test.", result.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing-soa.test", ":8: zone configured as 'missing-soa.test' has no SOA record")]
    [InlineData("cname-and-other.test", ":9: CNAME and other data at the same name")]
    [InlineData("out-of-zone.test", ":8: out of zone data: www.elsewhere.test. is outside the zone")]
    [InlineData("syntax-error.test", ":9: syntax error")]
    public async Task A_bad_zone_fails_nsd_checkzone_at_its_line(string origin, string message)
    {
        ExternalTool.RequireInstalled(NsdCheckzone, "nsd");
        string path = BadZone(origin);

        var result = await ExternalTool.RunAsync(NsdCheckzone, [origin, path], CheckTimeout);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(path + message, result.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_bad_zone_is_checked_above()
    {
        string[] covered = ["cname-and-other.test", "missing-soa.test", "out-of-zone.test", "syntax-error.test"];

        Assert.Equal(covered, ZoneFile.FindIn(RepositoryPaths.BadZones).Select(z => z.Origin));
    }

    private static string BadZone(string origin) => Path.Combine(RepositoryPaths.BadZones, origin + ZoneFile.Extension);
}
