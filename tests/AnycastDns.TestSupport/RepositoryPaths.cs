namespace AnycastDns.TestSupport;

/// <summary>
/// Folders of this repository that tests read: found by walking up from the test assembly to the
/// directory holding AnycastDns.sln, so tests work from any working directory.
/// </summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The directory holding AnycastDns.sln.</summary>
    public static string Root => RootPath.Value;

    /// <summary>tests/zones: the zones of the differential tests, one <c>&lt;origin&gt;.zone</c> file each.</summary>
    public static string TestZones => Path.Combine(Root, "tests", "zones");

    /// <summary>tests/zones/queries.txt: the queries the differential tests ask of every server.</summary>
    public static string TestQueries => Path.Combine(TestZones, "queries.txt");

    /// <summary>tests/zones-bad: zone files that each break one rule, for loader and checker tests.</summary>
    public static string BadZones => Path.Combine(Root, "tests", "zones-bad");

    /// <summary>
    /// tests/zones-zonemd: RFC 8976 Appendix A zones with their ZONEMD records, named <c>&lt;label&gt;.&lt;origin&gt;.txt</c>
    /// (not <c>*.zone</c>, so folder loads leave them alone).
    /// </summary>
    public static string ZonemdZones => Path.Combine(Root, "tests", "zones-zonemd");

    /// <summary>
    /// tests/zones-dnssec: unsigned sources of the DNSSEC test zones (signed in the test setup, see <see cref="SignedZone"/>)
    /// and their queries.txt.
    /// </summary>
    public static string DnssecZones => Path.Combine(Root, "tests", "zones-dnssec");

    /// <summary>zones: the example zones the README serves.</summary>
    public static string ExampleZones => Path.Combine(Root, "zones");

    private static string FindRoot()
    {
        // Bounded by the depth of the path: each step goes one directory up until there is none.
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "AnycastDns.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"AnycastDns.sln not found in {AppContext.BaseDirectory} or any directory above it");
    }
}
